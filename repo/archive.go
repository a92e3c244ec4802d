package repo

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/bandata"
	"bangui/repo/sqlkit"
)

// HistoryArchiveStore keeps every ban and unban event BanGUI has seen in
// its own history_archive table, beyond fail2ban's purge and manual unbans.
// It implements HistoryArchive, so it answers the same queries as the
// fail2ban reader. It reads and writes through the *sql.DB under the bun
// handle so that every value travels as a bound parameter.
type HistoryArchiveStore struct {
	db  *bun.DB
	sql *sql.DB
	now func() time.Time
	// trace, when set (tests), sees every read statement before it runs.
	trace func(query string, args []any)
	// cache shares the results of the counts between requests while the
	// database is unchanged (see resultCache).
	cache *resultCache
}

// NewHistoryArchiveStore returns a store on BanGUI's own database.
func NewHistoryArchiveStore(db *bun.DB) *HistoryArchiveStore {
	return &HistoryArchiveStore{db: db, sql: db.DB, now: time.Now, cache: newResultCache(db.DB)}
}

func (s *HistoryArchiveStore) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.trace != nil {
		s.trace(q, args)
	}
	return s.sql.QueryContext(ctx, q, args...)
}

func (s *HistoryArchiveStore) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s.trace != nil {
		s.trace(q, args)
	}
	return s.sql.QueryRowContext(ctx, q, args...)
}

// Archive actions.
const (
	ActionBan   = "ban"
	ActionUnban = "unban"
)

// archiveChunk rows go into one INSERT (11 parameters each, far below
// SQLite's 32766).
const archiveChunk = 500

const archiveInsertColumns = `jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures`

func archiveInsertSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT OR IGNORE INTO history_archive (` + archiveInsertColumns + `) VALUES `)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?,?,?,?,?,?,?,?,?,?)`)
	}
	return sb.String()
}

