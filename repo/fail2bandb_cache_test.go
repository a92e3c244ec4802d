package repo

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo/f2bgen"
)

// The counts shared between requests follow every change fail2ban makes
// to its file (the counts behind the charts and the bans table): a ban it adds, rows it deletes on unban, and a file it
// deleted and created again.
func TestFail2BanDBCountsFollowFail2bansWrites(t *testing.T) {
	ctx := context.Background()
	path := writeF2B(t, fixture())
	r := openTestReader(t, path, defaultReaderConfig())
	week := models.HistoryFilter{Since: fixedNow.Add(-7 * 24 * time.Hour)}
	counts := func() (int64, []int64) {
		t.Helper()
		total, _, err := r.CountsByJail(ctx, week)
		if err != nil {
			t.Fatal(err)
		}
		days, err := r.CountsByBucket(ctx, models.HistoryFilter{}, 24*time.Hour, 7)
		if err != nil {
			t.Fatal(err)
		}
		bans, listed, err := r.Bans(ctx, week, models.Page{Number: 1, Size: 50})
		if err != nil || listed != total || len(bans) != int(total) {
			t.Fatalf("the bans table lists %d of %d bans in the week, the counts say %d (%v)", len(bans), listed, total, err)
		}
		return total, days
	}
	check := func(when string, wantTotal int64, wantDays []int64) {
		t.Helper()
		for range 2 { // the second answer comes from the cache
			if total, days := counts(); total != wantTotal || !slices.Equal(days, wantDays) {
				t.Fatalf("%s: %d in the week, by day %v; want %d, %v", when, total, days, wantTotal, wantDays)
			}
		}
	}
	check("at first", 10, []int64{0, 0, 0, 1, 1, 1, 7})

	rw := openRW(t, path)
	if _, err := rw.ExecContext(ctx, `INSERT INTO bans (jail, ip, timeofban, bantime, bancount, data) VALUES ('sshd', '192.0.2.9', ?, 600, 1, '{}')`, fixedNow.Unix()); err != nil {
		t.Fatal(err)
	}
	check("after fail2ban's ban", 11, []int64{0, 0, 0, 1, 1, 1, 8})
	if _, err := rw.ExecContext(ctx, `DELETE FROM bans WHERE ip IN ('192.0.2.9', '9.9.9.9')`); err != nil {
		t.Fatal(err)
	}
	check("after fail2ban's unban", 9, []int64{0, 0, 0, 1, 1, 1, 6})
	rw.Close()

	// fail2ban deletes its file and starts a new one with two bans.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	fresh := []f2bgen.Ban{
		{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: ago(time.Hour), BanTime: 600, BanCount: 1, Data: `{}`},
		{Jail: "sshd", IP: "192.0.2.2", TimeOfBan: ago(time.Minute), BanTime: 600, BanCount: 1, Data: `{}`},
	}
	if err := f2bgen.Write(ctx, path, slices.Values(fresh)); err != nil {
		t.Fatal(err)
	}
	r.sql.SetConnMaxLifetime(time.Nanosecond) // the pool's connections move to the new file as they expire
	check("after fail2ban made a new file", 2, []int64{0, 0, 0, 0, 0, 0, 2})
}
