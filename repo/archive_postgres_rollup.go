package repo

import (
	"context"
	"fmt"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// The PostgreSQL archive's counts from its roll-ups (migration
// 20261207130000_archive_rollups): whole UTC days (or hours) of a window
// come from a roll-up table, and only the ragged edges of the window, less
// than a day (an hour), are counted on history_archive itself. The
// triggers that keep the roll-ups run in the writing statement's
// transaction, so the sum is exact. Filters on an IP prefix cannot use a
// roll-up; the country roll-up has no host or jail, the hourly one no
// host or jail either: those filters count on history_archive.

const (
	pgDay  = 86400
	pgHour = 3600
)

// floorTo rounds t down to a multiple of w (also for negative t).
func floorTo(t, w int64) int64 { return t - ((t%w)+w)%w }

// ceilTo rounds t up to a multiple of w.
func ceilTo(t, w int64) int64 { return floorTo(t+w-1, w) }

// rollupFilter adds f's conditions on the columns every roll-up has
// (origin, action) and, when hostJail, on host and jail.
func rollupFilter(w *sqlkit.Where, f models.HistoryFilter, hostJail bool) {
	if hostJail && f.Host != "" {
		w.Add("host = ?", pgText(f.Host))
	}
	if hostJail && f.Jail != "" {
		w.Add("jail = ?", pgText(f.Jail))
	}
	if f.Origin != models.OriginAll {
		w.Add("origin = ?", string(f.Origin))
	}
	if f.Action != "" {
		w.Add("action = ?", f.Action)
	}
}

// dayRollup returns a statement of (k, n) rows: the events matching f (no
// IP prefix) counted per key, col of the roll-up table (a day table) and
// rawCol on history_archive, over the whole days of f's window from the
// roll-up and its first part day from history_archive. The counts may be
// zero.
func dayRollup(table, col, rawCol string, f models.HistoryFilter, hostJail bool) (string, []any) {
	var rw sqlkit.Where
	since := sqlkit.SinceUnix(f.Since)
	var edge string
	var edgeArgs []any
	if since > 0 {
		day := ceilTo(since, pgDay)
		rw.Add("day >= ?", day)
		if since < day {
			var w sqlkit.Where
			w.Add("timeofban >= ?", since)
			w.Add("timeofban < ?", day)
			pgFilter(&w, f)
			edge = ` UNION ALL SELECT ` + rawCol + `, count(*) FROM history_archive` + w.Clause() + ` GROUP BY 1`
			edgeArgs = w.Args()
		}
	}
	rollupFilter(&rw, f, hostJail)
	return `SELECT k, sum(n)::bigint AS n FROM (SELECT ` + col + ` AS k, n FROM ` + table + rw.Clause() + edge + `) x GROUP BY k`,
		append(rw.Args(), edgeArgs...)
}

// jailRollup is dayRollup per jail, for a filter without IP prefix.
func jailRollup(f models.HistoryFilter) (string, []any) {
	return dayRollup("history_archive_jail_day", "jail", "jail", f, true)
}

// countryRollup is dayRollup per country ("" for unknown), for a filter
// without host, jail or IP prefix.
func countryRollup(f models.HistoryFilter) (string, []any) {
	return dayRollup("history_archive_country_day", "country", "coalesce(country_code, '')", f, false)
}

// canRollUp reports whether f's counts can come from the jail roll-up;
// canRollUpCountry and canRollUpHours from the country and hourly ones.
func canRollUp(f models.HistoryFilter) bool { return f.IPPrefix == "" }

func canRollUpCountry(f models.HistoryFilter) bool {
	return f.IPPrefix == "" && f.Host == "" && f.Jail == ""
}

// minRollupBucket is the narrowest bucket counted from the hourly roll-up:
// every bucket boundary inside an hour costs that hour on history_archive.
const minRollupBucket = 6 * pgHour

func canRollUpHours(f models.HistoryFilter, width int64) bool {
	return canRollUpCountry(f) && width >= minRollupBucket
}

// hourBuckets counts the events matching f (see canRollUpHours) in n
// buckets of width seconds from start, counting from lower to end: the
// whole hours that lie in one bucket from history_archive_hour; the part
// hours at the window's ends and the hours a bucket boundary cuts from
// history_archive, as a list of time ranges.
func (s *postgresArchive) hourBuckets(ctx context.Context, f models.HistoryFilter, start, width, lower, end int64, n int) ([]int64, error) {
	out := make([]int64, n)
	h0, h1 := ceilTo(lower, pgHour), floorTo(end, pgHour)
	if h0 >= h1 {
		h0, h1 = end, end // no whole hour: everything from history_archive
	}
	var los, his []int64
	addRange := func(lo, hi int64) {
		if lo < hi {
			los, his = append(los, lo), append(his, hi)
		}
	}
	addRange(lower, min(h0, end))
	for k := 1; k < n; k++ {
		if b := start + int64(k)*width; b%pgHour != 0 {
			if h := floorTo(b, pgHour); h >= h0 && h < h1 {
				addRange(h, h+pgHour)
			}
		}
	}
	addRange(max(h1, lower), end)
	var rw sqlkit.Where
	rw.Add("hour >= ?", h0)
	rw.Add("hour < ?", h1)
	rw.Add("(hour - ?::bigint) / ?::bigint = (hour + 3599 - ?::bigint) / ?::bigint", start, width, start, width)
	rollupFilter(&rw, f, false)
	var ew sqlkit.Where
	pgFilter(&ew, f)
	q := `SELECT b, sum(c)::bigint FROM (
		SELECT (hour - ?::bigint) / ?::bigint AS b, n AS c FROM history_archive_hour` + rw.Clause() + `
		UNION ALL
		SELECT (timeofban - ?::bigint) / ?::bigint, count(*) FROM history_archive
			JOIN unnest(?::bigint[], ?::bigint[]) AS r(lo, hi) ON timeofban >= r.lo AND timeofban < r.hi` + ew.Clause() + `
			GROUP BY 1) x GROUP BY b`
	args := append([]any{start, width}, rw.Args()...)
	args = append(args, start, width, los, his)
	args = append(args, ew.Args()...)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var b, c int64
		if err := rows.Scan(&b, &c); err != nil {
			return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
		}
		if b >= 0 && b < int64(n) {
			out[b] += c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	return out, nil
}
