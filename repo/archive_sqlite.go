package repo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/bandata"
	"bangui/repo/sqlkit"
)

// sqliteArchive is HistoryArchive on SQLite: every ban and unban event
// BanGUI has seen, in its own history_archive table, beyond fail2ban's
// purge and manual unbans. It reads and writes through the *sql.DB under
// the bun handle so that every value travels as a bound parameter, and
// shapes its statements for SQLite's planner: INSERT OR IGNORE on the
// unique key, INDEXED BY and unary + to choose indexes, partial indexes of
// the ban events, and a change counter kept by triggers
// (history_archive_version) for the result cache.
type sqliteArchive struct {
	cachedCounts // the counts of HistoryArchive, through cache
	db           *bun.DB
	sql          *sql.DB
	now          func() time.Time
	// trace, when set (tests), sees every read statement before it runs.
	trace func(query string, args []any)
	// cache shares the results of the counts between requests while the
	// database is unchanged (see resultCache).
	cache *resultCache
}

// newSQLiteArchive returns the archive on BanGUI's own SQLite database.
func newSQLiteArchive(db *bun.DB) *sqliteArchive {
	s := &sqliteArchive{db: db, sql: db.DB, now: time.Now}
	s.cache = newResultCache(s.version)
	s.cachedCounts = cachedCounts{cache: s.cache, counter: s}
	return s
}

func (s *sqliteArchive) clock() time.Time { return s.now() }

// version returns the archive's change counter, which triggers raise on
// every insert, update and delete of history_archive, whoever makes it.
func (s *sqliteArchive) version(ctx context.Context) (int64, error) {
	var v int64
	err := s.sql.QueryRowContext(ctx, `SELECT n FROM history_archive_version`).Scan(&v)
	return v, err
}

func (s *sqliteArchive) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.trace != nil {
		s.trace(q, args)
	}
	return s.sql.QueryContext(ctx, q, args...)
}

func (s *sqliteArchive) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s.trace != nil {
		s.trace(q, args)
	}
	return s.sql.QueryRowContext(ctx, q, args...)
}

// archiveChunk rows go into one INSERT (11 parameters each, far below
// SQLite's 32766).
const archiveChunk = 500

const archiveInsertColumns = `host, jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures`

func archiveInsertSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT OR IGNORE INTO history_archive (` + archiveInsertColumns + `) VALUES `)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?,?,?,?,?,?,?,?,?,?,?)`)
	}
	return sb.String()
}

// Archive stores events in one transaction with multi-row INSERT OR IGNORE
// statements and returns how many were new: an event already archived (same
// host, ip, jail, action and timeofban) is skipped, so archiving twice is
// harmless. Events are checked and completed by normalizeEvents; ID is
// ignored.
func (s *sqliteArchive) Archive(ctx context.Context, events []models.ArchivedBan) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	events, err := normalizeEvents(events)
	if err != nil {
		return 0, err
	}
	args := make([]any, 0, 11*min(len(events), archiveChunk))
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("repo: archive: begin: %w", dbError(err))
	}
	defer tx.Rollback()
	var full *sql.Stmt
	var inserted int64
	for start := 0; start < len(events); start += archiveChunk {
		chunk := events[start:min(start+archiveChunk, len(events))]
		args = args[:0]
		for _, e := range chunk {
			var country any
			if e.CountryCode != nil {
				country = *e.CountryCode
			}
			args = append(args, e.Host, e.Jail, e.IP, e.TimeOfBan, e.BanTime, e.BanCount, e.Data, e.Action, e.Origin, country, e.Failures)
		}
		var res sql.Result
		if len(chunk) == archiveChunk {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, archiveInsertSQL(archiveChunk)); err != nil {
					return 0, fmt.Errorf("repo: archive: prepare: %w", dbError(err))
				}
				defer full.Close()
			}
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, archiveInsertSQL(len(chunk)), args...)
		}
		if err != nil {
			return 0, fmt.Errorf("repo: archive: insert: %w", dbError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("repo: archive: %w", dbError(err))
		}
		inserted += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("repo: archive: commit: %w", dbError(err))
	}
	return inserted, nil
}

