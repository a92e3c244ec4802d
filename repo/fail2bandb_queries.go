package repo

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

const banColumns = `rowid, jail, ip, timeofban, bantime, bancount, data`

// maxMergeArms bounds the per-jail compound SELECT (SQLite allows 500 arms).
const maxMergeArms = 200

// Bans returns one page of ban events matching f, newest first, and how many
// match in all. A page past the end is empty with the right total.
func (r *Fail2BanDBReader) Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error) {
	limit, offset := sqlkit.NormPage(page)
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return nil, 0, err
	}
	since := sqlkit.SinceUnix(f.Since)

	var total int64
	var rowids string // SQL selecting the page's rowids
	var args []any
	if f.IPPrefix == "" {
		total, err = r.cachedCount(ctx, "count", f, r.windowCount)
		if err != nil {
			return nil, 0, err
		}
		if offset >= total {
			return nil, total, nil
		}
		rowids, args = mergedPage(sc, since, "", sqlkit.SpanOf(total, limit, offset))
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
			if total, err = r.count(ctx, `SELECT count(*) FROM bans`+w.Clause(), w.Args()...); err != nil {
				return nil, 0, err
			}
		}
		if offset >= total {
			return nil, total, nil
		}
		// Walking the time index from the nearer end finds a page after
		// about depth·windowRows/total rows; the IP index reads all
		// prefixRows candidates and sorts them.
		ps := sqlkit.SpanOf(total, limit, offset)
		walk := float64(ps.Depth()) * float64(p.windowRows) / float64(total)
		if walk < float64(p.prefixRows) {
			rowids, args = mergedPage(sc, since, f.IPPrefix, ps)
		} else {
			w := filterWhere(sc, since, f.IPPrefix, viaIP)
			rowids = `SELECT rowid FROM bans` + w.Clause() + ` ORDER BY ` + ps.Order("timeofban", "rowid") + ` LIMIT ? OFFSET ?`
			args = append(w.Args(), ps.Limit, ps.Offset)
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

// mergedPage selects the rowids of one page as a compound SELECT with one
// arm per jail. Each arm walks (jail, timeofban) from one end; SQLite merges
// the sorted arms, so a page costs about its depth in index steps instead
// of a sort of every row in the window. A prefix is checked on the row (+ip
// keeps the arms on the time index).
func mergedPage(sc jailScope, since int64, prefix string, ps sqlkit.PageSpan) (string, []any) {
	if len(sc.jails) > maxMergeArms { // absurd jail counts: one sorted scan
		w := filterWhere(sc, since, prefix, viaTime)
		return `SELECT rowid FROM bans` + w.Clause() + ` ORDER BY ` + ps.Order("timeofban", "rowid") + ` LIMIT ? OFFSET ?`,
			append(w.Args(), ps.Limit, ps.Offset)
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
		sb.WriteString(w.Clause())
		args = append(args, w.Args()...)
	}
	sb.WriteString(` ORDER BY ` + ps.Order("t", "rid") + ` LIMIT ? OFFSET ?)`)
	return sb.String(), append(args, ps.Limit, ps.Offset)
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

// CountsByBucket counts the events matching f in buckets consecutive
// windows of length bucket that end now, oldest first; empty windows count
// zero. Bucket i covers [end-(buckets-i)·bucket, end-(buckets-i-1)·bucket)
// with end one second after now, so a ban at this very second counts. It is
// one GROUP BY query over the (jail, timeofban) index, shared between
// requests while the file is unchanged (see cachedBuckets).
func (r *Fail2BanDBReader) countsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	width, start, end, err := bucketWindow(r.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	out := make([]int64, buckets)
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() || buckets == 0 {
		return out, err
	}
	lower := max(start, sqlkit.SinceUnix(f.Since))
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

// CountsByJail returns how many events match f in all and per jail, the
// biggest jail first (ties by name), shared between requests while the
// file is unchanged (see cachedJails).
func (r *Fail2BanDBReader) countsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return 0, nil, err
	}
	since := sqlkit.SinceUnix(f.Since)
	via := viaTime
	if f.IPPrefix != "" {
		p, err := r.planFor(ctx, sc, since, f.IPPrefix)
		if err != nil {
			return 0, nil, err
		}
		via = p.via
	}
	w := filterWhere(sc, since, f.IPPrefix, via)
	q, args := `SELECT jail, count(*) AS n FROM bans`+w.Clause()+` GROUP BY jail ORDER BY n DESC, jail`, w.Args()
	if f.IPPrefix == "" && len(sc.jails) <= maxMergeArms {
		q, args = perJailCounts(sc.jails, since)
	}
	out, err := readAll(ctx, r, "count by jail", q, args, func(rows *sql.Rows) (models.JailCount, error) {
		var c models.JailCount
		return c, rows.Scan(&c.Jail, &c.Count)
	})
	if err != nil {
		return 0, nil, err
	}
	var total int64
	for _, c := range out {
		total += c.Count
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
	values, args := sqlkit.Values(jails)
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
	since := sqlkit.SinceUnix(f.Since)
	var q string
	var args []any
	switch {
	case since == 0:
		w := filterWhere(sc, 0, f.IPPrefix, viaIP)
		q, args = `SELECT ip, count(*) AS n FROM bans`+w.Clause()+` GROUP BY ip`, w.Args()
	case f.IPPrefix != "":
		p, err := r.planFor(ctx, sc, since, f.IPPrefix)
		if err != nil {
			return nil, err
		}
		w := filterWhere(sc, since, f.IPPrefix, p.via)
		q, args = `SELECT ip, count(*) AS n FROM bans`+w.Clause()+` GROUP BY ip`, w.Args()
	default:
		ww := filterWhere(sc, since, "", viaTime)
		window, err := r.count(ctx, `SELECT count(*) FROM bans`+ww.Clause(), ww.Args()...)
		if err != nil {
			return nil, err
		}
		aw := filterWhere(sc, 0, "", viaIP)
		all, err := r.count(ctx, `SELECT count(*) FROM bans`+aw.Clause(), aw.Args()...)
		if err != nil {
			return nil, err
		}
		if window <= all-window {
			q, args = `SELECT ip, count(*) AS n FROM bans`+ww.Clause()+` GROUP BY ip`, ww.Args()
		} else {
			var ow sqlkit.Where
			ow.In("jail", sc.jails)
			ow.Add("timeofban < ?", since)
			q = `SELECT ip, sum(n) AS n FROM (
				SELECT ip, count(*) AS n FROM bans` + aw.Clause() + ` GROUP BY ip
				UNION ALL
				SELECT ip, -count(*) FROM bans` + ow.Clause() + ` GROUP BY ip
			) GROUP BY ip HAVING sum(n) > 0`
			args = append(append([]any(nil), aw.Args()...), ow.Args()...)
		}
	}
	q += ` ORDER BY n DESC, ip`
	return readAll(ctx, r, "count by IP", q, args, func(rows *sql.Rows) (models.IPCount, error) {
		var ip sql.NullString
		var c models.IPCount
		err := rows.Scan(&ip, &c.Count)
		c.IP = ip.String
		return c, err
	})
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

// windowCount counts the events matching f (no IP prefix): per jail on
// (jail, timeofban), or, when the window holds most of the rows, the plain
// count less the rows before it.
func (r *Fail2BanDBReader) windowCount(ctx context.Context, f models.HistoryFilter) (int64, error) {
	sc, err := r.scope(ctx, f)
	if err != nil || sc.empty() {
		return 0, err
	}
	since := sqlkit.SinceUnix(f.Since)
	w := filterWhere(sc, since, "", viaTime)
	q := `SELECT count(*) FROM bans` + w.Clause()
	switch {
	case sc.all && since == 0:
		q, w = `SELECT count(*) FROM bans`, sqlkit.Where{} // plain count(*) counts the b-tree pages, no WHERE
	case sc.all:
		after, err := r.mostlyAfter(ctx, sc.jails, since)
		if err != nil {
			return 0, err
		}
		if after {
			// The plain count less the rows before the window, in one
			// statement so that both see the same rows.
			w = sqlkit.Where{}
			w.In("jail", sc.jails)
			w.Add("timeofban < ?", since)
			q = `SELECT (SELECT count(*) FROM bans) - (SELECT count(*) FROM bans` + w.Clause() + `)`
		}
	}
	return r.count(ctx, q, w.Args()...)
}
