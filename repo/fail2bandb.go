package repo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// f2bMaxConns bounds the read-only connections to fail2ban's database.
const f2bMaxConns = 4

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
// Fail2BanDB for one host's database: it ignores HistoryFilter.Host and
// leaves BanRecord.Host empty.
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
	// cache shares the counts of a year of bans between requests while
	// the file is unchanged; version tells whether it changed.
	cache   *resultCache
	version fileVersion
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
	// One more is held by the result cache's version (see fileVersion).
	sqldb.SetMaxOpenConns(f2bMaxConns + 1)
	sqldb.SetMaxIdleConns(f2bMaxConns + 1)
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
	r.version = fileVersion{db: sqldb, path: abs}
	r.cache = newResultCache(r.version.get)
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
	r.cache.close()
	r.version.close()
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("repo: close fail2ban database: %w", err)
	}
	return nil
}

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

// readAll runs q as one read (retried while fail2ban holds its write
// lock, see read) and returns every row as scan makes it.
func readAll[T any](ctx context.Context, r *Fail2BanDBReader, what, q string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	var out []T
	err := r.read(ctx, what, func(ctx context.Context) error {
		out = out[:0]
		rows, err := r.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
