package repo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// IPTotals sums up one address's ban events.
type IPTotals struct {
	Bans     int64
	Failures int64
	First    time.Time // zero when there are none
	Last     time.Time
}

// Add combines two totals.
func (t IPTotals) Add(o IPTotals) IPTotals {
	out := IPTotals{Bans: t.Bans + o.Bans, Failures: t.Failures + o.Failures, First: t.First, Last: t.Last}
	if !o.First.IsZero() && (out.First.IsZero() || o.First.Before(out.First)) {
		out.First = o.First
	}
	if o.Last.After(out.Last) {
		out.Last = o.Last
	}
	return out
}

func scanTotals(row *sql.Row) (IPTotals, error) {
	var t IPTotals
	var failures, first, last sql.NullInt64
	if err := row.Scan(&t.Bans, &failures, &first, &last); err != nil {
		return t, err
	}
	t.Failures = failures.Int64
	if first.Valid {
		t.First, t.Last = time.Unix(first.Int64, 0), time.Unix(last.Int64, 0)
	}
	return t, nil
}

// IPTotals counts ip's bans stamped after after (zero: all). Failures come
// from each row's data where it is valid JSON, so every counted row is read;
// when after leaves a window that is small next to ip's rows (the per-IP
// page asks only for what the archive has not synced yet), the window is
// walked instead of ip's rows (see ipWindow).
func (r *Fail2BanDBReader) IPTotals(ctx context.Context, ip string, after time.Time) (IPTotals, error) {
	var w sqlkit.Where
	w.Add("ip = ?", ip)
	w.Add("timeofban > ?", sqlkit.AfterUnix(after))
	if !after.IsZero() {
		n, err := r.count(ctx, `SELECT count(*) FROM bans WHERE ip = ?`, ip)
		if err != nil {
			return IPTotals{}, err
		}
		window, err := r.ipWindow(ctx, ip, n, ">", after.Unix())
		if err != nil {
			return IPTotals{}, err
		}
		if window != nil {
			w = *window
		}
	}
	var t IPTotals
	err := r.read(ctx, "totals of IP", func(ctx context.Context) error {
		var err error
		t, err = scanTotals(r.queryRow(ctx, `SELECT count(*),
			sum(CASE WHEN json_valid(data) THEN json_extract(data, '$.failures') END), min(timeofban), max(timeofban)
			FROM bans`+w.Clause(), w.Args()...))
		return err
	})
	if err != nil {
		return t, fmt.Errorf("repo: %w", err)
	}
	return t, nil
}

// ipWalkRatio is how many entries of an index the reader would rather walk
// than read one row of the bans table: a row read costs about that many
// index steps.
const ipWalkRatio = 8

// ipWindow returns the conditions that find ip's rows stamped op t (">" or
// ">=") by walking that time window on the (jail, timeofban) ranges and
// keeping the rowids of ip's rows (checked against the covering (ip) index,
// so only the rows kept are read), or nil when the window holds so many
// rows that reading ip's n rows through the (ip) index is cheaper. fail2ban
// has no index on (ip, timeofban); the window's size is counted on the
// covering index, up to the point where it stops paying.
func (r *Fail2BanDBReader) ipWindow(ctx context.Context, ip string, n int64, op string, t int64) (*sqlkit.Where, error) {
	if n == 0 {
		return nil, nil
	}
	jails, err := r.Jails(ctx)
	if err != nil || len(jails) == 0 {
		return nil, err
	}
	var w sqlkit.Where
	w.In("jail", jails)
	w.Add("timeofban "+op+" ?", t)
	limit := n * ipWalkRatio
	size, err := r.count(ctx, `SELECT count(*) FROM (SELECT 1 FROM bans`+w.Clause()+` LIMIT ?)`,
		append(w.Args()[:len(w.Args()):len(w.Args())], limit)...)
	if err != nil || size >= limit {
		return nil, err
	}
	w.Add("+rowid IN (SELECT rowid FROM bans WHERE ip = ?)", ip)
	return &w, nil
}

