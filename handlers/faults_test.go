package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/jobs"
)

// faultPages are the pages a user opens while fail2ban misbehaves: each must
// answer with its content or with a clear message, never a 500.
var faultPages = []string{"/", "/jails", "/jails/sshd", "/history"}

// offlineSignals are the texts that tell a user fail2ban cannot be reached:
// the status bar's offline banner, the error page's title and the jail
// list's own notice.
var offlineSignals = []string{"fail2ban is offline", "fail2ban is not answering", "fail2ban did not answer"}

// checkFaultResponse fails the test unless rec is a good page or a clear
// error page: no 500, no Go error text or stack trace, and a non-200 answer
// says that fail2ban is the problem.
func checkFaultResponse(t testing.TB, page string, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code >= 500 && rec.Code != http.StatusBadGateway && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want a page or a clear fail2ban error; body %.400s", page, rec.Code, body)
		return
	}
	for _, leak := range []string{"goroutine ", "panic", "Something went wrong", "dial unix", ".go:"} {
		if strings.Contains(body, leak) {
			t.Errorf("%s: status %d shows %q to the user: %.400s", page, rec.Code, leak, body)
		}
	}
	if rec.Code != http.StatusOK && !containsAny(body, offlineSignals) {
		t.Errorf("%s: status %d without saying fail2ban is unreachable: %.400s", page, rec.Code, body)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// statusBar is the status bar's text on page.
func statusBar(t testing.TB, b *browser, page string) string {
	t.Helper()
	return parse(t, b.get(page)).Find("[data-testid=status-bar]").Text()
}

// runStatusJob refreshes the status bar every interval, as main.go's health
// job does (there every 30 s), until the test ends.
func runStatusJob(t testing.TB, a *testApp, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	var g jobs.Group
	g.Every(ctx, interval, func(ctx context.Context) { a.s.status.Refresh(ctx) })
	t.Cleanup(func() { cancel(); g.Wait() })
}

// TestFail2banStopsWhilePagesLoad stops fail2ban while a reader loops over
// the dashboard, jails, jail and history pages: every answer is a page or a
// clear error, never a 500, and the pages recover on their own (the status
// job, not the test, brings the bar back) once fail2ban is started again.
func TestFail2banStopsWhilePagesLoad(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	runStatusJob(t, a, 100*time.Millisecond)
	attack(t, sb, "203.0.113.50", 6) // something for the pages to list
	waitFor(t, "fail2ban to ban", func() bool { return fail2banRows(t, sb, "203.0.113.50") == 1 })

	var stopped atomic.Bool
	var loads, loadsAfterStop atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wb := a.browser()
		maps.Copy(wb.cookies, b.cookies) // same session, own cookie jar
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				page := faultPages[i%len(faultPages)]
				wasStopped := stopped.Load()
				if i/len(faultPages)%2 == 1 {
					// Every other round as htmx would ask: table
					// fragments and the status bar's poll.
					if page == "/" {
						page = "/status"
					}
					checkFaultResponse(t, page+" (htmx)", wb.do("GET", page, nil, map[string]string{"HX-Request": "true"}))
				} else {
					checkFaultResponse(t, page, wb.get(page))
				}
				loads.Add(1)
				if wasStopped {
					loadsAfterStop.Add(1)
				}
			}
		}()
	}
	// Let the loop run against a live fail2ban, stop fail2ban under it,
	// keep loading for a while, then end the loop.
	waitFor(t, "page loads before the stop", func() bool { return loads.Load() >= 8 })
	if err := sb.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped.Store(true)
	waitFor(t, "page loads after the stop", func() bool { return loadsAfterStop.Load() >= 12 })
	close(done)
	wg.Wait()

	// With fail2ban down every page says so.
	for _, page := range faultPages {
		rec := b.get(page)
		checkFaultResponse(t, page, rec)
		if !containsAny(rec.Body.String(), offlineSignals) {
			t.Errorf("%s while fail2ban is down (status %d) does not say so: %.400s", page, rec.Code, rec.Body)
		}
	}

	if err := sb.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status bar to come back online", func() bool { return strings.Contains(statusBar(t, b, "/"), "Online") })
	for _, page := range faultPages {
		rec := b.get(page)
		if rec.Code != http.StatusOK || containsAny(rec.Body.String(), offlineSignals) {
			t.Errorf("%s after fail2ban came back: status %d: %.400s", page, rec.Code, rec.Body)
		}
	}
	// fail2ban restores its bans from its database shortly after the start.
	waitFor(t, "the ban back on the jail page", func() bool {
		return parse(t, b.get("/jails/sshd")).Find(`#jail-bans tr[data-ip="203.0.113.50"]`).Length() == 1
	})
}

