package repo

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/bandata"
	"bangui/repo/sqlkit"
)

// postgresArchive is HistoryArchive on PostgreSQL: the same table and the
// same answers as sqliteArchive, with statements written for PostgreSQL's
// planner, which keeps statistics and picks its indexes itself (no hints).
// Inserts send a batch as arrays (unnest) with ON CONFLICT DO NOTHING on
// the event's unique key; the indexes of migrations/postgres carry the
// filter columns, so the counts of a time window, of one host or of one
// address are index-only scans. Values always travel as bound parameters:
// the statements are built with sqlkit's "?" placeholders and numbered
// ($1, $2, …) by pgQuery.
type postgresArchive struct {
	cachedCounts // the counts of HistoryArchive, through cache
	db           *bun.DB
	sql          *sql.DB
	now          func() time.Time
	// cache shares the results of the counts between requests while the
	// archive is unchanged (statement triggers keep its counter).
	cache *resultCache
}

// newPostgresArchive returns the archive on BanGUI's own PostgreSQL database.
func newPostgresArchive(db *bun.DB) *postgresArchive {
	s := &postgresArchive{db: db, sql: db.DB, now: time.Now}
	s.cache = newResultCache(s.version)
	s.cachedCounts = cachedCounts{cache: s.cache, counter: s}
	return s
}

func (s *postgresArchive) clock() time.Time { return s.now() }

// pgQuery numbers the "?" placeholders of q as PostgreSQL's $1, $2, …. The
// statements of this file never hold a "?" in a literal or identifier.
func pgQuery(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var sb strings.Builder
	sb.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(q[i])
	}
	return sb.String()
}

// version returns the archive's change counter.
func (s *postgresArchive) version(ctx context.Context) (int64, error) {
	var v int64
	err := s.sql.QueryRowContext(ctx, `SELECT n FROM history_archive_version`).Scan(&v)
	return v, err
}

func (s *postgresArchive) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.sql.QueryContext(ctx, pgQuery(q), args...)
}

func (s *postgresArchive) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.sql.QueryRowContext(ctx, pgQuery(q), args...)
}

func (s *postgresArchive) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.sql.ExecContext(ctx, pgQuery(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// pgArchiveChunk events go into one INSERT: its parameters are eleven
// arrays, whatever the number of events.
const pgArchiveChunk = 5000

// pgArchiveInsert inserts the events given as one array per column and
// skips those archived already (any unique violation: the event's key).
const pgArchiveInsert = `INSERT INTO history_archive (` + archiveInsertColumns + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
	ON CONFLICT DO NOTHING`

// Archive stores events in one transaction and returns how many were new:
// an event already archived (same host, ip, jail, action and timeofban) is
// skipped, so archiving twice is harmless. Events are checked and completed
// by normalizeEvents; ID is ignored.
func (s *postgresArchive) Archive(ctx context.Context, events []models.ArchivedBan) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	events, err := normalizeEvents(events)
	if err != nil {
		return 0, err
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("repo: archive: begin: %w", dbError(err))
	}
	defer tx.Rollback()
	var inserted int64
	for start := 0; start < len(events); start += pgArchiveChunk {
		chunk := events[start:min(start+pgArchiveChunk, len(events))]
		n := len(chunk)
		hosts, jails, ips := make([]string, n), make([]string, n), make([]string, n)
		times, bantimes, bancounts := make([]int64, n), make([]int64, n), make([]int64, n)
		data, actions, origins := make([]string, n), make([]string, n), make([]string, n)
		countries, failures := make([]*string, n), make([]int64, n)
		for i, e := range chunk {
			hosts[i], jails[i], ips[i] = pgText(e.Host), pgText(e.Jail), pgText(e.IP)
			times[i], bantimes[i], bancounts[i] = e.TimeOfBan, e.BanTime, e.BanCount
			data[i], actions[i], origins[i] = pgText(e.Data), e.Action, e.Origin
			if e.CountryCode != nil {
				c := pgText(*e.CountryCode)
				countries[i] = &c
			}
			failures[i] = e.Failures
		}
		res, err := tx.ExecContext(ctx, pgArchiveInsert, hosts, jails, ips, times, bantimes, bancounts,
			data, actions, origins, countries, failures)
		if err != nil {
			return 0, fmt.Errorf("repo: archive: insert: %w", dbError(err))
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("repo: archive: %w", dbError(err))
		}
		inserted += k
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("repo: archive: commit: %w", dbError(err))
	}
	return inserted, nil
}

// MaxTimeOfBan returns the newest archived event time; ok is false when the
// archive is empty.
func (s *postgresArchive) MaxTimeOfBan(ctx context.Context) (time.Time, bool, error) {
	var t sql.NullInt64
	if err := s.queryRow(ctx, `SELECT max(timeofban) FROM history_archive`).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("repo: archive max time: %w", dbError(err))
	}
	if !t.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(t.Int64, 0), true, nil
}

// Purge deletes events older than olderThan, purgeBatch per statement so
// that no statement runs long, and returns how many went.
func (s *postgresArchive) Purge(ctx context.Context, olderThan time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.exec(ctx, `DELETE FROM history_archive WHERE id IN (
			SELECT id FROM history_archive WHERE timeofban < ? LIMIT ?)`, olderThan.Unix(), purgeBatch)
		if err != nil {
			return total, fmt.Errorf("repo: archive purge: %w", dbError(err))
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

func (s *postgresArchive) count(ctx context.Context, what, q string, args ...any) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive %s: %w", what, dbError(err))
	}
	return n, nil
}

func (s *postgresArchive) records(ctx context.Context, q string, args ...any) ([]models.BanRecord, error) {
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
		rec.Jail, rec.IP, rec.Host = pgPlain(rec.Jail), pgPlain(rec.IP), pgPlain(rec.Host)
		rec.TimeOfBan = time.Unix(t, 0)
		_, rec.Matches = bandata.Decode(pgPlain(data))
		rec.Origin = models.Origin(origin)
		rec.Country = pgPlain(country.String)
		out = append(out, rec)
	}
	return out, rows.Err()
}

// HistoryOfIP returns every archived event of one IP (exact match), newest first.
func (s *postgresArchive) HistoryOfIP(ctx context.Context, ip string) ([]models.BanRecord, error) {
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive WHERE ip = ? ORDER BY timeofban DESC, id DESC`, pgText(ip))
	if err != nil {
		return nil, fmt.Errorf("repo: archive history of IP: %w", dbError(err))
	}
	return out, nil
}