// Archive stores events in one transaction with multi-row INSERT OR IGNORE
// statements and returns how many were new: an event already archived (same
// ip, jail, action and timeofban) is skipped, so archiving twice is
// harmless. Empty Action means ban, empty Origin is derived from the jail,
// empty Data is {}; ID is ignored.
func (s *HistoryArchiveStore) Archive(ctx context.Context, events []models.ArchivedBan) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 10*min(len(events), archiveChunk))
	for _, e := range events { // validate all before writing any
		if e.Action != "" && e.Action != ActionBan && e.Action != ActionUnban {
			return 0, fmt.Errorf("repo: archive: unknown action %q", e.Action)
		}
		switch models.Origin(e.Origin) {
		case models.OriginAll, models.OriginBlocklist, models.OriginSelfblock, models.OriginManual:
		default:
			return 0, fmt.Errorf("repo: archive: unknown origin %q", e.Origin)
		}
	}
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
			action, origin, data := e.Action, e.Origin, e.Data
			if action == "" {
				action = ActionBan
			}
			if origin == "" {
				origin = string(originOfJail(e.Jail))
			}
			if data == "" {
				data = "{}"
			}
			var country any
			if e.CountryCode != nil {
				country = *e.CountryCode
			}
			args = append(args, e.Jail, e.IP, e.TimeOfBan, e.BanTime, e.BanCount, data, action, origin, country, e.Failures)
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
func (s *HistoryArchiveStore) MaxTimeOfBan(ctx context.Context) (time.Time, bool, error) {
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
func (s *HistoryArchiveStore) Purge(ctx context.Context, olderThan time.Time) (int64, error) {
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

// archiveWhere turns a filter into conditions on history_archive. SQLite
// has no statistics on BanGUI's database and would pick the index of any
// equality, even on a column with three values, so the conditions choose
// the index themselves: one kind of condition drives the query and the
// others carry a unary + (checked on the index entry or the row). Counts
// and pages of an action without jail or IP prefix (the dashboard's) take
// keyedFilter instead.
//
//   - origin manual (rare): (origin, action, timeofban);
//   - a jail: (jail, timeofban);
//   - a time window: (timeofban, action, origin, jail, ip), which also
//     holds every other filter column;
//   - an IP prefix: the unique (ip, jail, action, timeofban);
//   - origin blocklist or selfblock: (origin, action, timeofban);
//   - otherwise the planner picks (an action alone is answered from a
//     covering index).
func archiveWhere(f models.HistoryFilter) sqlkit.Where {
	w, _ := archiveFilter(f, false)
	return w
}

// archiveFilter is archiveWhere for a caller that bounds timeofban itself
// when windowed is true; it also returns the driving condition.
func archiveFilter(f models.HistoryFilter, windowed bool) (sqlkit.Where, string) {
	since := sqlkit.SinceUnix(f.Since)
	if windowed {
		since = 0
	}
	var driver string
	switch {
	case f.Origin == models.OriginManual:
		driver = "origin"
	case f.Jail != "":
		driver = "jail"
	case since > 0 || windowed:
		driver = "time"
	case f.IPPrefix != "":
		driver = "ip"
	case f.Origin != models.OriginAll:
		driver = "origin"
	}
	hint := func(col, driving string) string {
		if driver == driving {
			return col
		}
		return "+" + col
	}
	var w sqlkit.Where
	if f.Jail != "" {
		w.Add(hint("jail", "jail")+" = ?", f.Jail)
	}
	if f.Origin != models.OriginAll {
		w.Add(hint("origin", "origin")+" = ?", string(f.Origin))
	}
	if f.Action != "" {
		w.Add(hint("action", "origin")+" = ?", f.Action)
	}
	if since > 0 {
		col := "+timeofban"
		if driver == "time" || driver == "jail" || driver == "origin" {
			col = "timeofban"
		}
		w.Add(col+" >= ?", since)
	}
	if f.IPPrefix != "" {
		w.Prefix(hint("ip", "ip"), f.IPPrefix)
	}
	return w, driver
}

// keyedFilter returns conditions that a single index answers from its keys
// alone, for a filter on an action without jail or IP prefix (the
// dashboard's); ok is false for any other filter. Counting from keys alone
// matters at a million events: checking a column on each index entry
// doubles the cost of every step.
//
//   - the ban action over every origin: the partial index
//     history_archive_ban_time (timeofban) WHERE action = 'ban'. SQLite
//     uses a partial index only for a query whose WHERE repeats the index's
//     condition; the action is written as a literal (a parameter bound to
//     'ban' would match too, at the cost of preparing the statement again
//     once bound). A window runs to the end of that index, so its count
//     does not even compare entries with an upper bound.
//   - an action and one origin: (origin, action, timeofban).
//
// Both list the events in (timeofban, id) order, the page order. The
// window's lower bound is left out when windowed.
func keyedFilter(f models.HistoryFilter, windowed bool) (w sqlkit.Where, ok bool) {
	if f.Action == "" || f.Jail != "" || f.IPPrefix != "" {
		return sqlkit.Where{}, false
	}
	switch {
	case f.Origin != models.OriginAll:
		w.Add("origin = ?", string(f.Origin))
		w.Add("action = ?", f.Action)
	case f.Action == ActionBan:
		w.Add("action = '" + ActionBan + "'")
	default:
		return sqlkit.Where{}, false
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 && !windowed {
		w.Add("timeofban >= ?", since)
	}
	return w, true
}

const archiveColumns = `jail, ip, timeofban, bantime, bancount, data, origin, country_code, failures, action`

func (s *HistoryArchiveStore) count(ctx context.Context, what, q string, args ...any) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive %s: %w", what, dbError(err))
	}
	return n, nil
}

// Bans returns one page of archived events matching f (Action included),
// newest first, and how many match in all.
func (s *HistoryArchiveStore) Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error) {
	limit, offset := sqlkit.NormPage(page)
	w, keyed := keyedFilter(f, false)
	if !keyed {
		w = archiveWhere(f)
	}
	if f.IPPrefix != "" {
		// Few events of the prefix: find them on the IP index (and sort
		// them), rather than walk the whole window in time order for them.
		lo, hi := sqlkit.PrefixRange(f.IPPrefix)
		if hi == "" {
			hi = "\U0010ffff"
		}
		n, err := s.count(ctx, "prefix size", `SELECT count(*) FROM (SELECT 1 FROM history_archive
			WHERE ip >= ? AND ip < ? LIMIT ?)`, lo, hi, ipPageMax+1)
		if err != nil {
			return nil, 0, err
		}
		if n <= ipPageMax {
			w = prefixWhere(f)
		}
	}
	cq, cargs := countStatement(f, w)
	total, err := s.cachedCount(ctx, "count", f, cq, cargs...)
	if err != nil || offset >= total {
		return nil, total, err
	}
	ps := sqlkit.SpanOf(total, limit, offset)
	inner := `SELECT id FROM history_archive` + w.Clause() + ` ORDER BY ` + ps.Order("timeofban", "id") + ` LIMIT ? OFFSET ?`
	args := append(w.Args(), ps.Limit, ps.Offset)
	if f.Origin != models.OriginAll && f.Action == "" && f.Jail == "" && f.IPPrefix == "" && sqlkit.SinceUnix(f.Since) == 0 {
		// One origin's events of all time (history's origin filter): the
		// driving (origin, action, timeofban) index orders them by time per
		// action only. Merge its two ordered ranges instead of sorting every
		// event of the origin for each page.
		inner = `SELECT id FROM (
			SELECT id, timeofban FROM history_archive WHERE origin = ? AND action = '` + ActionBan + `'
			UNION ALL
			SELECT id, timeofban FROM history_archive WHERE origin = ? AND action = '` + ActionUnban + `'
			ORDER BY ` + ps.Order("timeofban", "id") + ` LIMIT ? OFFSET ?)`
		args = []any{string(f.Origin), string(f.Origin), ps.Limit, ps.Offset}
	}
	q := `SELECT ` + archiveColumns + ` FROM history_archive WHERE id IN (` + inner + `)
		ORDER BY timeofban DESC, id DESC`
	out, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: archive page: %w", dbError(err))
	}
	return out, total, nil
}

