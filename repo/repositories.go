package repo

import (
	"context"
	"time"

	"bangui/models"
)

// The interfaces below are the Go form of the original BanGUI's repository
// protocols. Services depend on them; the types in this package implement
// them on bun (the archive once per dialect). Every method takes the
// request's context first.

// Sessions persists web sessions (see SessionStore).
type Sessions interface {
	FindCtx(ctx context.Context, token string) (data []byte, found bool, err error)
	CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error
	DeleteCtx(ctx context.Context, token string) error
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Settings persists the panel's key/value settings (see SettingsStore).
type Settings interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
	All(ctx context.Context) (map[string]string, error)
	SetMany(ctx context.Context, values map[string]string) error
	// SetManyOnce stores values in one transaction unless guard is set
	// already, and says whether it stored them.
	SetManyOnce(ctx context.Context, guard string, values map[string]string) (stored bool, err error)
}

// Blocklists persists blocklist sources.
type Blocklists interface {
	Create(ctx context.Context, name, url string, enabled bool) (int64, error)
	Get(ctx context.Context, id int64) (models.BlocklistSource, error)
	List(ctx context.Context) ([]models.BlocklistSource, error)
	ListEnabled(ctx context.Context) ([]models.BlocklistSource, error)
	Update(ctx context.Context, src models.BlocklistSource) error
	Delete(ctx context.Context, id int64) error
}

// ImportLogs persists the outcome of each import.
type ImportLogs interface {
	Add(ctx context.Context, entry models.ImportLog) (int64, error)
	List(ctx context.Context, sourceID *int64, page models.Page) ([]models.ImportLog, int64, error)
	Last(ctx context.Context) (models.ImportLog, error)
	// LastBatch returns the entries of the newest run started by by.
	LastBatch(ctx context.Context, by models.ImportTrigger) ([]models.ImportLog, error)
}

// ImportRuns tracks imports by source, host and content hash so re-runs are
// idempotent, and keeps a pending run's addresses and progress so that an
// interrupted run resumes where it stopped.
type ImportRuns interface {
	BySourceAndHash(ctx context.Context, sourceID int64, host, contentHash string) (models.ImportRun, error)
	Get(ctx context.Context, runID int64) (models.ImportRun, error)
	CreatePending(ctx context.Context, sourceID int64, host, contentHash string, targets []string, skipped int64) (int64, error)
	Restart(ctx context.Context, runID int64, targets []string, skipped int64) error
	Reopen(ctx context.Context, runID int64) error
	Targets(ctx context.Context, runID int64) ([]string, error)
	Advance(ctx context.Context, runID, done, imported, alreadyBanned int64) error
	MarkCompleted(ctx context.Context, runID, imported, skipped int64) error
	MarkFailed(ctx context.Context, runID int64, message string) error
	Pending(ctx context.Context) ([]models.ImportRun, error)
	SupersedeOthers(ctx context.Context, sourceID int64, host string, keep int64, message string) error
}

// GeoCache persists geo lookups, including failed ones (nil country).
// Lookups read it (Get); only background jobs write (Upsert, DeleteUnseenSince).
type GeoCache interface {
	Get(ctx context.Context, ips []string) ([]models.GeoCacheEntry, error)
	Unresolved(ctx context.Context) ([]string, error)
	CountUnresolved(ctx context.Context) (int64, error)
	Upsert(ctx context.Context, entries []models.GeoCacheEntry) (int64, error)
	DeleteUnseenSince(ctx context.Context, cutoff time.Time) (int64, error)
}

// BanSource is a read-only view of ban events that the dashboard, map and
// history pages query without caring where the events live: fail2ban's own
// database (Fail2BanDBReader) or BanGUI's archive (HistoryArchive).
// Filter fields left zero match everything. The archive holds the events of
// every fail2ban host: it filters by f.Host (empty: every host) and names
// each event's host in BanRecord.Host. fail2ban's reader is one host's
// database: it ignores f.Host and leaves BanRecord.Host empty for the
// caller, who knows the host, to fill in.
type BanSource interface {
	// Summary describes the source as a whole: events, oldest and newest.
	Summary(ctx context.Context) (models.BansSummary, error)
	// Bans returns one page of events matching f, newest first, and how many match in all.
	Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error)
	// CountsByBucket counts events in buckets consecutive windows of length bucket ending now, oldest first.
	CountsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error)
	// CountsByIP counts events per IP, most frequent first.
	CountsByIP(ctx context.Context, f models.HistoryFilter) ([]models.IPCount, error)
	// CountsByJail counts events in all and per jail, biggest first.
	CountsByJail(ctx context.Context, f models.HistoryFilter) (total int64, perJail []models.JailCount, err error)
	// HistoryOfIP returns every event of one IP, newest first.
	HistoryOfIP(ctx context.Context, ip string) ([]models.BanRecord, error)
}