// TestSocketFileRemovedThenRecreated removes fail2ban's socket file while
// the server runs (as a careless clean-up or a container's stale mount
// would), then restarts fail2ban, which creates the socket anew: the panel
// says fail2ban is unreachable, then recovers without being restarted.
func TestSocketFileRemovedThenRecreated(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	runStatusJob(t, a, 100*time.Millisecond)
	if err := os.Remove(sb.SocketPath); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status bar to go offline", func() bool { return strings.Contains(statusBar(t, b, "/"), "fail2ban is offline") })
	for _, page := range faultPages {
		rec := b.get(page)
		checkFaultResponse(t, page, rec)
		if !containsAny(rec.Body.String(), offlineSignals) {
			t.Errorf("%s without a socket (status %d) does not say fail2ban is unreachable: %.400s", page, rec.Code, rec.Body)
		}
	}

	// fail2ban restarts (the old server cannot be told to stop over the
	// missing socket, so it gets SIGTERM as from systemd) and recreates the
	// socket file.
	if err := syscall.Kill(sb.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := sb.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sb.SocketPath); err != nil {
		t.Fatalf("fail2ban did not recreate its socket: %v", err)
	}
	waitFor(t, "the status bar to come back online", func() bool { return strings.Contains(statusBar(t, b, "/"), "Online") })
	doc := parse(t, b.get("/jails"))
	if doc.Find(`tr[data-jail="sshd"]`).Length() != 1 {
		t.Fatalf("jails page after the socket came back: %.400s", doc.Text())
	}
}

// TestFail2banDBLockedByAWriter holds fail2ban's database under a writer's
// exclusive lock, as a long fail2ban transaction would: the dashboard and
// history read from it retry, then say the database is busy (503, not 500),
// and work again once the lock is gone. The reader waits its full busy
// timeout and retries (about 20 s), so the test runs in parallel.
func TestFail2banDBLockedByAWriter(t *testing.T) {
	t.Parallel()
	_, b, sb := loggedInWithFail2ban(t)
	const ip = "203.0.113.61"
	attack(t, sb, ip, 6)
	waitFor(t, "fail2ban to ban", func() bool { return fail2banRows(t, sb, ip) == 1 })
	pages := []string{"/?source=fail2ban", "/history?source=fail2ban&range=24h"}
	for _, page := range pages {
		doc := parse(t, b.get(page))
		if !strings.Contains(doc.Find("[data-testid=source-note]").Text(), "fail2ban's database") || doc.Find(`tr[data-ip="`+ip+`"]`).Length() == 0 {
			t.Fatalf("%s before the lock does not list the ban from fail2ban's database", page)
		}
	}

	ctx := context.Background()
	w, err := sql.Open("sqlite", "file:"+sb.DBFile)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conn, err := w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	unlock := func() {
		if conn != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			conn = nil
		}
	}
	defer unlock()

	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, len(pages))
	for i, page := range pages {
		wg.Add(1)
		go func() { defer wg.Done(); recs[i] = b.get(page) }()
	}
	wg.Wait()
	for i, page := range pages {
		rec := recs[i]
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "fail2ban&#39;s database is busy") {
			t.Errorf("%s while fail2ban's database is locked: status %d, want 503 saying it is busy: %.600s", page, rec.Code, rec.Body)
		}
		checkBodyClean(t, page, rec)
	}

	unlock()
	for _, page := range pages {
		rec := b.get(page)
		if rec.Code != http.StatusOK || parse(t, rec).Find(`tr[data-ip="`+ip+`"]`).Length() == 0 {
			t.Errorf("%s after the lock was released: status %d: %.400s", page, rec.Code, rec.Body)
		}
	}
}

// checkBodyClean fails the test when a page shows Go errors or a stack trace.
func checkBodyClean(t testing.TB, page string, rec *httptest.ResponseRecorder) {
	t.Helper()
	for _, leak := range []string{"goroutine ", "panic", "Something went wrong", "SQLITE", "sqlite", ".go:"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("%s: status %d shows %q to the user: %.400s", page, rec.Code, leak, rec.Body)
		}
	}
}