// ipPageMax is how many archived events (of every kind) an IP prefix may
// match for Bans to read them through the IP index and sort them, instead
// of walking the time window in order.
const ipPageMax = 20_000

// prefixWhere is the filter f driven by its IP prefix: a range of an index
// that starts with ip, everything else checked on its entries (or on the
// row, for the origin).
func prefixWhere(f models.HistoryFilter) sqlkit.Where {
	var c sqlkit.Where
	c.Prefix("ip", f.IPPrefix)
	if f.Jail != "" {
		c.Add("+jail = ?", f.Jail)
	}
	if f.Action != "" {
		c.Add("+action = ?", f.Action)
	}
	if f.Origin != models.OriginAll {
		c.Add("+origin = ?", string(f.Origin))
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		c.Add("+timeofban >= ?", since)
	}
	return c
}

// countStatement returns the statement Bans counts with, given w, the
// conditions of its page. Counting has no order to keep, so it takes the
// narrowest ranges there are (the archive holds only bans and unbans):
//
//   - one origin over both actions (history's default): two ranges of
//     (origin, action, timeofban) instead of the time window with the
//     origin checked on each entry;
//   - one origin and one jail: the bans as one key range of the partial
//     history_archive_ban_origin_jail, the few unbans on (origin, action,
//     timeofban) with the jail checked on the row — instead of the jail's
//     range with the origin read from every row.
func countStatement(f models.HistoryFilter, w sqlkit.Where) (string, []any) {
	since := sqlkit.SinceUnix(f.Since)
	window := func(c *sqlkit.Where) {
		if since > 0 {
			c.Add("timeofban >= ?", since)
		}
	}
	switch {
	case f.Origin != models.OriginAll && f.Action == "" && f.Jail == "" && f.IPPrefix == "":
		var c sqlkit.Where
		c.Add("origin = ?", string(f.Origin))
		c.Add("action IN (?, ?)", ActionBan, ActionUnban)
		window(&c)
		return `SELECT count(*) FROM history_archive` + c.Clause(), c.Args()
	case f.Origin != models.OriginAll && f.Jail != "" && f.IPPrefix == "" && (f.Action == "" || f.Action == ActionBan || f.Action == ActionUnban):
		var parts []string
		var args []any
		if f.Action != ActionUnban {
			var c sqlkit.Where
			c.Add("action = '" + ActionBan + "'")
			c.Add("origin = ?", string(f.Origin))
			c.Add("jail = ?", f.Jail)
			window(&c)
			parts = append(parts, `(SELECT count(*) FROM history_archive`+c.Clause()+`)`)
			args = append(args, c.Args()...)
		}
		if f.Action != ActionBan {
			var c sqlkit.Where
			c.Add("origin = ?", string(f.Origin))
			c.Add("action = ?", ActionUnban)
			c.Add("+jail = ?", f.Jail)
			window(&c)
			parts = append(parts, `(SELECT count(*) FROM history_archive`+c.Clause()+`)`)
			args = append(args, c.Args()...)
		}
		return `SELECT ` + strings.Join(parts, " + "), args
	}
	return `SELECT count(*) FROM history_archive` + w.Clause(), w.Args()
}