// HistoryArchive keeps every ban event BanGUI has seen, beyond fail2ban's
// purge and manual unbans. NewHistoryArchive returns the implementation for
// a database's dialect; each answers the same tests.
type HistoryArchive interface {
	BanSource
	// Archive stores events and returns how many were new: an event already
	// archived is skipped. An empty Action is a ban, an empty Origin is
	// derived from the jail, empty Data is {}.
	Archive(ctx context.Context, events []models.ArchivedBan) (inserted int64, err error)
	// MaxTimeOfBan returns the newest event's time; ok is false when the archive is empty.
	MaxTimeOfBan(ctx context.Context) (t time.Time, ok bool, err error)
	// Purge deletes events older than olderThan and returns how many went.
	Purge(ctx context.Context, olderThan time.Time) (int64, error)
	// MergeManualBans folds the panel's record of a manual ban into
	// fail2ban's row of it, for rows since since, and returns how many pairs it merged.
	MergeManualBans(ctx context.Context, since time.Time) (int64, error)

	// IPTotals counts ip's bans (not unbans) on host ("" for every host)
	// stamped after after (zero: all).
	IPTotals(ctx context.Context, host, ip string, after time.Time) (IPTotals, error)
	// RecentOfIP returns ip's newest limit events on host ("" for every
	// host), newest first.
	RecentOfIP(ctx context.Context, host, ip string, limit int) ([]models.BanRecord, error)

	// CountsByCountry counts the events matching f per country, biggest
	// first; events without a known country come last under Code "".
	CountsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error)
	// BansOfCountry returns one page of the events matching f from one
	// country ("" for unknown), newest first, and how many match in all.
	BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error)
	// PageOfCountry is BansOfCountry for a caller that knows the total
	// (country may also be AnyCountry); it counts nothing itself.
	PageOfCountry(ctx context.Context, f models.HistoryFilter, country string, total int64, page models.Page) ([]models.BanRecord, error)

	// IPsWithoutCountry returns up to limit distinct addresses whose events
	// have no country yet, in address order.
	IPsWithoutCountry(ctx context.Context, limit int) ([]string, error)
	// SetCountries stores each address's country ("" for none found) on its
	// events that have none yet and returns how many events it updated.
	SetCountries(ctx context.Context, countries map[string]string) (int64, error)
	// ResetUnknownCountries marks the events looked up without a country as
	// not looked up, and returns how many.
	ResetUnknownCountries(ctx context.Context) (int64, error)
	// CountWithoutCountry counts the events not looked up yet.
	CountWithoutCountry(ctx context.Context) (int64, error)
}

// BanRowSource is what the archive sync reads of one host's fail2ban
// database: raw rows of its bans table by rowid. The local host reads the
// file (Fail2BanDBReader); a remote host will answer the same over its agent.
type BanRowSource interface {
	// NewRowsSince returns up to limit rows with a rowid above afterRowID, in rowid order.
	NewRowsSince(ctx context.Context, afterRowID int64, limit int) ([]F2BRow, error)
	// RowsAtOrAfter returns up to limit rows with timeofban >= since and a
	// rowid in (afterRowID, maxRowID], in rowid order.
	RowsAtOrAfter(ctx context.Context, since, afterRowID, maxRowID int64, limit int) ([]F2BRow, error)
	// RowByID returns the row with the given rowid; found is false when there is none.
	RowByID(ctx context.Context, rowid int64) (row F2BRow, found bool, err error)
	// LastRowAtOrBelow returns the row with the highest rowid <= rowid; found is false when there is none.
	LastRowAtOrBelow(ctx context.Context, rowid int64) (row F2BRow, found bool, err error)
	// MaxRowID is the highest rowid in bans, 0 when it is empty.
	MaxRowID(ctx context.Context) (int64, error)
}

// Fail2BanDB reads fail2ban's own database, read-only.
type Fail2BanDB interface {
	BanSource
	BanRowSource
	Close() error
}

// Compile-time checks that the implementations satisfy their interfaces.
var (
	_ Sessions = (*SessionStore)(nil)
	_ Settings = (*SettingsStore)(nil)
	_ GeoCache = (*GeoCacheStore)(nil)

	_ Blocklists = (*BlocklistStore)(nil)
	_ ImportLogs = (*ImportLogStore)(nil)
	_ ImportRuns = (*ImportRunStore)(nil)

	_ Fail2BanDB     = (*Fail2BanDBReader)(nil)
	_ HistoryArchive = (*sqliteArchive)(nil)
	_ HistoryArchive = (*postgresArchive)(nil)
)

// Hosts persists the enrolled remote hosts, credentials included (see
// HostStore). Only the fleet service reads them.
type Hosts interface {
	Create(ctx context.Context, h models.RemoteHost) error
	Get(ctx context.Context, id string) (models.RemoteHost, error)
	List(ctx context.Context) ([]models.RemoteHost, error)
	SetName(ctx context.Context, id, name string) error
	SetEnabled(ctx context.Context, id string, enabled bool) error
	SetFingerprint(ctx context.Context, id, fingerprint string) error
	Delete(ctx context.Context, id string) error
}

// AuditLog is the append-only record of every state change. Nothing
// updates or deletes an entry but retention.
type AuditLog interface {
	// Record appends one entry.
	Record(ctx context.Context, e models.AuditEntry) error
	// List returns one page of the entries matching f, newest first, and how many match.
	List(ctx context.Context, f models.AuditFilter, page models.Page) ([]models.AuditEntry, int64, error)
	// Count returns how many entries match f.
	Count(ctx context.Context, f models.AuditFilter) (int64, error)
	// Each calls fn with every entry matching f, newest first (for exports).
	Each(ctx context.Context, f models.AuditFilter, fn func(models.AuditEntry) error) error
	// DeleteOlderThan deletes the entries stamped before cutoff (unix
	// seconds): retention, the one way an entry goes.
	DeleteOlderThan(ctx context.Context, cutoff int64) (int64, error)
}

var _ AuditLog = (*AuditStore)(nil)
