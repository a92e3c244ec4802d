// Package models holds BanGUI's bun table models and plain domain types.
// It imports nothing from the web or storage layers beyond bun's struct tags.
package models

import "github.com/uptrace/bun"

// Setting is one key/value row of the settings table.
type Setting struct {
	bun.BaseModel `bun:"table:settings"`
	Key           string `bun:"key,pk"`
	Value         string `bun:"value,notnull"`
}

// Session is a stored web session. Token is the SHA-256 (hex) of the token
// the browser holds, so a leaked database does not leak live sessions.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`
	Token         string `bun:"token,pk"`
	Data          []byte `bun:"data,notnull"`
	Expiry        int64  `bun:"expiry,notnull"`   // unix seconds
	UserID        int64  `bun:"user_id,nullzero"` // the account logged in; 0 (NULL) for none
}

// BlocklistSource is a remote list of IPs to import.
type BlocklistSource struct {
	bun.BaseModel `bun:"table:blocklist_sources"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name,notnull"`
	URL           string `bun:"url,notnull"`
	Enabled       bool   `bun:"enabled,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"`
	UpdatedAt     int64  `bun:"updated_at,notnull"`
	// Hosts are the hosts its imports ban on (migration
	// 20261208120000).
	Hosts HostTargets `bun:"target_hosts,notnull"`
}

// ImportLog records the outcome of importing one source once.
type ImportLog struct {
	bun.BaseModel `bun:"table:import_log"`
	ID            int64   `bun:"id,pk,autoincrement"`
	SourceID      *int64  `bun:"source_id"`
	SourceURL     string  `bun:"source_url,notnull"`
	Timestamp     int64   `bun:"timestamp,notnull"`
	IPsImported   int64   `bun:"ips_imported,notnull"`
	IPsSkipped    int64   `bun:"ips_skipped,notnull"`
	Errors        *string `bun:"errors"`
	// Added for blocklist imports (migration 20261128151700).
	SourceName       string        `bun:"source_name,notnull"`        // kept when the source is deleted
	StartedBy        ImportTrigger `bun:"started_by,notnull"`         // manual, schedule or resume
	Batch            int64         `bun:"batch,notnull"`              // start of the run (unix ns), shared by its sources
	IPsAlreadyBanned int64         `bun:"ips_already_banned,notnull"` // listed but banned before
	// Host is the host the entry's bans went to (migration 20261208120000).
	Host string `bun:"host,notnull"`
}

// ImportRunState is the state of an idempotent import run.
type ImportRunState string

// Import run states.
const (
	ImportPending   ImportRunState = "pending"
	ImportCompleted ImportRunState = "completed"
	ImportFailed    ImportRunState = "failed"
)

// ImportRun tracks one import of one source's content, identified by its hash.
type ImportRun struct {
	bun.BaseModel `bun:"table:import_runs"`
	ID            int64          `bun:"id,pk,autoincrement"`
	SourceID      int64          `bun:"source_id,notnull"`
	ContentHash   string         `bun:"content_hash,notnull"`
	Host          string         `bun:"host,notnull"` // the host it bans on (migration 20261208120000)
	State         ImportRunState `bun:"state,notnull"`
	ImportedCount int64          `bun:"imported_count,notnull"`
	SkippedCount  int64          `bun:"skipped_count,notnull"`
	Error         *string        `bun:"error"`
	CreatedAt     int64          `bun:"created_at,notnull"`
	UpdatedAt     int64          `bun:"updated_at,notnull"`
	// Added for resumable imports (migration 20261128151700).
	Total         int64 `bun:"total,notnull"`          // addresses to ban
	Done          int64 `bun:"done,notnull"`           // addresses handled so far, in list order
	AlreadyBanned int64 `bun:"already_banned,notnull"` // of those, banned before
}

// GeoCacheEntry is a cached geo lookup. A nil CountryCode marks a failed lookup.
type GeoCacheEntry struct {
	bun.BaseModel `bun:"table:geo_cache"`
	IP            string  `bun:"ip,pk"`
	CountryCode   *string `bun:"country_code"`
	CountryName   *string `bun:"country_name"`
	ASN           *string `bun:"asn"`
	Org           *string `bun:"org"`
	CachedAt      int64   `bun:"cached_at,notnull"`
	LastSeen      int64   `bun:"last_seen,notnull"`
}

// ArchivedBan is one ban (or unban) event kept in BanGUI's own archive,
// which outlives fail2ban's purge and manual unbans.
type ArchivedBan struct {
	bun.BaseModel `bun:"table:history_archive"`
	ID            int64   `bun:"id,pk,autoincrement"`
	Host          string  `bun:"host,notnull"` // the fail2ban host's id; empty when archiving means LocalHost
	Jail          string  `bun:"jail,notnull"`
	IP            string  `bun:"ip,notnull"`
	TimeOfBan     int64   `bun:"timeofban,notnull"`
	BanTime       int64   `bun:"bantime,notnull"`
	BanCount      int64   `bun:"bancount,notnull"`
	Data          string  `bun:"data,notnull"`
	Action        string  `bun:"action,notnull"` // "ban" or "unban"
	Origin        string  `bun:"origin,notnull"` // selfblock, blocklist, manual
	CountryCode   *string `bun:"country_code"`
	Failures      int64   `bun:"failures,notnull"`
}

// Lease is the database lease of one piece of work that must run once
// across panel processes sharing the database (an archive sync, the
// scheduled blocklist import, the geo fill). Holder names the process that
// holds it; the lease is free again once ExpiresAt has passed. Its alias
// is its table name so that the upsert's WHERE names the same table on
// SQLite and on PostgreSQL (which aliases the target of INSERT).
type Lease struct {
	bun.BaseModel `bun:"table:leases,alias:leases"`
	Name          string `bun:"name,pk"`
	Holder        string `bun:"holder,notnull"`
	ExpiresAt     int64  `bun:"expires_at,notnull"` // unix milliseconds
}
