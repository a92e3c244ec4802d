package models

import (
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// AllowEntry is one row of allow_entries: an allow-list entry BanGUI wrote
// on a host, with why, who and until when.
type AllowEntry struct {
	bun.BaseModel `bun:"table:allow_entries"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Host          string `bun:"host,notnull"`
	Address       string `bun:"address,notnull"` // canonical: see fail2ban.ParseIgnoreEntry
	Jails         string `bun:"jails,notnull"`   // space separated, sorted; "" means every jail
	Note          string `bun:"note,notnull"`
	CreatedBy     string `bun:"created_by,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"` // unix seconds
	ExpiresAt     int64  `bun:"expires_at,notnull"` // unix seconds; 0: never
}

// JailList is the jails the entry holds in; nil means every jail.
func (e AllowEntry) JailList() []string { return strings.Fields(e.Jails) }

// Covers reports whether the entry holds in jail.
func (e AllowEntry) Covers(jail string) bool {
	if e.Jails == "" {
		return true
	}
	for _, j := range strings.Fields(e.Jails) {
		if j == jail {
			return true
		}
	}
	return false
}

// AllowItem is one entry of the allow-list page: one BanGUI wrote (ID set,
// with note, who, when and expiry), one written in a configuration file
// BanGUI did not write (File and Line, read-only), or one only the running
// jail has (Live, lost at the next reload).
type AllowItem struct {
	ID        int64 // the allow_entries row; 0 for read-only entries
	Host      string
	Address   string
	Jails     []string // nil: every jail
	Note      string
	AddedBy   string
	AddedAt   time.Time // zero when unknown
	ExpiresAt time.Time // zero: never
	File      string    // read-only entries: the file that holds them
	Line      int
	Live      bool // only in the running jails, not in any file
	Applied   bool // every running jail it covers has it now
}

// ReadOnly reports whether the page may not remove the entry.
func (i AllowItem) ReadOnly() bool { return i.ID == 0 }

// TimeLeft is how long the entry has left at now (0 when it never ends or
// has ended).
func (i AllowItem) TimeLeft(now time.Time) time.Duration {
	if i.ExpiresAt.IsZero() || !i.ExpiresAt.After(now) {
		return 0
	}
	return i.ExpiresAt.Sub(now)
}

// AllowScope names the jails an entry holds in, for pages and messages.
func AllowScope(jails []string) string {
	if len(jails) == 0 {
		return "every jail"
	}
	return strings.Join(jails, ", ")
}