// MaxTimeOfBan returns the newest archived event time; ok is false when the
// archive is empty.
func (s *sqliteArchive) MaxTimeOfBan(ctx context.Context) (time.Time, bool, error) {
	var t sql.NullInt64
	if err := s.queryRow(ctx, `SELECT max(timeofban) FROM history_archive`).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("repo: archive max time: %w", dbError(err))
	}
	if !t.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(t.Int64, 0), true, nil
}

// purgeBatch rows are deleted per statement so the write lock is never held long.
const purgeBatch = 10000

// Purge deletes events older than olderThan and returns how many went.
func (s *sqliteArchive) Purge(ctx context.Context, olderThan time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.sql.ExecContext(ctx, `DELETE FROM history_archive WHERE id IN (
			SELECT id FROM history_archive WHERE timeofban < ? LIMIT ?)`, olderThan.Unix(), purgeBatch)
		if err != nil {
			return total, fmt.Errorf("repo: archive purge: %w", dbError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("repo: archive purge: %w", dbError(err))
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

const archiveColumns = `jail, ip, timeofban, bantime, bancount, data, origin, country_code, failures, action, host`

func (s *sqliteArchive) count(ctx context.Context, what, q string, args ...any) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive %s: %w", what, dbError(err))
	}
	return n, nil
}

func (s *sqliteArchive) records(ctx context.Context, q string, args ...any) ([]models.BanRecord, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.BanRecord
	for rows.Next() {
		var rec models.BanRecord
		var t int64
		var data, origin string
		var country sql.NullString
		if err := rows.Scan(&rec.Jail, &rec.IP, &t, &rec.BanTime, &rec.BanCount, &data, &origin, &country, &rec.Failures, &rec.Action, &rec.Host); err != nil {
			return nil, err
		}
		rec.TimeOfBan = time.Unix(t, 0)
		_, rec.Matches = bandata.Decode(data)
		rec.Origin = models.Origin(origin)
		rec.Country = country.String
		out = append(out, rec)
	}
	return out, rows.Err()
}

// HistoryOfIP returns every archived event of one IP (exact match), newest first.
func (s *sqliteArchive) HistoryOfIP(ctx context.Context, ip string) ([]models.BanRecord, error) {
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive WHERE ip = ? ORDER BY timeofban DESC, id DESC`, ip)
	if err != nil {
		return nil, fmt.Errorf("repo: archive history of IP: %w", dbError(err))
	}
	return out, nil
}

// Summary describes the archive: events, oldest and newest event.
func (s *sqliteArchive) Summary(ctx context.Context) (models.BansSummary, error) {
	var sum models.BansSummary
	var lo, hi sql.NullInt64
	err := s.queryRow(ctx, `SELECT (SELECT count(*) FROM history_archive),
		(SELECT min(timeofban) FROM history_archive), (SELECT max(timeofban) FROM history_archive)`).Scan(&sum.Rows, &lo, &hi)
	if err != nil {
		return sum, fmt.Errorf("repo: archive summary: %w", dbError(err))
	}
	if lo.Valid {
		sum.Oldest = time.Unix(lo.Int64, 0)
	}
	if hi.Valid {
		sum.Newest = time.Unix(hi.Int64, 0)
	}
	return sum, nil
}

// manualTwinWindow is how far apart, in seconds, the panel's record of a
// manual ban and fail2ban's own row of the same ban may be stamped.
const manualTwinWindow = 5

// manualTwins selects the ids of fail2ban's rows (ban events not yet
// manual, stamped since the fourth argument) that have a twin among the
// panel's records of manual bans (stamped since the third argument, the
// window earlier): same host, jail and address, stamped at most the
// window (first and second arguments) apart. Both dialects run it;
// indexedBy is SQLite's index hint for fail2ban's rows, "" for none.
func manualTwins(indexedBy string) string {
	return `SELECT f.id FROM history_archive AS m JOIN history_archive AS f` + indexedBy + `
	ON f.host = m.host AND f.ip = m.ip AND f.jail = m.jail AND f.action = 'ban' AND f.origin <> 'manual'
	AND f.timeofban BETWEEN m.timeofban - ? AND m.timeofban + ?
	WHERE m.action = 'ban' AND m.origin = 'manual' AND m.timeofban >= ? AND f.timeofban >= ?`
}

// MergeManualBans folds together the two archive rows a ban made from the
// panel leaves: the panel's own record (origin manual, stamped with our
// clock) and fail2ban's row copied by the sync (origin derived from the
// jail, stamped with fail2ban's clock), both of one host. fail2ban's row
// is kept, marked manual, and the panel's record is deleted. Only rows since since are
// examined. It returns how many pairs were merged.
//
// It runs after every archive sync and holds the write lock while it runs,
// so both statements start from the few manual bans
// (history_archive_origin_action_time) and find each one's twins by
// address and time (history_archive_ip_time, named: SQLite's own choice of
// jail and time, or host and time, meets every ban of a burst — a
// fleet-wide ban of many addresses, a blocklist import — for each manual
// ban of it). Its cost follows the panel's manual bans, not every ban of
// every host in the window: starting from those took 0.3 s at 100,000 bans
// of 20 hosts, the DELETE's own choice 0.9 s after 100 fleet-wide bans
// within a minute, and each held a fleet-wide ban's 21 writes as long.
func (s *sqliteArchive) MergeManualBans(ctx context.Context, since time.Time) (int64, error) {
	var merged int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE history_archive AS a SET origin = 'manual' WHERE a.id IN (`+manualTwins(" INDEXED BY history_archive_ip_time")+`)`,
			manualTwinWindow, manualTwinWindow, since.Unix()-manualTwinWindow, since.Unix())
		if err != nil {
			return err
		}
		merged, _ = res.RowsAffected()
		if merged == 0 {
			return nil
		}
		// Of each pair now both manual, keep the row with the bigger data
		// (fail2ban's), or the older id when equal.
		_, err = tx.ExecContext(ctx, `DELETE FROM history_archive AS a
			WHERE a.action = 'ban' AND a.origin = 'manual' AND a.timeofban >= ? - ? AND EXISTS (
				SELECT 1 FROM history_archive m INDEXED BY history_archive_ip_time
				WHERE m.ip = a.ip AND m.jail = a.jail AND m.action = 'ban' AND m.origin = 'manual' AND m.id != a.id
				AND m.timeofban BETWEEN a.timeofban - ? AND a.timeofban + ? AND m.host = a.host
				AND (length(m.data) > length(a.data) OR (length(m.data) = length(a.data) AND m.id < a.id)))`,
			since.Unix(), manualTwinWindow, manualTwinWindow, manualTwinWindow)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	return merged, nil
}

