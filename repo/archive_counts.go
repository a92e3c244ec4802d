package repo

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// archiveCounter is what each dialect's archive counts straight from its
// database; cachedCounts answers HistoryArchive's counts through the
// result cache on top of it, the same way for every dialect.
type archiveCounter interface {
	clock() time.Time
	count(ctx context.Context, what, q string, args ...any) (int64, error)
	countsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error)
	countsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error)
	countsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error)
}

// cachedCounts shares the archive's counts between requests while the
// archive is unchanged (see resultCache). Each dialect's archive embeds it.
type cachedCounts struct {
	cache   *resultCache
	counter archiveCounter
}

// CountsByBucket counts archived events matching f in buckets consecutive
// windows of length bucket ending now, oldest first (see
// Fail2BanDBReader.CountsByBucket for the exact bounds).
func (c cachedCounts) CountsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	// The buckets end now: key the result by where they start.
	_, start, _, err := bucketWindow(c.counter.clock(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	v, err := c.cache.getPlanned(ctx, cacheKey("bucket", f, (sqlkit.SinceUnix(f.Since)-start)/60, bucket, buckets), f,
		func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
			_, start, _, err := bucketWindow(c.counter.clock(), bucket, buckets)
			return start, func() (any, error) { return c.counter.countsByBucket(ctx, f, bucket, buckets) }, err
		})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]int64)), nil
}

// CountsByJail returns how many archived events match f in all and per
// jail, the biggest jail first (ties by name).
func (c cachedCounts) CountsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	v, err := c.cache.getPlanned(ctx, cacheKey("jail", f), f, func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		return sqlkit.SinceUnix(f.Since), func() (any, error) {
			total, counts, err := c.counter.countsByJail(ctx, f)
			return jailCounts{total, counts}, err
		}, nil
	})
	if err != nil {
		return 0, nil, err
	}
	jc := v.(jailCounts)
	return jc.total, slices.Clone(jc.counts), nil
}

// CountsByCountry counts the archived events matching f per country, the
// biggest first (ties by code). Events without a known country (NULL or
// "") are counted together under Code "", last.
func (c cachedCounts) CountsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	v, err := c.cache.getPlanned(ctx, cacheKey("country", f), f, func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		return sqlkit.SinceUnix(f.Since), func() (any, error) { return c.counter.countsByCountry(ctx, f) }, nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]models.CountryCount)), nil
}

// cachedCount is count through the result cache; q and args must follow
// from what and f alone.
func (c cachedCounts) cachedCount(ctx context.Context, what string, f models.HistoryFilter, q string, args ...any) (int64, error) {
	v, err := c.cache.get(ctx, cacheKey(what, f), sqlkit.SinceUnix(f.Since), func() (any, error) {
		return c.counter.count(ctx, what, q, args...)
	})
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// plannedCount is cachedCount for a count whose statement build makes
// from f alone, kept computed while asked (see the warmer of resultCache).
func (c cachedCounts) plannedCount(ctx context.Context, what string, f models.HistoryFilter, build func(f models.HistoryFilter) (string, []any)) (int64, error) {
	v, err := c.cache.getPlanned(ctx, cacheKey(what, f), f, func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		q, args := build(f)
		return sqlkit.SinceUnix(f.Since), func() (any, error) { return c.counter.count(ctx, what, q, args...) }, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// scanBuckets reads (bucket, count) rows into out, ignoring buckets
// outside it.
func scanBuckets(rows *sql.Rows, out []int64) ([]int64, error) {
	defer rows.Close()
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
		}
		if b >= 0 && b < int64(len(out)) {
			out[b] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	return out, nil
}

// scanJailCounts reads (jail, count) rows and their total, each jail name
// passed through plain (the dialect's decoding of stored text).
func scanJailCounts(rows *sql.Rows, plain func(string) string) (int64, []models.JailCount, error) {
	defer rows.Close()
	var total int64
	var out []models.JailCount
	for rows.Next() {
		var c models.JailCount
		if err := rows.Scan(&c.Jail, &c.Count); err != nil {
			return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
		}
		c.Jail = plain(c.Jail)
		total += c.Count
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
	}
	return total, out, nil
}

// scanIPCounts reads (ip, count) rows, each address passed through plain.
func scanIPCounts(rows *sql.Rows, plain func(string) string) ([]models.IPCount, error) {
	defer rows.Close()
	var out []models.IPCount
	for rows.Next() {
		var c models.IPCount
		if err := rows.Scan(&c.IP, &c.Count); err != nil {
			return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
		}
		c.IP = plain(c.IP)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
	}
	return out, nil
}

// asStored is the plain of a dialect that stores text as given.
func asStored(s string) string { return s }