// mountSmallTmpfs mounts a tmpfs of size bytes on a new directory and
// unmounts it when the test ends. It skips the test when not root or when
// the mount fails (no CAP_SYS_ADMIN, e.g. in an unprivileged container).
func mountSmallTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full disk is simulated with a small tmpfs, which needs root: run the tests as root to include this one")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to simulate a full disk (%v: %s): skipped", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file into dir until the file system is full and returns
// a function that deletes it again.
func fillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOwnDatabaseOnFullDisk puts the panel's data dir on a small tmpfs,
// stores some things, fills the disk and then writes through the panel:
// each write either succeeds or says the disk is full (never a 500 or a
// stack trace), at least the ones that must grow the database say so, and
// everything stored before is still there, readable and writable after
// space is freed.
func TestOwnDatabaseOnFullDisk(t *testing.T) {
	dataDir := mountSmallTmpfs(t, 8<<20)
	sb := sandboxtest.Start(t)
	a := newTestApp(t, dataDir, withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	a.s.status.Refresh(context.Background())
	const listURL = "https://lists.example.org/before.txt"
	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"Before"}, "url": {listURL}, "enabled": {"on"}}), "/blocklists")
	assertRedirect(t, b.postForm("/jails/ban", "/jails", url.Values{"target": {"198.51.100.1"}, "jail": {"sshd"}}), "/jails")
	manualBans := func() int {
		n, err := a.db.NewSelect().Table("history_archive").Where("origin = 'manual' AND action = 'ban'").Count(context.Background())
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		return int(n)
	}
	if manualBans() != 1 {
		t.Fatal("the manual ban before the disk filled up is not archived")
	}
	// The panel's pages are read once more before the disk fills, so what
	// they need is loaded.
	csrf := b.csrfFrom("/blocklists")

	free := fillDisk(t, dataDir)
	fullSeen := 0
	check := func(what string, rec *httptest.ResponseRecorder) bool {
		t.Helper()
		checkBodyClean(t, what, rec)
		switch {
		case rec.Code < 400:
			return true
		case rec.Code == http.StatusInsufficientStorage && strings.Contains(rec.Body.String(), "the disk is full"):
			fullSeen++
			return false
		}
		t.Errorf("%s on a full disk: status %d without saying the disk is full: %.500s", what, rec.Code, rec.Body)
		return false
	}
	// Sources with long names until the database must grow and cannot.
	long := strings.Repeat("x", 2000)
	added := 0
	for i := range 40 {
		rec := b.do("POST", "/blocklists/sources", url.Values{"_csrf": {csrf}, "name": {fmt.Sprintf("Full %d %s", i, long)[:100]},
			"url": {fmt.Sprintf("https://lists.example.org/%d/%s", i, long)}, "enabled": {"on"}}, nil)
		if check("adding a blocklist source", rec) {
			added++
		} else {
			break
		}
	}
	if fullSeen == 0 {
		t.Fatalf("%d blocklist sources were added to a full disk and nothing said the disk is full", added)
	}
	check("saving the import schedule", b.do("POST", "/blocklists/schedule", url.Values{"_csrf": {csrf}, "frequency": {"daily"}, "time": {"04:30"}}, nil))
	// A ban reaches fail2ban even when the panel cannot record it (the
	// archive sync copies fail2ban's row later); it must not fail with a 500.
	check("banning an address", b.do("POST", "/jails/ban", url.Values{"_csrf": {csrf}, "target": {"198.51.100.2"}, "jail": {"sshd"}}, nil))
	// A new login cannot store its session: the answer says why instead of
	// sending the user back to the login form.
	other := a.browser()
	other.peer = "192.0.2.11:40000"
	if rec := other.login(goodPassword); rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "disk is full") {
		t.Errorf("logging in on a full disk: status %d\n%s", rec.Code, rec.Body.String())
	} else {
		checkBodyClean(t, "logging in", rec)
	}

	// Nothing stored before is lost; the first browser's session still works.
	free()
	rec := b.get("/blocklists")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), listURL) {
		t.Fatalf("blocklists page after freeing space: %d, the list added before is missing", rec.Code)
	}
	if manualBans() < 1 {
		t.Fatal("the archived manual ban was lost")
	}
	var quick string
	if err := a.db.QueryRowContext(context.Background(), "PRAGMA quick_check").Scan(&quick); err != nil || quick != "ok" {
		t.Fatalf("database check after the full disk: %q %v", quick, err)
	}
	assertRedirect(t, b.postForm("/blocklists/schedule", "/blocklists", url.Values{"frequency": {"daily"}, "time": {"05:15"}}), "/blocklists")
	if s := parse(t, b.get("/blocklists")).Find("[data-testid=schedule-info]").Text(); !strings.Contains(s, "05:15") {
		t.Fatalf("schedule after freeing space = %q", s)
	}
	assertRedirect(t, other.login(goodPassword), "/")
	if rec := other.get("/"); rec.Code != http.StatusOK {
		t.Fatalf("dashboard after logging in with space again: %d", rec.Code)
	}
}