// RecentOfIP returns ip's newest limit events, newest first. Only their
// rowids are sorted, so the data of the others is never read. An address
// with many rows is answered from a time window: its limit rows with the
// highest rowids (the last written, found on the (ip) index) are stamped at
// or after some t0, so its newest limit events all are too, and walking
// [t0, now] finds them with ipWindow. That holds whatever order fail2ban
// wrote the rows in; the order only decides how wide the window is.
func (r *Fail2BanDBReader) RecentOfIP(ctx context.Context, ip string, limit int) ([]models.BanRecord, error) {
	return r.RecentOfIPAfter(ctx, ip, time.Time{}, limit)
}

// RecentOfIPAfter is RecentOfIP for the events stamped after after (zero:
// all): the per-IP page asks only for what the archive has not synced yet,
// which walks that short time window (see ipWindow) instead of ip's rows.
func (r *Fail2BanDBReader) RecentOfIPAfter(ctx context.Context, ip string, after time.Time, limit int) ([]models.BanRecord, error) {
	if !after.IsZero() {
		return r.recentAfter(ctx, ip, after, limit)
	}
	var out []models.BanRecord
	run := func(rowids string, args ...any) error {
		return r.read(ctx, "recent events of IP", func(ctx context.Context) error {
			var err error
			out, err = r.records(ctx, `SELECT `+banColumns+` FROM bans WHERE rowid IN (`+rowids+`)
				ORDER BY timeofban DESC, rowid DESC`, args...)
			return err
		})
	}
	window, err := r.recentWindow(ctx, ip, limit)
	if err != nil {
		return nil, err
	}
	if window != nil {
		err := run(`SELECT rowid FROM bans`+window.Clause()+` ORDER BY timeofban DESC, rowid DESC LIMIT ?`, append(window.Args(), limit)...)
		if err != nil || len(out) == limit {
			return out, err
		}
		// fail2ban deleted some of ip's rows between the statements: read them all.
	}
	if err := run(`SELECT rowid FROM bans WHERE ip = ? ORDER BY timeofban DESC, rowid DESC LIMIT ?`, ip, limit); err != nil {
		return nil, err
	}
	return out, nil
}

// recentWindow returns RecentOfIP's time window for ip (see ipWindow), or
// nil when ip has few rows or the window would hold too many.
func (r *Fail2BanDBReader) recentWindow(ctx context.Context, ip string, limit int) (*sqlkit.Where, error) {
	if limit < 1 {
		return nil, nil
	}
	n, err := r.count(ctx, `SELECT count(*) FROM bans WHERE ip = ?`, ip)
	if err != nil || n <= 2*int64(limit) { // reading them all costs about what finding t0 does
		return nil, err
	}
	var t0 sql.NullInt64
	err = r.read(ctx, "recent events of IP", func(ctx context.Context) error {
		return r.queryRow(ctx, `SELECT min(timeofban) FROM bans WHERE rowid IN (
			SELECT rowid FROM bans WHERE ip = ? ORDER BY rowid DESC LIMIT ?)`, ip, limit).Scan(&t0)
	})
	if err != nil || !t0.Valid {
		return nil, err
	}
	return r.ipWindow(ctx, ip, n, ">=", t0.Int64)
}

// recentAfter is RecentOfIPAfter with a time bound.
func (r *Fail2BanDBReader) recentAfter(ctx context.Context, ip string, after time.Time, limit int) ([]models.BanRecord, error) {
	var w sqlkit.Where
	w.Add("ip = ?", ip)
	w.Add("timeofban > ?", after.Unix())
	n, err := r.count(ctx, `SELECT count(*) FROM bans WHERE ip = ?`, ip)
	if err != nil {
		return nil, err
	}
	window, err := r.ipWindow(ctx, ip, n, ">", after.Unix())
	if err != nil {
		return nil, err
	}
	if window != nil {
		w = *window
	}
	var out []models.BanRecord
	err = r.read(ctx, "recent events of IP", func(ctx context.Context) error {
		var err error
		out, err = r.records(ctx, `SELECT `+banColumns+` FROM bans WHERE rowid IN (
			SELECT rowid FROM bans`+w.Clause()+` ORDER BY timeofban DESC, rowid DESC LIMIT ?)
			ORDER BY timeofban DESC, rowid DESC`, append(w.Args()[:len(w.Args()):len(w.Args())], limit)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