// IPTotals counts ip's archived bans (not unbans) on host ("" for every
// host) stamped after after, from the entries of history_archive_ip_time
// (ip, timeofban, action, failures) alone for every host; one host's are
// checked on the row. The action carries a unary + so that SQLite does not
// take the partial index of all bans for it.
func (s *sqliteArchive) IPTotals(ctx context.Context, host, ip string, after time.Time) (IPTotals, error) {
	w := ipWhere(host, ip)
	w.Add("timeofban > ?", sqlkit.AfterUnix(after))
	w.Add("+action = 'ban'")
	t, err := scanTotals(s.queryRow(ctx, `SELECT count(*), sum(failures), min(timeofban), max(timeofban)
		FROM history_archive`+w.Clause(), w.Args()...))
	if err != nil {
		return t, fmt.Errorf("repo: archive totals of IP: %w", err)
	}
	return t, nil
}

// RecentOfIP returns ip's newest limit archived events (bans and unbans)
// on host ("" for every host): the first limit entries of
// history_archive_ip_time walked backwards (of one host: until limit of
// them are found).
func (s *sqliteArchive) RecentOfIP(ctx context.Context, host, ip string, limit int) ([]models.BanRecord, error) {
	w := ipWhere(host, ip)
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive`+w.Clause()+` ORDER BY timeofban DESC, id DESC LIMIT ?`,
		append(w.Args(), limit)...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive recent events of IP: %w", err)
	}
	return out, nil
}

// ipWhere finds one address's events on host ("" for every host) through
// history_archive_ip_time.
func ipWhere(host, ip string) sqlkit.Where {
	var w sqlkit.Where
	w.Add("ip = ?", ip)
	hostWhere(&w, models.HistoryFilter{Host: host})
	return w
}