// Summary describes the archive: events, oldest and newest event. The
// events are counted from the day roll-up (PostgreSQL counts a table by
// reading all of it), through the result cache.
func (s *postgresArchive) Summary(ctx context.Context) (models.BansSummary, error) {
	var sum models.BansSummary
	rows, err := s.cachedCount(ctx, "summary", models.HistoryFilter{}, `SELECT coalesce(sum(n), 0)::bigint FROM history_archive_jail_day`)
	if err != nil {
		return sum, err
	}
	sum.Rows = rows
	var lo, hi sql.NullInt64
	err = s.queryRow(ctx, `SELECT min(timeofban), max(timeofban) FROM history_archive`).Scan(&lo, &hi)
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

// MergeManualBans folds together the two archive rows a ban made from the
// panel leaves (see sqliteArchive.MergeManualBans): fail2ban's row is kept,
// marked manual, and the panel's record is deleted. Only rows since since
// are examined. It returns how many pairs were merged.
func (s *postgresArchive) MergeManualBans(ctx context.Context, since time.Time) (int64, error) {
	const twin = `SELECT 1 FROM history_archive m
		WHERE m.ip = a.ip AND m.jail = a.jail AND m.action = 'ban' AND m.origin = 'manual' AND m.id <> a.id
		AND m.host = a.host AND m.timeofban BETWEEN a.timeofban - ? AND a.timeofban + ?`
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, pgQuery(`UPDATE history_archive AS a SET origin = 'manual' WHERE a.id IN (`+manualTwins("")+`)`),
		manualTwinWindow, manualTwinWindow, since.Unix()-manualTwinWindow, since.Unix())
	if err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	merged, err := res.RowsAffected()
	if err != nil || merged == 0 {
		return 0, dbError(err)
	}
	// Of each pair now both manual, keep the row with the bigger data
	// (fail2ban's), or the older id when equal.
	_, err = tx.ExecContext(ctx, pgQuery(`DELETE FROM history_archive AS a
		WHERE a.action = 'ban' AND a.origin = 'manual' AND a.timeofban >= ? AND EXISTS (`+twin+`
			AND (length(m.data) > length(a.data) OR (length(m.data) = length(a.data) AND m.id < a.id)))`),
		since.Unix()-manualTwinWindow, manualTwinWindow, manualTwinWindow)
	if err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	return merged, nil
}

// IPTotals counts ip's archived bans (not unbans) stamped after after, from
// the entries of history_archive_ip_time alone.
func (s *postgresArchive) IPTotals(ctx context.Context, host, ip string, after time.Time) (IPTotals, error) {
	w := pgIPWhere(host, ip)
	w.Add("timeofban > ?", sqlkit.AfterUnix(after))
	w.Add("action = 'ban'")
	t, err := scanTotals(s.queryRow(ctx, `SELECT count(*), sum(failures)::bigint, min(timeofban), max(timeofban)
		FROM history_archive`+w.Clause(), w.Args()...))
	if err != nil {
		return t, fmt.Errorf("repo: archive totals of IP: %w", dbError(err))
	}
	return t, nil
}

// RecentOfIP returns ip's newest limit archived events (bans and unbans)
// on host ("" for every host).
func (s *postgresArchive) RecentOfIP(ctx context.Context, host, ip string, limit int) ([]models.BanRecord, error) {
	w := pgIPWhere(host, ip)
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive`+w.Clause()+` ORDER BY timeofban DESC, id DESC LIMIT ?`,
		append(w.Args(), max(limit, 0))...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive recent events of IP: %w", dbError(err))
	}
	return out, nil
}

// pgIPWhere finds one address's events on host ("" for every host).
func pgIPWhere(host, ip string) sqlkit.Where {
	var w sqlkit.Where
	w.Add("ip = ?", pgText(ip))
	if host != "" {
		w.Add("host = ?", pgText(host))
	}
	return w
}
