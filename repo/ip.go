package repo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"bangui/models"
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

// IPTotals counts ip's bans stamped after after (zero: all), in one query
// over the ip index. Failures come from each row's data where it is valid JSON.
func (r *Fail2BanDBReader) IPTotals(ctx context.Context, ip string, after time.Time) (IPTotals, error) {
	var t IPTotals
	err := r.read(ctx, "totals of IP", func(ctx context.Context) error {
		var err error
		t, err = scanTotals(r.queryRow(ctx, `SELECT count(*),
			sum(CASE WHEN json_valid(data) THEN json_extract(data, '$.failures') END), min(timeofban), max(timeofban)
			FROM bans WHERE ip = ? AND timeofban > ?`, ip, afterUnix(after)))
		return err
	})
	if err != nil {
		return t, fmt.Errorf("repo: %w", err)
	}
	return t, nil
}

// RecentOfIP returns ip's newest limit events, newest first.
func (r *Fail2BanDBReader) RecentOfIP(ctx context.Context, ip string, limit int) ([]models.BanRecord, error) {
	var out []models.BanRecord
	err := r.read(ctx, "recent events of IP", func(ctx context.Context) error {
		var err error
		out, err = r.records(ctx, `SELECT `+banColumns+` FROM bans WHERE ip = ? ORDER BY timeofban DESC, rowid DESC LIMIT ?`, ip, limit)
		return err
	})
	return out, err
}

// IPTotals counts ip's archived bans (not unbans) stamped after after.
func (s *HistoryArchiveStore) IPTotals(ctx context.Context, ip string, after time.Time) (IPTotals, error) {
	t, err := scanTotals(s.sql.QueryRowContext(ctx, `SELECT count(*), sum(failures), min(timeofban), max(timeofban)
		FROM history_archive WHERE ip = ? AND action = 'ban' AND timeofban > ?`, ip, afterUnix(after)))
	if err != nil {
		return t, fmt.Errorf("repo: archive totals of IP: %w", err)
	}
	return t, nil
}

// RecentOfIP returns ip's newest limit archived events (bans and unbans).
func (s *HistoryArchiveStore) RecentOfIP(ctx context.Context, ip string, limit int) ([]models.BanRecord, error) {
	out, err := s.records(ctx, `SELECT `+archiveColumns+` FROM history_archive WHERE ip = ? ORDER BY timeofban DESC, id DESC LIMIT ?`, ip, limit)
	if err != nil {
		return nil, fmt.Errorf("repo: archive recent events of IP: %w", err)
	}
	return out, nil
}

func afterUnix(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 62
	}
	return t.Unix()
}