func (s *HistoryArchiveStore) records(ctx context.Context, q string, args ...any) ([]models.BanRecord, error) {
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
		if err := rows.Scan(&rec.Jail, &rec.IP, &t, &rec.BanTime, &rec.BanCount, &data, &origin, &country, &rec.Failures, &rec.Action); err != nil {
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

// CountsByBucket counts archived events matching f in buckets consecutive
// windows of length bucket ending now, oldest first (see
// Fail2BanDBReader.CountsByBucket for the exact bounds).
func (s *HistoryArchiveStore) CountsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	// The buckets end now: key the result by where they start.
	_, start, _, err := bucketWindow(s.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	v, err := s.cache.get(ctx, cacheKey("bucket", f, (sqlkit.SinceUnix(f.Since)-start)/60, bucket, buckets), start, func() (any, error) {
		return s.countsByBucket(ctx, f, bucket, buckets)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]int64)), nil
}

func (s *HistoryArchiveStore) countsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	width, start, end, err := bucketWindow(s.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	out := make([]int64, buckets)
	if buckets == 0 {
		return out, nil
	}
	cond, ranges := keyedFilter(f, true)
	if !ranges {
		var driver string
		cond, driver = archiveFilter(f, true)
		ranges = driver == "time" || driver == "jail"
	}
	bq := bucketQuery{table: "history_archive", cond: cond, start: start, width: width,
		lower: max(start, sqlkit.SinceUnix(f.Since)), end: end, n: buckets,
		ranges: ranges && buckets <= maxRangeBuckets}
	q, args := bq.sql()
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
		}
		if b >= 0 && b < int64(buckets) {
			out[b] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	return out, nil
}

// CountsByJail returns how many archived events match f in all and per
// jail, the biggest jail first (ties by name).
func (s *HistoryArchiveStore) CountsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	v, err := s.cache.get(ctx, cacheKey("jail", f), sqlkit.SinceUnix(f.Since), func() (any, error) {
		total, counts, err := s.countsByJail(ctx, f)
		return jailCounts{total, counts}, err
	})
	if err != nil {
		return 0, nil, err
	}
	jc := v.(jailCounts)
	return jc.total, slices.Clone(jc.counts), nil
}

type jailCounts struct {
	total  int64
	counts []models.JailCount
}

func (s *HistoryArchiveStore) countsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	var q string
	var args []any
	if f.Action == ActionBan && f.Jail == "" && f.IPPrefix == "" {
		q, args = banJailCounts(f)
	} else {
		w := archiveWhere(f)
		q, args = `SELECT jail, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY jail ORDER BY n DESC, jail`, w.Args()
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
	}
	defer rows.Close()
	var total int64
	var out []models.JailCount
	for rows.Next() {
		var c models.JailCount
		if err := rows.Scan(&c.Jail, &c.Count); err != nil {
			return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
		}
		total += c.Count
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
	}
	return total, out, nil
}

// banJailCounts is CountsByJail's statement for ban events without jail or
// IP prefix: one count per (origin, jail) pair, each a range of the partial
// index history_archive_ban_origin_jail (origin, jail, timeofban) read from
// its keys alone, summed per jail. The pairs are every jail with the
// filter's origin, or with every origin the archive holds; both lists come
// from skip scans (one index seek per distinct value), and pairs without
// events cost one seek. The counts are MATERIALIZED first: summed straight
// in the GROUP BY, SQLite would run each count once for the sum, once for
// HAVING and once for ORDER BY.
func banJailCounts(f models.HistoryFilter) (string, []any) {
	origins, window, args := banOriginsAndWindow(f)
	return `WITH RECURSIVE ` + origins + `,
		j(name) AS (
			SELECT min(jail) FROM history_archive
			UNION ALL
			SELECT (SELECT min(jail) FROM history_archive WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL),
		c(jail, n) AS MATERIALIZED (
			SELECT j.name, (SELECT count(*) FROM history_archive
				WHERE action = 'ban' AND origin = o.name AND jail = j.name` + window + `)
			FROM o, j WHERE o.name IS NOT NULL AND j.name IS NOT NULL)
		SELECT jail, sum(n) AS total FROM c GROUP BY jail HAVING total > 0 ORDER BY total DESC, jail`, args
}

// CountsByCountry counts the archived events matching f per country, the
// biggest first (ties by code). Events without a known country (NULL or
// "") are counted together under Code "", last. Results are shared between
// requests while the database is unchanged (see resultCache).
func (s *HistoryArchiveStore) CountsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	v, err := s.cache.get(ctx, cacheKey("country", f), sqlkit.SinceUnix(f.Since), func() (any, error) {
		return s.countsByCountry(ctx, f)
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]models.CountryCount)), nil
}

