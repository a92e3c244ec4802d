package repo

import (
	"context"
	"fmt"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// The SQLite archive's BanSource queries and counts per country; the
// counts go through the result cache.

// Bans returns one page of archived events matching f (Action included),
// newest first, and how many match in all.
func (s *sqliteArchive) Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error) {
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
	var total int64
	var err error
	if f.IPPrefix == "" {
		total, err = s.plannedCount(ctx, "count", f, windowCountStatement)
	} else {
		cq, cargs := countStatement(f, w)
		total, err = s.cachedCount(ctx, "count", f, cq, cargs...)
	}
	if err != nil || offset >= total {
		return nil, total, err
	}
	ps := sqlkit.SpanOf(total, limit, offset)
	inner := `SELECT id FROM history_archive` + w.Clause() + ` ORDER BY ` + ps.Order("timeofban", "id") + ` LIMIT ? OFFSET ?`
	args := append(w.Args(), ps.Limit, ps.Offset)
	if f.Origin != models.OriginAll && f.Action == "" && f.Jail == "" && f.IPPrefix == "" && f.Host == "" && sqlkit.SinceUnix(f.Since) == 0 {
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

func (s *sqliteArchive) countsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
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
	return scanBuckets(rows, out)
}

func (s *sqliteArchive) countsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	var q string
	var args []any
	if f.Action == ActionBan && f.Jail == "" && f.IPPrefix == "" && f.Host == "" {
		q, args = banJailCounts(f)
	} else {
		w := archiveWhere(f)
		q, args = `SELECT jail, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY jail ORDER BY n DESC, jail`, w.Args()
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
	}
	return scanJailCounts(rows, asStored)
}

// CountsByIP returns how many archived events match f per IP, the most
// frequent IP first (ties by IP).
func (s *sqliteArchive) CountsByIP(ctx context.Context, f models.HistoryFilter) ([]models.IPCount, error) {
	w := archiveWhere(f)
	rows, err := s.query(ctx, `SELECT ip, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY ip ORDER BY n DESC, ip`, w.Args()...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
	}
	return scanIPCounts(rows, asStored)
}

// smallWindow is how many events a time window may hold for
// CountsByCountry to read it through history_archive_time_country (a range
// of the window, then a sort of its rows) rather than walking the whole
// history_archive_country index in country order.
const smallWindow = 50_000

// countsByCountry is CountsByCountry without the cache. It is one GROUP BY: over
// the window's range of history_archive_time_country when the window holds
// at most smallWindow events (checked with a bounded count), otherwise over
// the whole history_archive_country index, which streams the groups; ban
// events of every host without jail or IP prefix take banCountryCounts' key
// ranges instead.
func (s *sqliteArchive) countsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	var queries []string
	var args [][]any
	small := false
	hw, hostKeyed := hostKeyed(f, false)
	if !hostKeyed {
		var err error
		if small, err = s.smallWindow(ctx, f); err != nil {
			return nil, err
		}
	}
	if hostKeyed {
		// One host's window: a range of history_archive_host_ban, grouped
		// from its keys.
		queries = append(queries, `SELECT ifnull(country_code, ''), count(*) FROM history_archive INDEXED BY history_archive_host_ban`+
			hw.Clause()+` GROUP BY country_code`)
		args = append(args, hw.Args())
	} else if small {
		var w sqlkit.Where
		w.Add("timeofban >= ?", sqlkit.SinceUnix(f.Since))
		if f.Action != "" {
			w.Add("action = ?", f.Action)
		}
		if f.Origin != models.OriginAll {
			w.Add("origin = ?", string(f.Origin))
		}
		hostWhere(&w, f)
		queries = append(queries, `SELECT ifnull(country_code, ''), count(*) FROM history_archive INDEXED BY history_archive_time_country`+
			w.Clause()+` GROUP BY country_code`)
		args = append(args, w.Args())
	} else if f.Action == ActionBan && f.Jail == "" && f.IPPrefix == "" && f.Host == "" {
		q, a := banCountryCounts(f)
		queries, args = append(queries, q), append(args, a)
	} else {
		w := countryWhere(f)
		w.Add("country_code >= ?", "") // walk the index from its first non-NULL entry
		queries = append(queries, `SELECT country_code, count(*) FROM history_archive`+w.Clause()+` GROUP BY country_code`)
		args = append(args, w.Args())
		w = countryWhere(f)
		w.Add("country_code IS NULL")
		queries = append(queries, `SELECT '', count(*) FROM history_archive`+w.Clause())
		args = append(args, w.Args())
	}
	var out []models.CountryCount
	var unknown int64
	for i, q := range queries {
		rows, err := s.sql.QueryContext(ctx, q, args[i]...)
		if err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
		}
		for rows.Next() {
			var c models.CountryCount
			if err := rows.Scan(&c.Code, &c.Count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
			}
			if c.Code == "" {
				unknown += c.Count
				continue
			}
			out = append(out, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
		}
	}
	sortCountryCounts(out)
	if unknown > 0 {
		out = append(out, models.CountryCount{Code: "", Count: unknown})
	}
	return out, nil
}

// smallWindow reports whether f is a time window on the columns of
// history_archive_time_country that holds at most smallWindow events. The
// count stops early, so asking costs at most smallWindow index steps.
func (s *sqliteArchive) smallWindow(ctx context.Context, f models.HistoryFilter) (bool, error) {
	since := sqlkit.SinceUnix(f.Since)
	if since == 0 || f.Jail != "" || f.IPPrefix != "" {
		return false, nil
	}
	n, err := s.count(ctx, "window size", `SELECT count(*) FROM (SELECT 1 FROM history_archive
		INDEXED BY history_archive_time_country WHERE timeofban >= ? LIMIT ?)`, since, smallWindow+1)
	return n <= smallWindow, err
}

// windowCountStatement is the count of Bans for a filter without an IP
// prefix.
func windowCountStatement(f models.HistoryFilter) (string, []any) {
	w, keyed := keyedFilter(f, false)
	if !keyed {
		w = archiveWhere(f)
	}
	return countStatement(f, w)
}
