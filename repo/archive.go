package repo

import (
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"bangui/models"
)

// The dialect-neutral parts of BanGUI's history archive: which
// implementation a database gets, what an archived event may hold, and the
// keys and orders of the cached counts. The sync from fail2ban is in
// archive_sync.go, the result cache in resultcache.go; the SQL of each
// dialect in archive_<dialect>*.go.

// Archive actions.
const (
	ActionBan   = "ban"
	ActionUnban = "unban"
)

// AnyCountry asks PageOfCountry for the events of every country.
const AnyCountry = "*"

// NewHistoryArchive returns the archive on BanGUI's own database db (from
// Open), in the implementation for db's dialect. It panics for a dialect
// without one, which Open never returns.
func NewHistoryArchive(db *bun.DB) HistoryArchive {
	switch d := db.Dialect().Name(); d {
	case dialect.SQLite:
		return newSQLiteArchive(db)
	case dialect.PG:
		return newPostgresArchive(db)
	default:
		panic(fmt.Sprintf("repo: no history archive for the %s dialect", d))
	}
}

// normalizeEvents checks events before anything is written and returns
// them as they are stored: an empty Host is models.LocalHost (the panel's
// own bans and unbans are recorded without one), an empty Action is a ban,
// an empty Origin is derived from the jail, empty Data is {}.
func normalizeEvents(events []models.ArchivedBan) ([]models.ArchivedBan, error) {
	out := make([]models.ArchivedBan, len(events))
	for i, e := range events {
		switch e.Action {
		case "":
			e.Action = ActionBan
		case ActionBan, ActionUnban:
		default:
			return nil, fmt.Errorf("repo: archive: unknown action %q", e.Action)
		}
		switch models.Origin(e.Origin) {
		case models.OriginAll:
			e.Origin = string(originOfJail(e.Jail))
		case models.OriginBlocklist, models.OriginSelfblock, models.OriginManual:
		default:
			return nil, fmt.Errorf("repo: archive: unknown origin %q", e.Origin)
		}
		if e.Data == "" {
			e.Data = "{}"
		}
		if e.Host == "" {
			e.Host = models.LocalHost
		}
		out[i] = e
	}
	return out, nil
}

// jailCounts is a cached answer of CountsByJail.
type jailCounts struct {
	total  int64
	counts []models.JailCount
}

// cacheKey names a cached result: the kind of statement, the filter
// without its window start (the cache compares that itself) and any
// further parameters.
func cacheKey(kind string, f models.HistoryFilter, more ...any) string {
	return fmt.Sprintf("%s|%t|%q|%q|%q|%q|%q|%v", kind, f.Since.IsZero(), f.Host, f.Jail, f.IPPrefix, f.Origin, f.Action, more)
}

// sortCountryCounts orders counts per country biggest first, ties by code.
func sortCountryCounts(cs []models.CountryCount) {
	// insertion sort is plenty for ~250 countries and keeps ties by code
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].Count > cs[j-1].Count || cs[j].Count == cs[j-1].Count && cs[j].Code < cs[j-1].Code); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
