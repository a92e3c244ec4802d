package blocklists

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
)

// fail2banDBBans counts the rows of each address in the blocklist jail of
// fail2ban's own database: one row per ban fail2ban recorded.
func (e *importEnvT) fail2banDBBans() map[string]int {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.sb.DBFile+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT ip, count(*) FROM bans WHERE jail = ? GROUP BY ip", models.BlocklistJail)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ip string
		var n int
		if err := rows.Scan(&ip, &n); err != nil {
			e.t.Fatal(err)
		}
		out[ip] = n
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestImportFail2banStopsMidImport stops the real fail2ban between two
// batches of an import: the import fails cleanly with a clear message in
// the import log, its run is marked failed (not completed), and the next
// import, with fail2ban back, goes on from the last batch so every listed
// address ends up banned exactly once.
func TestImportFail2banStopsMidImport(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	all := testAddresses(9, 40)
	list := strings.Join(all, "\n") + "\n"
	b := e.service(4, func(_, done, _ int64) {
		if done == 12 {
			if err := e.sb.Stop(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	src := e.addSource(b, "Forty", e.lists.set("forty-stop", list))
	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(t, p, "Forty")
	if !strings.Contains(r.Error.Error(), "fail2ban is stopped or restarting") || !strings.Contains(r.Error.Error(), "Banned 12 of 40 addresses; the next import goes on from there.") {
		t.Fatalf("result after fail2ban stopped: %+v", r)
	}
	logs, _, err := b.ImportLog(ctx, src.ID, models.Page{Number: 1, Size: 5})
	if err != nil || len(logs) != 1 || logs[0].Errors == nil || models.StoredText(*logs[0].Errors).In(lang.Get("en")) != r.Error.Error() {
		t.Fatalf("import log after fail2ban stopped: %+v %v", logs, err)
	}
	if states := e.runStates(src.ID); !slices.Equal(states, []models.ImportRunState{models.ImportFailed}) {
		t.Fatalf("runs after fail2ban stopped: %v, want one failed run", states)
	}

	// fail2ban comes back (restoring the 12 bans from its database); the
	// next import goes on from address 13.
	if err := e.sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	p, err = b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, p, "Forty"); !r.Error.IsZero() || !r.Resumed || r.Imported != 40 { // 12 before, 28 now
		t.Fatalf("import after fail2ban came back: %+v", r)
	}
	if states := e.runStates(src.ID); !slices.Equal(states, []models.ImportRunState{models.ImportCompleted}) {
		t.Fatalf("runs after the second import: %v, want one completed run", states)
	}
	run, err := repo.NewImportRunStore(e.db).Get(ctx, 1)
	if err != nil || run.Done != 40 || run.ImportedCount != 40 {
		t.Fatalf("run after the second import: %+v %v", run, err)
	}
	if got := e.bannedEventually(all); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Fatalf("fail2ban bans %d addresses after the second import, want all 40: %v", len(got), got)
	}
	rows := e.fail2banDBBans()
	for _, ip := range all {
		if rows[ip] != 1 {
			t.Errorf("fail2ban's database has %d bans of %s, want 1", rows[ip], ip)
		}
	}
	if len(rows) != len(all) {
		t.Errorf("fail2ban's database has bans of %d addresses, want %d", len(rows), len(all))
	}
}

// TestImportFail2banTerminatedMidBatch sends SIGTERM to fail2ban (as
// systemd does on a restart) while a banip call of the import is in
// flight: the import fails with a message that names fail2ban, its run is
// not completed, and the next import, with fail2ban back, leaves every
// listed address banned exactly once.
func TestImportFail2banTerminatedMidBatch(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	all := testAddresses(10, 300)
	list := strings.Join(all, "\n") + "\n"
	b := e.service(100, func(_, done, _ int64) {
		if done == 100 {
			// The next banip call goes out while the signal is delivered.
			go func() { _ = syscall.Kill(e.sb.Pid(), syscall.SIGTERM) }()
		}
	})
	src := e.addSource(b, "Three hundred", e.lists.set("three-hundred", list))
	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(t, p, "Three hundred")
	t.Logf("result after SIGTERM to fail2ban: %q", r.Error)
	if !strings.Contains(r.Error.Error(), "fail2ban") || !strings.Contains(r.Error.Error(), "the next import goes on from there") {
		t.Fatalf("result after fail2ban was terminated: %+v", r)
	}
	for _, leak := range []string{"EOF", "broken pipe", "connection reset", "dial unix"} {
		if strings.Contains(r.Error.Error(), leak) {
			t.Errorf("the import log shows the raw error %q: %q", leak, r.Error)
		}
	}
	if states := e.runStates(src.ID); !slices.Equal(states, []models.ImportRunState{models.ImportFailed}) {
		t.Fatalf("runs after fail2ban was terminated: %v, want one failed run", states)
	}

	if err := e.sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	p, err = b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, p, "Three hundred"); !r.Error.IsZero() || !r.Resumed {
		t.Fatalf("import after fail2ban came back: %+v", r)
	}
	if states := e.runStates(src.ID); !slices.Equal(states, []models.ImportRunState{models.ImportCompleted}) {
		t.Fatalf("runs after the second import: %v, want one completed run", states)
	}
	if got := e.bannedEventually(all); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Fatalf("fail2ban bans %d addresses after the second import, want all %d", len(got), len(all))
	}
	rows := e.fail2banDBBans()
	for _, ip := range all {
		if rows[ip] != 1 {
			t.Errorf("fail2ban's database has %d bans of %s, want 1", rows[ip], ip)
		}
	}
}

// bannedEventually returns the blocklist jail's bans once they are want, or
// what they are after 20 s: a restarted fail2ban restores the bans in its
// database in the jail's own thread, a moment after it answers.
func (e *importEnvT) bannedEventually(want []string) []string {
	e.t.Helper()
	want = slices.Sorted(slices.Values(want))
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := e.banned()
		if slices.Equal(got, want) || time.Now().After(deadline) {
			return got
		}
		<-tick.C
	}
}
