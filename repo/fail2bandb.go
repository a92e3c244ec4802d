package repo

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"bangui/models"
)

// Page sizes used when a models.Page asks for none or too many rows.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// f2bMaxConns bounds the read-only connections to fail2ban's database.
const f2bMaxConns = 4

// maxBuckets bounds CountsByBucket so a bad request cannot allocate without limit.
const maxBuckets = 100000

// F2BRow is one raw row of fail2ban's bans table, as the archive sync copies it.
type F2BRow struct {
	RowID     int64
	Jail      string
	IP        string // "" when the column is NULL
	TimeOfBan int64  // unix seconds
	BanTime   int64  // seconds; -1 permanent
	BanCount  int64
	Data      string // the data column's JSON text; "null" when the column is NULL
}

// readerConfig tunes how the reader waits for fail2ban's write locks.
type readerConfig struct {
	busyTimeout time.Duration // SQLite's own wait for a lock, per statement
	retries     int           // further attempts after SQLITE_BUSY/LOCKED got through
	backoff     time.Duration // wait before the first retry, doubled each time
}

// defaultReaderConfig waits up to 5 s per statement, then retries three times
// after 50, 100 and 200 ms.
func defaultReaderConfig() readerConfig {
	return readerConfig{busyTimeout: 5 * time.Second, retries: 3, backoff: 50 * time.Millisecond}
}

// Fail2BanDBReader reads fail2ban's own SQLite database (schema version 4)
// through a separate read-only pool. fail2ban keeps only an index on
// (jail, timeofban), (jail, ip) and (ip) — none on timeofban alone — and the
// file is not ours to index, so the queries are shaped for those: time
// windows become one range per jail on (jail, timeofban); the newest-first
// list merges the per-jail index streams (a compound SELECT that SQLite
// executes as a merge, with no sort of the whole window); counts read
// covering indexes only; and a filter on an IP prefix picks between the IP
// indexes and the time index from cheap covering counts. It implements
// Fail2BanDB.
type Fail2BanDBReader struct {
	db   *bun.DB
	sql  *sql.DB
	path string
	cfg  readerConfig
	now  func() time.Time
	// onRetry, when set (tests), runs after a busy attempt and before the wait.
	onRetry func(attempt int, err error)
	// trace, when set (tests, benchmarks), sees every statement before it runs.
	trace func(query string, args []any)
}

// OpenFail2BanDB opens fail2ban's database at path read-only: SQLite opens
// it with mode=ro (it never creates a missing file and every write fails),
// query_only on top, a 5 s busy timeout and at most four connections. It
// fails when the file is missing, unreadable or holds no bans table.
func OpenFail2BanDB(ctx context.Context, path string) (*Fail2BanDBReader, error) {
	return openFail2BanDB(ctx, path, defaultReaderConfig())
}