// cachedCount is count through the result cache; q and args must follow
// from what and f alone.
func (s *HistoryArchiveStore) cachedCount(ctx context.Context, what string, f models.HistoryFilter, q string, args ...any) (int64, error) {
	v, err := s.cache.get(ctx, cacheKey(what, f), sqlkit.SinceUnix(f.Since), func() (any, error) {
		return s.count(ctx, what, q, args...)
	})
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// cacheKey names a cached result: the kind of statement, the filter
// without its window start (the cache compares that itself) and any
// further parameters.
func cacheKey(kind string, f models.HistoryFilter, more ...any) string {
	return fmt.Sprintf("%s|%t|%q|%q|%q|%q|%v", kind, f.Since.IsZero(), f.Jail, f.IPPrefix, f.Origin, f.Action, more)
}

// banCountryCounts is CountsByCountry's statement for ban events without
// jail or IP prefix over a window too large for history_archive_time_country:
// one count per (origin, country) pair, each a range of the partial index
// history_archive_ban_origin_country (origin, country_code, timeofban) read
// from its keys alone, summed per country; the events without a country
// yet (NULL) are one more range per origin. The countries come from a skip
// scan of history_archive_country (one seek per distinct code), the origins
// as in banJailCounts. INDEXED BY keeps SQLite from walking
// history_archive_country instead, which it prefers once ANALYZE has run.
// It answers (code, count) rows with NULL as "".
func banCountryCounts(f models.HistoryFilter) (string, []any) {
	origins, window, args := banOriginsAndWindow(f)
	q := `WITH RECURSIVE ` + origins + `,
		k(code) AS (
			SELECT min(country_code) FROM history_archive WHERE country_code >= ''
			UNION ALL
			SELECT (SELECT min(country_code) FROM history_archive WHERE country_code > k.code) FROM k WHERE k.code IS NOT NULL),
		c(code, n) AS MATERIALIZED (
			SELECT k.code, (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
				WHERE action = 'ban' AND origin = o.name AND country_code = k.code` + window + `)
			FROM o, k WHERE o.name IS NOT NULL AND k.code IS NOT NULL
			UNION ALL
			SELECT '', (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
				WHERE action = 'ban' AND origin = o.name AND country_code IS NULL` + window + `)
			FROM o WHERE o.name IS NOT NULL)
		SELECT code, sum(n) AS total FROM c GROUP BY code HAVING total > 0`
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		args = append(args, since) // window appears twice
	}
	return q, args
}

// banOriginsAndWindow returns what the per-origin counts of banJailCounts
// and banCountryCounts share: the CTE o(name) of the filter's origin, or of
// every origin the archive holds (a skip scan), the time-window condition
// for one count, and the arguments of both, in that order.
func banOriginsAndWindow(f models.HistoryFilter) (origins, window string, args []any) {
	origins = `o(name) AS (SELECT ?)`
	if f.Origin == models.OriginAll {
		origins = `o(name) AS (
			SELECT min(origin) FROM history_archive WHERE action = 'ban'
			UNION ALL
			SELECT (SELECT min(origin) FROM history_archive WHERE action = 'ban' AND origin > o.name) FROM o WHERE o.name IS NOT NULL)`
	} else {
		args = append(args, string(f.Origin))
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		window = ` AND timeofban >= ?`
		args = append(args, since)
	}
	return origins, window, args
}

// CountsByIP returns how many archived events match f per IP, the most
// frequent IP first (ties by IP).
func (s *HistoryArchiveStore) CountsByIP(ctx context.Context, f models.HistoryFilter) ([]models.IPCount, error) {
	w := archiveWhere(f)
	rows, err := s.query(ctx, `SELECT ip, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY ip ORDER BY n DESC, ip`, w.Args()...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
	}
	defer rows.Close()
	var out []models.IPCount
	for rows.Next() {
		var c models.IPCount
		if err := rows.Scan(&c.IP, &c.Count); err != nil {
			return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
	}
	return out, nil
}

// HistoryOfIP returns every archived event of one IP (exact match), newest first.
func (s *HistoryArchiveStore) HistoryOfIP(ctx context.Context, ip string) ([]models.BanRecord, error) {
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive WHERE ip = ? ORDER BY timeofban DESC, id DESC`, ip)
	if err != nil {
		return nil, fmt.Errorf("repo: archive history of IP: %w", dbError(err))
	}
	return out, nil
}

// Summary describes the archive: events, oldest and newest event.
func (s *HistoryArchiveStore) Summary(ctx context.Context) (models.BansSummary, error) {
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
