package repo

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// fileVersion tells whether fail2ban's database changed, for the result
// cache of Fail2BanDBReader. fail2ban's file is not ours to add a change
// counter to (the archive has one, see resultCache), but SQLite keeps one
// per connection: PRAGMA data_version changes on one connection whenever
// another connection, in this process or any other, committed a change.
// So fileVersion holds one connection of the read-only pool for itself;
// its number of the connection (gen) goes into the version, since the
// values of two connections cannot be compared. A file that fail2ban
// deleted and created again (another inode) gets a new connection.
type fileVersion struct {
	db   *sql.DB
	path string

	mu     sync.Mutex
	conn   *sql.Conn
	ino    uint64
	gen    int64
	closed bool
}

// get returns the database's version: equal versions mean equal contents.
func (v *fileVersion) get(ctx context.Context) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return 0, sql.ErrConnDone
	}
	var ino uint64
	if fi, err := os.Stat(v.path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
	}
	if v.conn != nil && ino != v.ino {
		v.drop()
	}
	if v.conn == nil {
		c, err := v.db.Conn(ctx)
		if err != nil {
			return 0, err
		}
		v.conn, v.ino = c, ino
		v.gen++
	}
	var dv int64
	if err := v.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		v.drop()
		return 0, err
	}
	return v.gen<<32 | dv&(1<<32-1), nil
}

func (v *fileVersion) drop() {
	if v.conn != nil {
		v.conn.Close()
		v.conn = nil
	}
}

// close returns the held connection to the pool before the pool closes.
func (v *fileVersion) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.drop()
	v.closed = true
}

// CountsByBucket counts the events matching f in buckets consecutive
// windows of length bucket that end now, oldest first; empty windows count
// zero. Bucket i covers [end-(buckets-i)·bucket, end-(buckets-i-1)·bucket)
// with end one second after now, so a ban at this very second counts. The
// counts are shared between requests while the file is unchanged and for
// at most a minute, and kept computed while asked (see resultCache and its
// warmer).
func (r *Fail2BanDBReader) CountsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	_, start, _, err := bucketWindow(r.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	v, err := r.cache.getPlanned(ctx, cacheKey("bucket", f, (sqlkit.SinceUnix(f.Since)-start)/60, bucket, buckets), f,
		func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
			_, start, _, err := bucketWindow(r.now(), bucket, buckets)
			return start, func() (any, error) { return r.countsByBucket(ctx, f, bucket, buckets) }, err
		})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]int64)), nil
}

// CountsByJail returns how many events match f in all and per jail, the
// biggest jail first (ties by name). The counts are shared between
// requests while the file is unchanged and for at most a minute, and kept
// computed while asked (see resultCache and its warmer).
func (r *Fail2BanDBReader) CountsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	v, err := r.cache.getPlanned(ctx, cacheKey("jail", f), f, func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		return sqlkit.SinceUnix(f.Since), func() (any, error) {
			total, counts, err := r.countsByJail(ctx, f)
			return jailCounts{total, counts}, err
		}, nil
	})
	if err != nil {
		return 0, nil, err
	}
	jc := v.(jailCounts)
	return jc.total, slices.Clone(jc.counts), nil
}

// cachedCount is a count of the events matching f that count computes
// for a filter, shared between requests like the other counts; what names
// the count.
func (r *Fail2BanDBReader) cachedCount(ctx context.Context, what string, f models.HistoryFilter, count func(ctx context.Context, f models.HistoryFilter) (int64, error)) (int64, error) {
	v, err := r.cache.getPlanned(ctx, cacheKey(what, f), f, func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		return sqlkit.SinceUnix(f.Since), func() (any, error) { return count(ctx, f) }, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}