func openFail2BanDB(ctx context.Context, path string, cfg readerConfig) (*Fail2BanDBReader, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("repo: fail2ban database path %q: %w", path, err)
	}
	// Ask the OS first: SQLite reports a missing or unreadable file only as
	// "unable to open database file".
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("repo: fail2ban database: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("repo: fail2ban database %s is a directory", abs)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("repo: fail2ban database not readable: %w", err)
	}
	f.Close()

	dsn := fmt.Sprintf("file:%s?mode=ro&_busy_timeout=%d&_query_only=1",
		sqliteURIPath(abs), cfg.busyTimeout.Milliseconds())
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("repo: open fail2ban database %s: %w", abs, err)
	}
	// Four readers: a long count (a year of bans) then holds up fewer of
	// the short page reads queued behind it; SQLite reads in parallel.
	sqldb.SetMaxOpenConns(f2bMaxConns)
	sqldb.SetMaxIdleConns(f2bMaxConns)
	sqldb.SetConnMaxIdleTime(time.Minute)
	// An open connection keeps reading the file it opened: recycle them so a
	// database fail2ban deleted and recreated is picked up.
	sqldb.SetConnMaxLifetime(5 * time.Minute)
	r := &Fail2BanDBReader{
		db:   bun.NewDB(sqldb, sqlitedialect.New()),
		sql:  sqldb,
		path: abs,
		cfg:  cfg,
		now:  time.Now,
	}
	var n int
	err = r.read(ctx, "open", func(ctx context.Context) error {
		return r.queryRow(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'bans'`).Scan(&n)
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("repo: %s is not a fail2ban database (no bans table)", abs)
	}
	if err == nil {
		// Schema version 4 (fail2ban ≥ 0.11) has every column read here;
		// fail2ban upgrades older files when it starts.
		err = r.read(ctx, "open", func(ctx context.Context) error {
			rows, err := r.query(ctx, `SELECT `+banColumns+` FROM bans LIMIT 0`)
			if err != nil {
				return fmt.Errorf("repo: %s: bans table is not fail2ban's schema version 4: %w", abs, err)
			}
			return rows.Close()
		})
	}
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	return r, nil
}

// sqliteURIPath escapes the characters that end or escape the path part of
// an SQLite file: URI.
func sqliteURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Path is the absolute path of the database file.
func (r *Fail2BanDBReader) Path() string { return r.path }

// DB is the read-only bun handle, for ad-hoc queries.
func (r *Fail2BanDBReader) DB() *bun.DB { return r.db }

// Close closes the read-only pool.
func (r *Fail2BanDBReader) Close() error {
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("repo: close fail2ban database: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Retries

// read runs fn, running it again with a doubling backoff while it fails
// with SQLITE_BUSY or SQLITE_LOCKED, up to cfg.retries more times. fn must
// start from scratch on each call (reset what it fills).
func (r *Fail2BanDBReader) read(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	delay := r.cfg.backoff
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if !isBusy(err) {
			return fmt.Errorf("repo: fail2ban database %s: %w", what, dbError(err))
		}
		if attempt > r.cfg.retries {
			return fmt.Errorf("repo: fail2ban database %s: %w (gave up after %d attempts): %w", what, ErrBusy, attempt, err)
		}
		if r.onRetry != nil {
			r.onRetry(attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("repo: fail2ban database %s: %w", what, ctx.Err())
		case <-t.C:
		}
		delay *= 2
	}
}

func (r *Fail2BanDBReader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if r.trace != nil {
		r.trace(q, args)
	}
	return r.sql.QueryContext(ctx, q, args...)
}

func (r *Fail2BanDBReader) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if r.trace != nil {
		r.trace(q, args)
	}
	return r.sql.QueryRowContext(ctx, q, args...)
}

func (r *Fail2BanDBReader) count(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := r.read(ctx, "count", func(ctx context.Context) error {
		return r.queryRow(ctx, q, args...).Scan(&n)
	})
	return n, err
}

// ---------------------------------------------------------------------------
// Filters

// where collects SQL conditions and their parameters. User input only ever
// travels as a parameter.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "col IN (?, ?, …)".
func (w *where) in(col string, values []string) {
	var sb strings.Builder
	sb.WriteString(col)
	sb.WriteString(" IN (")
	for i, v := range values {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('?')
		w.args = append(w.args, v)
	}
	sb.WriteByte(')')
	w.conds = append(w.conds, sb.String())
}

func (w where) clause() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// prefixRange turns a prefix into the half-open range [lo, hi) of strings
// that start with it under SQLite's BINARY collation (byte order). hi is ""
// when there is no upper bound (a prefix of 0xff bytes only). Matching a
// range instead of LIKE keeps '%', '_' and quotes literal and lets SQLite
// use the (ip) and (jail, ip) indexes.
func prefixRange(p string) (lo, hi string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, ""
}

func (w *where) ipPrefix(col, prefix string) {
	lo, hi := prefixRange(prefix)
	w.add(col+" >= ?", lo)
	if hi != "" {
		w.add(col+" < ?", hi)
	}
}

// jailScope is the set of jails a filter lets through.
type jailScope struct {
	jails []string // the jails to read; nil with none means no rows at all
	all   bool     // the filter does not restrict jails (jails lists every jail)
}

func (s jailScope) empty() bool { return len(s.jails) == 0 }

// scope resolves a filter's jail, origin and action to the jails to read.
// manual bans and unban events exist only in BanGUI's archive, so they give
// an empty scope here.
func (r *Fail2BanDBReader) scope(ctx context.Context, f models.HistoryFilter) (jailScope, error) {
	if f.Origin == models.OriginManual || (f.Action != "" && f.Action != "ban") {
		return jailScope{}, nil
	}
	if f.Origin != models.OriginAll && f.Origin != models.OriginBlocklist && f.Origin != models.OriginSelfblock {
		return jailScope{}, nil
	}
	if f.Jail != "" {
		isBlocklist := f.Jail == models.BlocklistJail
		if (f.Origin == models.OriginBlocklist && !isBlocklist) || (f.Origin == models.OriginSelfblock && isBlocklist) {
			return jailScope{}, nil
		}
		return jailScope{jails: []string{f.Jail}}, nil
	}
	if f.Origin == models.OriginBlocklist {
		return jailScope{jails: []string{models.BlocklistJail}}, nil
	}
	jails, err := r.Jails(ctx)
	if err != nil {
		return jailScope{}, err
	}
	if f.Origin == models.OriginSelfblock {
		out := jails[:0:0]
		for _, j := range jails {
			if j != models.BlocklistJail {
				out = append(out, j)
			}
		}
		return jailScope{jails: out}, nil
	}
	return jailScope{jails: jails, all: true}, nil
}

// Jails lists the jails that have rows in the bans table, in byte order. It
// skips from one jail to the next on the (jail, …) index, so it costs one
// index seek per jail whatever the table size.
func (r *Fail2BanDBReader) Jails(ctx context.Context) ([]string, error) {
	var out []string
	err := r.read(ctx, "list jails", func(ctx context.Context) error {
		out = out[:0]
		rows, err := r.query(ctx, `WITH RECURSIVE j(name) AS (
			SELECT min(jail) FROM bans
			UNION ALL
			SELECT (SELECT min(jail) FROM bans WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL
		) SELECT name FROM j WHERE name IS NOT NULL`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// access is how a query reaches the rows of a filter that has an IP prefix.
type access int

const (
	viaTime access = iota // ranges on (jail, timeofban); the prefix is checked on the row
	viaIP                 // ranges on (ip) or (jail, ip); the time is checked on the row
)

// filterWhere builds the conditions for scope sc, rows at or after since
// (unix seconds, 0 for none) and an IP prefix. via says which index the
// query should use: the other conditions get a unary + so that SQLite
// cannot pick their index. A scope of every jail becomes a jail IN list
// only where it lets SQLite range over (jail, timeofban) per jail.
func filterWhere(sc jailScope, since int64, prefix string, via access) where {
	var w where
	if !sc.all || (since > 0 && via == viaTime) {
		if len(sc.jails) == 1 {
			w.add("jail = ?", sc.jails[0])
		} else {
			w.in("jail", sc.jails)
		}
	}
	if since > 0 {
		if prefix != "" && via == viaIP {
			w.add("+timeofban >= ?", since)
		} else {
			w.add("timeofban >= ?", since)
		}
	}
	if prefix != "" {
		if via == viaTime {
			w.ipPrefix("+ip", prefix)
		} else {
			w.ipPrefix("ip", prefix)
		}
	}
	return w
}

// sinceUnix is the filter's lower time bound in unix seconds, 0 for all time.
func sinceUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.Unix(), 1)
}

// plan picks the index path for a filter with an IP prefix from two cheap
// counts that read covering indexes only: rows of the prefix in the scope
// at any time (prefixRows) and rows of the scope in the time window
// (windowRows). Both paths must look at one table row per candidate, so the
// smaller candidate set wins.
type plan struct {
	via        access
	prefixRows int64 // rows matching jails and prefix, any time
	windowRows int64 // rows matching jails and time window, any IP
}

func (r *Fail2BanDBReader) planFor(ctx context.Context, sc jailScope, since int64, prefix string) (plan, error) {
	var p plan
	var err error
	pw := filterWhere(sc, 0, prefix, viaIP)
	if p.prefixRows, err = r.count(ctx, `SELECT count(*) FROM bans`+pw.clause(), pw.args...); err != nil {
		return p, err
	}
	ww := filterWhere(sc, since, "", viaTime)
	if p.windowRows, err = r.count(ctx, `SELECT count(*) FROM bans`+ww.clause(), ww.args...); err != nil {
		return p, err
	}
	if since > 0 && p.windowRows < p.prefixRows {
		p.via = viaTime
	} else {
		p.via = viaIP
	}
	return p, nil
}

// ---------------------------------------------------------------------------
// Queries

const banColumns = `rowid, jail, ip, timeofban, bantime, bancount, data`

// maxMergeArms bounds the per-jail compound SELECT (SQLite allows 500 arms).
const maxMergeArms = 200

func normPage(p models.Page) (limit, offset int64) {
	size := p.Size
	if size < 1 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	n := min(max(p.Number, 1), 1<<40) // far past any table, and no overflow
	return int64(size), int64(n-1) * int64(size)
}

// Bans returns one page of ban events matching f, newest first, and how many
// match in all. A page past the end is empty with the right total.
func (r *Fail2BanDBReader) Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error) {
	limit, offset := normPage(page)
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return nil, 0, err
	}
	since := sinceUnix(f.Since)

	var total int64
	var rowids string // SQL selecting the page's rowids
	var args []any
	if f.IPPrefix == "" {
		w := filterWhere(sc, since, "", viaTime)
		q := `SELECT count(*) FROM bans` + w.clause()
		switch {
		case sc.all && since == 0:
			q, w = `SELECT count(*) FROM bans`, where{} // plain count(*) counts the b-tree pages, no WHERE
		case sc.all:
			after, err := r.mostlyAfter(ctx, sc.jails, since)
			if err != nil {
				return nil, 0, err
			}
			if after {
				// The plain count less the rows before the window, in one
				// statement so that both see the same rows.
				w = where{}
				w.in("jail", sc.jails)
				w.add("timeofban < ?", since)
				q = `SELECT (SELECT count(*) FROM bans) - (SELECT count(*) FROM bans` + w.clause() + `)`
			}
		}
		if total, err = r.count(ctx, q, w.args...); err != nil {
			return nil, 0, err
		}
		if offset >= total {
			return nil, total, nil
		}
		rowids, args = mergedPage(sc, since, "", pageSlice(total, limit, offset))
	} else {
		p, err := r.planFor(ctx, sc, since, f.IPPrefix)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case p.prefixRows == 0 || p.windowRows == 0:
			return nil, 0, nil
		case since == 0:
			total = p.prefixRows
		default:
			w := filterWhere(sc, since, f.IPPrefix, p.via)
			if total, err = r.count(ctx, `SELECT count(*) FROM bans`+w.clause(), w.args...); err != nil {
				return nil, 0, err
			}
		}
		if offset >= total {
			return nil, total, nil
		}
		// Walking the time index from the nearer end finds a page after
		// about depth·windowRows/total rows; the IP index reads all
		// prefixRows candidates and sorts them.
		ps := pageSlice(total, limit, offset)
		walk := float64(ps.depth()) * float64(p.windowRows) / float64(total)
		if walk < float64(p.prefixRows) {
			rowids, args = mergedPage(sc, since, f.IPPrefix, ps)
		} else {
			w := filterWhere(sc, since, f.IPPrefix, viaIP)
			rowids = `SELECT rowid FROM bans` + w.clause() + ` ORDER BY ` + ps.order("timeofban", "rowid") + ` LIMIT ? OFFSET ?`
			args = append(w.args, ps.limit, ps.offset)
		}
	}
	q := `SELECT ` + banColumns + ` FROM bans WHERE rowid IN (` + rowids + `) ORDER BY timeofban DESC, rowid DESC`
	var out []models.BanRecord
	err = r.read(ctx, "list bans", func(ctx context.Context) error {
		var err error
		out, err = r.records(ctx, q, args...)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// jailValues is a VALUES list of the jails, for a CTE j(name).
func jailValues(jails []string) (string, []any) {
	var sb strings.Builder
	args := make([]any, 0, len(jails))
	sb.WriteString(`VALUES `)
	for i, j := range jails {
		if i > 0 {
			sb.WriteString(`, `)
		}
		sb.WriteString(`(?)`)
		args = append(args, j)
	}
	return sb.String(), args
}

// mostlyAfter reports whether since lies nearer the jails' oldest ban than
// their newest, so that, bans spreading over time, most rows are stamped at
// or after it. Counting a window costs a step per row, while the plain
// count(*) of the table only visits its b-tree pages: for such a window,
// counting the rows before it and subtracting is several times cheaper. It
// costs two index seeks per jail.
func (r *Fail2BanDBReader) mostlyAfter(ctx context.Context, jails []string, since int64) (bool, error) {
	values, args := jailValues(jails)
	var lo, hi sql.NullInt64
	err := r.read(ctx, "time span", func(ctx context.Context) error {
		return r.queryRow(ctx, `WITH j(name) AS (`+values+`)
			SELECT min((SELECT min(timeofban) FROM bans WHERE jail = j.name)),
				max((SELECT max(timeofban) FROM bans WHERE jail = j.name)) FROM j`, args...).Scan(&lo, &hi)
	})
	if err != nil {
		return false, err
	}
	return lo.Valid && hi.Valid && since-lo.Int64 < hi.Int64-since, nil
}

// pageSpan is where one page lies in a list of total rows ordered newest
// first. Pages in the older half are read from the oldest end (reverse),
// so the last page costs what the first does.
type pageSpan struct {
	limit, offset int64
	reverse       bool
}

func pageSlice(total, limit, offset int64) pageSpan {
	if offset+limit <= total-offset {
		return pageSpan{limit: limit, offset: offset}
	}
	end := total - offset // rows from the oldest end up to the page's newest row
	return pageSpan{limit: min(limit, end), offset: max(end-limit, 0), reverse: true}
}

// depth is how many rows an ordered walk passes to reach the page's end.
func (s pageSpan) depth() int64 { return s.offset + s.limit }

// order is the ORDER BY that walks from the span.s end.
func (s pageSpan) order(timeCol, idCol string) string {
	if s.reverse {
		return timeCol + ", " + idCol
	}
	return timeCol + " DESC, " + idCol + " DESC"
}

// mergedPage selects the rowids of one page as a compound SELECT with one
// arm per jail. Each arm walks (jail, timeofban) from one end; SQLite merges
// the sorted arms, so a page costs about its depth in index steps instead
// of a sort of every row in the window. A prefix is checked on the row (+ip
// keeps the arms on the time index).
func mergedPage(sc jailScope, since int64, prefix string, ps pageSpan) (string, []any) {
	if len(sc.jails) > maxMergeArms { // absurd jail counts: one sorted scan
		w := filterWhere(sc, since, prefix, viaTime)
		return `SELECT rowid FROM bans` + w.clause() + ` ORDER BY ` + ps.order("timeofban", "rowid") + ` LIMIT ? OFFSET ?`,
			append(w.args, ps.limit, ps.offset)
	}
	var sb strings.Builder
	var args []any
	sb.WriteString(`SELECT rid FROM (`)
	for i, j := range sc.jails {
		if i > 0 {
			sb.WriteString(` UNION ALL `)
		}
		w := filterWhere(jailScope{jails: []string{j}}, since, prefix, viaTime)
		sb.WriteString(`SELECT rowid AS rid, timeofban AS t FROM bans`)
		sb.WriteString(w.clause())
		args = append(args, w.args...)
	}
	sb.WriteString(` ORDER BY ` + ps.order("t", "rid") + ` LIMIT ? OFFSET ?)`)
	return sb.String(), append(args, ps.limit, ps.offset)
}

// records runs a query selecting banColumns and decodes the rows.
func (r *Fail2BanDBReader) records(ctx context.Context, q string, args ...any) ([]models.BanRecord, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []models.BanRecord
	for rows.Next() {
		row, err := scanF2BRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, row.Record())
	}
	return out, rows.Err()
}

func scanF2BRow(rows interface{ Scan(...any) error }) (F2BRow, error) {
	var row F2BRow
	var ip, data sql.NullString
	if err := rows.Scan(&row.RowID, &row.Jail, &ip, &row.TimeOfBan, &row.BanTime, &row.BanCount, &data); err != nil {
		return row, err
	}
	row.IP = ip.String
	row.Data = "null"
	if data.Valid {
		row.Data = data.String
	}
	return row, nil
}

// Record converts the row to a models.BanRecord, decoding failures and
// matches from its data and deriving the origin from the jail.
func (row F2BRow) Record() models.BanRecord {
	failures, matches := decodeBanData(row.Data)
	return models.BanRecord{
		Jail:      row.Jail,
		IP:        row.IP,
		TimeOfBan: time.Unix(row.TimeOfBan, 0),
		BanTime:   row.BanTime,
		BanCount:  row.BanCount,
		Failures:  failures,
		Matches:   matches,
		Origin:    originOfJail(row.Jail),
	}
}

// originOfJail is where a ban found in fail2ban's database came from.
func originOfJail(jail string) models.Origin {
	if jail == models.BlocklistJail {
		return models.OriginBlocklist
	}
	return models.OriginSelfblock
}

// CountsByBucket counts the events matching f in buckets consecutive
// windows of length bucket that end now, oldest first; empty windows count
// zero. Bucket i covers [end-(buckets-i)·bucket, end-(buckets-i-1)·bucket)
// with end one second after now, so a ban at this very second counts. It is
// one GROUP BY query over the (jail, timeofban) index.
func (r *Fail2BanDBReader) CountsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	width, start, end, err := bucketWindow(r.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	out := make([]int64, buckets)
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() || buckets == 0 {
		return out, err
	}
	lower := max(start, sinceUnix(f.Since))
	via := viaTime
	if f.IPPrefix != "" {
		p, err := r.planFor(ctx, sc, lower, f.IPPrefix)
		if err != nil {
			return nil, err
		}
		via = p.via
	}
	bw := bucketQuery{table: "bans", start: start, width: width, lower: lower, end: end, n: buckets}
	if via == viaTime && buckets <= maxRangeBuckets {
		bw.ranges = true
		bw.cond = filterWhere(jailScope{jails: sc.jails}, 0, f.IPPrefix, viaTime) // jail IN (…) for the ranges
	} else {
		bw.cond = filterWhere(sc, 0, f.IPPrefix, via)
		bw.timeCol = "+timeofban"
	}
	q, args := bw.sql()
	err = r.read(ctx, "count by bucket", func(ctx context.Context) error {
		clear(out)
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, n int64
			if err := rows.Scan(&b, &n); err != nil {
				return err
			}
			if b >= 0 && b < int64(len(out)) {
				out[b] = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxRangeBuckets is the most buckets CountsByBucket counts as index ranges.
const maxRangeBuckets = 1000

// bucketQuery builds the one statement behind CountsByBucket, in one of two
// shapes. ranges counts each bucket as its own range of the time index,
// with a correlated count per row of a recursive bucket list: no sort at
// all, about five times faster than GROUP BY over a year of a million rows
// (the GROUP BY must sort every row's bucket number). The GROUP BY shape
// groups on (timeofban - start) / width; it serves many buckets and filters
// whose rows are not found through the time index.
type bucketQuery struct {
	table   string
	cond    where  // filter conditions without the time bounds
	timeCol string // "timeofban", or "+timeofban" to keep SQLite off the time index
	start   int64  // window start (bucket 0 begins here)
	width   int64  // bucket width in seconds
	lower   int64  // first second counted: start or a later Since
	end     int64  // window end, exclusive
	n       int
	ranges  bool
}

func (q bucketQuery) sql() (string, []any) {
	if q.ranges {
		w := q.cond
		w.conds = append(w.conds[:len(w.conds):len(w.conds)], "timeofban >= max(? + k.b * ?, ?)", "timeofban < ? + (k.b + 1) * ?")
		w.args = append(w.args[:len(w.args):len(w.args)], q.start, q.width, q.lower, q.start, q.width)
		return `WITH RECURSIVE k(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM k WHERE b + 1 < ?)
			SELECT k.b, (SELECT count(*) FROM ` + q.table + w.clause() + `) FROM k`, append([]any{q.n}, w.args...)
	}
	col := cmp.Or(q.timeCol, "timeofban")
	w := q.cond
	w.conds = append(w.conds[:len(w.conds):len(w.conds)], col+" >= ?", col+" < ?")
	w.args = append(w.args[:len(w.args):len(w.args)], q.lower, q.end)
	return `SELECT (timeofban - ?) / ? AS b, count(*) FROM ` + q.table + w.clause() + ` GROUP BY b`,
		append([]any{q.start, q.width}, w.args...)
}

// bucketWindow validates a bucket request and returns the bucket width in
// seconds and the window [start, end) in unix seconds.
func bucketWindow(now time.Time, bucket time.Duration, buckets int) (width, start, end int64, err error) {
	width = int64(bucket / time.Second)
	if width < 1 || buckets < 0 || buckets > maxBuckets {
		return 0, 0, 0, fmt.Errorf("repo: bad bucket request: %d buckets of %s", buckets, bucket)
	}
	if width > math.MaxInt64/int64(max(buckets, 1))/2 {
		return 0, 0, 0, fmt.Errorf("repo: bad bucket request: %d buckets of %s", buckets, bucket)
	}
	// fail2ban stamps bans with its own clock, which can run a second or so
	// ahead of ours; the window ends a minute after now so that a ban made
	// this instant lands in the last bucket.
	end = now.Unix() + 60
	start = end - width*int64(buckets)
	return width, start, end, nil
}

// CountsByJail returns how many events match f in all and per jail, the
// biggest jail first (ties by name).
func (r *Fail2BanDBReader) CountsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return 0, nil, err
	}
	since := sinceUnix(f.Since)
	via := viaTime
	if f.IPPrefix != "" {
		p, err := r.planFor(ctx, sc, since, f.IPPrefix)
		if err != nil {
			return 0, nil, err
		}
		via = p.via
	}
	w := filterWhere(sc, since, f.IPPrefix, via)
	q, args := `SELECT jail, count(*) AS n FROM bans`+w.clause()+` GROUP BY jail ORDER BY n DESC, jail`, w.args
	if f.IPPrefix == "" && len(sc.jails) <= maxMergeArms {
		q, args = perJailCounts(sc.jails, since)
	}
	var total int64
	var out []models.JailCount
	err = r.read(ctx, "count by jail", func(ctx context.Context) error {
		total, out = 0, out[:0]
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c models.JailCount
			if err := rows.Scan(&c.Jail, &c.Count); err != nil {
				return err
			}
			total += c.Count
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, nil, err
	}
	return total, out, nil
}

// perJailCounts is CountsByJail's statement without an IP prefix: each
// jail's rows at or after since are counted as their own range of (jail,
// timeofban), from the index keys alone. A GROUP BY over the same ranges
// costs twice as much, as it also compares each entry's jail with its
// group's. The counts are MATERIALIZED so that each runs once, not again
// for WHERE and ORDER BY.
func perJailCounts(jails []string, since int64) (string, []any) {
	values, args := jailValues(jails)
	window := ""
	if since > 0 {
		window = ` AND timeofban >= ?`
		args = append(args, since)
	}
	return `WITH j(name) AS (` + values + `),
		c(jail, n) AS MATERIALIZED (SELECT name, (SELECT count(*) FROM bans WHERE jail = j.name` + window + `) FROM j)
		SELECT jail, n FROM c WHERE n > 0 ORDER BY n DESC, jail`, args
}

// CountsByIP returns how many events match f per IP, the most banned IP
// first (ties by IP). Only (jail, timeofban) knows the time and only (ip)
// and (jail, ip) know the IP, so for a window it reads one row per event in
// the window — or, when the window holds most of the rows, counts every
// event per IP on the covering (ip)/(jail, ip) index and subtracts the
// events before the window, which reads one row per older event instead.
func (r *Fail2BanDBReader) CountsByIP(ctx context.Context, f models.HistoryFilter) ([]models.IPCount, error) {
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return nil, err
	}
	since := sinceUnix(f.Since)
	var q string
	var args []any
	switch {
	case since == 0:
		w := filterWhere(sc, 0, f.IPPrefix, viaIP)
		q, args = `SELECT ip, count(*) AS n FROM bans`+w.clause()+` GROUP BY ip`, w.args
	case f.IPPrefix != "":
		p, err := r.planFor(ctx, sc, since, f.IPPrefix)
		if err != nil {
			return nil, err
		}
		w := filterWhere(sc, since, f.IPPrefix, p.via)
		q, args = `SELECT ip, count(*) AS n FROM bans`+w.clause()+` GROUP BY ip`, w.args
	default:
		ww := filterWhere(sc, since, "", viaTime)
		window, err := r.count(ctx, `SELECT count(*) FROM bans`+ww.clause(), ww.args...)
		if err != nil {
			return nil, err
		}
		aw := filterWhere(sc, 0, "", viaIP)
		all, err := r.count(ctx, `SELECT count(*) FROM bans`+aw.clause(), aw.args...)
		if err != nil {
			return nil, err
		}
		if window <= all-window {
			q, args = `SELECT ip, count(*) AS n FROM bans`+ww.clause()+` GROUP BY ip`, ww.args
		} else {
			var ow where
			ow.in("jail", sc.jails)
			ow.add("timeofban < ?", since)
			q = `SELECT ip, sum(n) AS n FROM (
				SELECT ip, count(*) AS n FROM bans` + aw.clause() + ` GROUP BY ip
				UNION ALL
				SELECT ip, -count(*) FROM bans` + ow.clause() + ` GROUP BY ip
			) GROUP BY ip HAVING sum(n) > 0`
			args = append(append([]any(nil), aw.args...), ow.args...)
		}
	}
	q += ` ORDER BY n DESC, ip`
	var out []models.IPCount
	err = r.read(ctx, "count by IP", func(ctx context.Context) error {
		out = out[:0]
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ip sql.NullString
			var c models.IPCount
			if err := rows.Scan(&ip, &c.Count); err != nil {
				return err
			}
			c.IP = ip.String
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HistoryOfIP returns every event of one IP (exact match), newest first.
func (r *Fail2BanDBReader) HistoryOfIP(ctx context.Context, ip string) ([]models.BanRecord, error) {
	var out []models.BanRecord
	err := r.read(ctx, "history of IP", func(ctx context.Context) error {
		var err error
		out, err = r.records(ctx, `SELECT `+banColumns+` FROM bans WHERE ip = ? ORDER BY timeofban DESC, rowid DESC`, ip)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Summary describes the bans table: rows, oldest and newest ban. The
// oldest and newest come from one index seek per jail.
func (r *Fail2BanDBReader) Summary(ctx context.Context) (models.BansSummary, error) {
	var s models.BansSummary
	err := r.read(ctx, "summary", func(ctx context.Context) error {
		s = models.BansSummary{}
		var lo, hi sql.NullInt64
		err := r.queryRow(ctx, `WITH RECURSIVE j(name) AS (
			SELECT min(jail) FROM bans
			UNION ALL
			SELECT (SELECT min(jail) FROM bans WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL
		) SELECT (SELECT count(*) FROM bans),
			min((SELECT min(timeofban) FROM bans WHERE jail = j.name)),
			max((SELECT max(timeofban) FROM bans WHERE jail = j.name))
		FROM j WHERE j.name IS NOT NULL`).Scan(&s.Rows, &lo, &hi)
		if err != nil {
			return err
		}
		if lo.Valid {
			s.Oldest = time.Unix(lo.Int64, 0)
		}
		if hi.Valid {
			s.Newest = time.Unix(hi.Int64, 0)
		}
		return nil
	})
	return s, err
}

// NewRowsSince returns up to limit rows with a rowid above afterRowID, in
// rowid order — the rows fail2ban added since a sync stopped at afterRowID
// (see SyncArchive for why rowids alone are not enough).
func (r *Fail2BanDBReader) NewRowsSince(ctx context.Context, afterRowID int64, limit int) ([]F2BRow, error) {
	if limit < 1 {
		return nil, nil
	}
	return r.rows(ctx, "new rows", `SELECT `+banColumns+` FROM bans WHERE rowid > ? ORDER BY rowid LIMIT ?`, afterRowID, limit)
}

// RowsAtOrAfter returns up to limit rows with timeofban >= since and a
// rowid in (afterRowID, maxRowID], in rowid order.
func (r *Fail2BanDBReader) RowsAtOrAfter(ctx context.Context, since, afterRowID, maxRowID int64, limit int) ([]F2BRow, error) {
	jails, err := r.Jails(ctx)
	if err != nil || len(jails) == 0 {
		return nil, err
	}
	var w where
	w.in("jail", jails)
	w.add("timeofban >= ?", since)
	w.add("+rowid > ?", afterRowID)
	w.add("+rowid <= ?", maxRowID)
	return r.rows(ctx, "rows since", `SELECT `+banColumns+` FROM bans`+w.clause()+` ORDER BY rowid LIMIT ?`, append(w.args, limit)...)
}

// RowByID returns the row with the given rowid; found is false when there is none.
func (r *Fail2BanDBReader) RowByID(ctx context.Context, rowid int64) (F2BRow, bool, error) {
	return r.oneRow(ctx, "row", `SELECT `+banColumns+` FROM bans WHERE rowid = ?`, rowid)
}

// LastRowAtOrBelow returns the row with the highest rowid <= rowid; found is false when there is none.
func (r *Fail2BanDBReader) LastRowAtOrBelow(ctx context.Context, rowid int64) (F2BRow, bool, error) {
	return r.oneRow(ctx, "last row", `SELECT `+banColumns+` FROM bans WHERE rowid <= ? ORDER BY rowid DESC LIMIT 1`, rowid)
}

func (r *Fail2BanDBReader) oneRow(ctx context.Context, what, q string, args ...any) (F2BRow, bool, error) {
	rows, err := r.rows(ctx, what, q, args...)
	if err != nil || len(rows) == 0 {
		return F2BRow{}, false, err
	}
	return rows[0], true, nil
}

// MaxRowID is the highest rowid in bans, 0 when it is empty.
func (r *Fail2BanDBReader) MaxRowID(ctx context.Context) (int64, error) {
	return r.count(ctx, `SELECT coalesce(max(rowid), 0) FROM bans`)
}

func (r *Fail2BanDBReader) rows(ctx context.Context, what, q string, args ...any) ([]F2BRow, error) {
	var out []F2BRow
	err := r.read(ctx, what, func(ctx context.Context) error {
		out = out[:0]
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			row, err := scanF2BRow(rows)
			if err != nil {
				return err
			}
			out = append(out, row)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// The data column

// decodeBanData extracts failures and matches from fail2ban's data JSON
// ({"matches": […], "failures": N, …}). It tolerates the literal null,
// missing keys and values of the wrong type (giving zero and no matches),
// and text that is not valid JSON (giving nothing at all). A match is a
// plain string, or a list such as [prefix, date, rest] whose parts are
// joined without separator as fail2ban does; other values appear as their
// JSON text and null matches are left out. failures may be a number or a
// numeric string.
//
// It is a small single-pass scanner instead of encoding/json: the history
// of a busy IP decodes thousands of rows, and encoding/json's validate,
// decode and re-decode passes made that several times slower than SQLite
// reading the rows.
func decodeBanData(s string) (failures int64, matches []string) {
	return scanBanData(s, true)
}

// failuresOf is decodeBanData's failures alone, without building the lines.
func failuresOf(s string) int64 {
	n, _ := scanBanData(s, false)
	return n
}

func scanBanData(s string, wantMatches bool) (failures int64, matches []string) {
	p := jsonScanner{s: s}
	p.ws()
	if !p.peek('{') {
		return 0, nil // null, a list, a string, or not JSON
	}
	p.i++
	p.ws()
	if p.peek('}') {
		p.i++
	} else {
		for !p.bad {
			key := p.str()
			p.ws()
			p.expect(':')
			p.ws()
			switch {
			case p.bad:
			case key == "matches" && p.peek('['):
				matches = p.matches(wantMatches)
			case key == "matches":
				matches = nil
				p.skip(0)
			case key == "failures":
				failures = p.failures()
			default:
				p.skip(0)
			}
			p.ws()
			if p.peek(',') {
				p.i++
				p.ws()
				continue
			}
			p.expect('}')
			break
		}
	}
	p.ws()
	if p.bad || p.i != len(p.s) {
		return 0, nil
	}
	return failures, matches
}

// jsonScanner reads JSON text strictly (RFC 8259); any error sets bad.
type jsonScanner struct {
	s   string
	i   int
	bad bool
	buf []byte
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) peek(c byte) bool { return !p.bad && p.i < len(p.s) && p.s[p.i] == c }

func (p *jsonScanner) expect(c byte) {
	if p.peek(c) {
		p.i++
		return
	}
	p.bad = true
}

func (p *jsonScanner) literal(word string) {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return
	}
	p.bad = true
}

// skip steps over one value.
func (p *jsonScanner) skip(depth int) {
	if p.bad || p.i >= len(p.s) || depth > maxJSONDepth {
		p.bad = true
		return
	}
	switch c := p.s[p.i]; {
	case c == '"':
		p.skipStr()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.peek(end) {
			p.i++
			return
		}
		for !p.bad {
			if c == '{' {
				p.skipStr()
				p.ws()
				p.expect(':')
				p.ws()
			}
			p.skip(depth + 1)
			p.ws()
			if p.peek(',') {
				p.i++
				p.ws()
				continue
			}
			p.expect(end)
			return
		}
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	default:
		p.number()
	}
}

// number steps over a number and returns its text.
func (p *jsonScanner) number() string {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.peek('-') {
		p.i++
	}
	switch {
	case p.peek('0'):
		p.i++
	case digits() == 0:
		p.bad = true
		return ""
	}
	if p.peek('.') {
		p.i++
		if digits() == 0 {
			p.bad = true
		}
	}
	if p.peek('e') || p.peek('E') {
		p.i++
		if p.peek('+') || p.peek('-') {
			p.i++
		}
		if digits() == 0 {
			p.bad = true
		}
	}
	return p.s[start:p.i]
}

func (p *jsonScanner) skipStr() {
	if !p.peek('"') {
		p.bad = true
		return
	}
	for i := p.i + 1; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '"':
			p.i = i + 1
			return
		case c == '\\' || c < 0x20:
			p.str() // rare: validate the escapes properly
			return
		}
	}
	p.bad = true
}

// str reads a string and returns it unescaped. Invalid UTF-8 and lone
// surrogates become U+FFFD, as with encoding/json.
func (p *jsonScanner) str() string {
	if !p.peek('"') {
		p.bad = true
		return ""
	}
	i := p.i + 1
	// Fast path: no escapes, valid UTF-8.
	for j := i; j < len(p.s); j++ {
		c := p.s[j]
		if c == '"' {
			if utf8.ValidString(p.s[i:j]) {
				p.i = j + 1
				return p.s[i:j]
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	b := p.buf[:0]
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = b
			return string(b)
		case c < 0x20:
			p.bad = true
			return ""
		case c == '\\':
			if i+1 >= len(p.s) {
				p.bad = true
				return ""
			}
			i++
			switch e := p.s[i]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(p.s, i+1)
				if !ok {
					p.bad = true
					return ""
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+6 < len(p.s) && p.s[i+1] == '\\' && p.s[i+2] == 'u' {
						r2, ok = hex4(p.s, i+3)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.bad = true
				return ""
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[i:])
			b = utf8.AppendRune(b, r) // RuneError for invalid bytes
			i += size
		}
	}
	p.bad = true
	return ""
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// matches reads the matches list; with build false it only steps over it.
func (p *jsonScanner) matches(build bool) []string {
	p.i++ // [
	p.ws()
	var out []string
	if p.peek(']') {
		p.i++
		return nil
	}
	for !p.bad {
		switch {
		case p.peek('"'):
			if build {
				out = append(out, p.str())
			} else {
				p.skipStr()
			}
		case p.peek('['):
			line := p.joined(build)
			if build {
				out = append(out, line)
			}
		case p.peek('n'):
			p.literal("null")
		default:
			start := p.i
			p.skip(1)
			if build && !p.bad {
				out = append(out, p.s[start:p.i])
			}
		}
		p.ws()
		if p.peek(',') {
			p.i++
			p.ws()
			continue
		}
		p.expect(']')
		break
	}
	return out
}

// joined reads a list of line parts and joins them: strings as they are,
// null as nothing, anything else as its JSON text.
func (p *jsonScanner) joined(build bool) string {
	p.i++ // [
	p.ws()
	if p.peek(']') {
		p.i++
		return ""
	}
	var sb strings.Builder
	for !p.bad {
		switch {
		case p.peek('"'):
			s := p.str()
			if build {
				sb.WriteString(s)
			}
		case p.peek('n'):
			p.literal("null")
		default:
			start := p.i
			p.skip(2)
			if build && !p.bad {
				sb.WriteString(p.s[start:p.i])
			}
		}
		p.ws()
		if p.peek(',') {
			p.i++
			p.ws()
			continue
		}
		p.expect(']')
		break
	}
	return sb.String()
}

// failures reads the failures value: a number (truncated to an integer) or
// a string holding an integer; anything else counts zero.
func (p *jsonScanner) failures() int64 {
	switch {
	case p.peek('"'):
		s := p.str()
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n
		}
		return 0
	case p.peek('-') || (p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9'):
		num := p.number()
		if p.bad {
			return 0
		}
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			return n
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < math.MinInt64 || f >= math.MaxInt64 || f != f {
			return 0
		}
		return int64(f)
	default:
		p.skip(0)
		return 0
	}
}
