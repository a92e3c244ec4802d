package handlers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"bangui/app"
	"bangui/config"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/internal/pgtest"
	"bangui/services/blocklists"
)

// logBuffer is a log sink tests can read while the panel writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// replica is one panel process of several sharing a database: built by
// app.Build, serving over real HTTP with its background jobs (app.Serve),
// its blocklist scheduler on a fake clock.
type replica struct {
	app   *app.App
	url   string // http://127.0.0.1:port
	log   *logBuffer
	clock *clockwork.FakeClock
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startReplica builds a panel on cfg and serves it until the test ends.
func startReplica(t *testing.T, cfg config.Config, start time.Time) *replica {
	t.Helper()
	cfg.Listen = freeAddr(t)
	r := &replica{log: &logBuffer{}, clock: clockwork.NewFakeClockAt(start), url: "http://" + cfg.Listen}
	a, err := app.Build(context.Background(), cfg, app.Options{
		Logger: slog.New(slog.NewTextHandler(r.log, nil)), Version: "test",
		Scheduler: []gocron.SchedulerOption{gocron.WithClock(r.clock)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.app = a
	e, _, err := New(context.Background(), a)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, e) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("replica %s: %v", r.url, err)
		}
		a.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(r.url + "/login")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s does not answer: %v", r.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// noRedirects is an HTTP client with a cookie jar that shows redirects
// instead of following them.
func noRedirects(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loginOver logs in on a panel over HTTP and returns the client holding
// the session cookie.
func loginOver(t *testing.T, base string) *http.Client {
	t.Helper()
	c := noRedirects(t)
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	res, err = c.PostForm(base+"/login", url.Values{"_csrf": {tok}, "username": {testAdmin}, "password": {goodPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Header.Get("Location"), "/login") {
		t.Fatalf("login on %s: status %d, location %q", base, res.StatusCode, res.Header.Get("Location"))
	}
	return c
}

// Two panel processes on one database behind a load balancer: a session
// made on one is accepted by the other, and a scheduled blocklist import
// due on both runs once — one download, one import run. On PostgreSQL (the
// setup for replicas) and on one SQLite file shared by two processes of one
// machine.
func TestTwoPanelsShareSessionsAndImportOnce(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testTwoPanels(t, pgtest.URL(t)) })
	t.Run("sqlite", func(t *testing.T) { testTwoPanels(t, "") })
}

func testTwoPanels(t *testing.T, database string) {
	sb := sandboxtest.Start(t)
	dataDir := t.TempDir()
	// The list server counts the downloads.
	var fetches atomic.Int64
	list := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		fmt.Fprint(w, "# test list\n203.0.113.10\n203.0.113.11\n198.51.100.0/30\n")
	}))
	t.Cleanup(list.Close)

	// Setup, a list and an hourly schedule, through a first panel on the database.
	first := newTestApp(t, dataDir, withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir),
		func(c *config.Config) { c.Database = database })
	first.browser().completeSetup()
	ctx := context.Background()
	if _, err := first.s.blocklists.CreateSource(ctx, blocklists.SourceInput{Name: "test list", URL: list.URL, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := first.s.blocklists.SaveSchedule(ctx, blocklists.ScheduleInput{Frequency: "hourly", Time: "00:05"}); err != nil {
		t.Fatal(err)
	}

	cfg := first.cfg
	cfg.ArchiveEvery = time.Minute
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r1, r2 := startReplica(t, cfg, start), startReplica(t, cfg, start)
	if r1.app.Leases.Holder() == r2.app.Leases.Holder() {
		t.Fatal("two panel processes share one lease holder id")
	}

	// A session made on one replica is good on the other.
	c := loginOver(t, r1.url)
	u1, _ := url.Parse(r1.url)
	req, _ := http.NewRequest("GET", r2.url+"/", nil)
	for _, ck := range c.Jar.Cookies(u1) {
		req.AddCookie(ck)
	}
	res, err := noRedirects(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("replica 2 with replica 1's session: status %d, location %q; want the dashboard", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = noRedirects(t).Get(r2.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Fatal("replica 2 serves the dashboard without a session")
	}

	// 10:05: the schedule is due on both panels. Replica 1's clock gets
	// there first and imports; replica 2's wakes a little later, when the
	// import is over, and leaves the time to replica 1.
	const done, left = "scheduled blocklist import done", "scheduled blocklist import left to another panel process"
	waitLog := func(r *replica) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for l := r.log.String(); !strings.Contains(l, done) && !strings.Contains(l, left); l = r.log.String() {
			if time.Now().After(deadline) {
				t.Fatalf("replica %s did not run its scheduled time\nreplica 1:\n%s\nreplica 2:\n%s", r.url, r1.log, r2.log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	r1.clock.Advance(5 * time.Minute)
	waitLog(r1)
	r2.clock.Advance(5 * time.Minute)
	waitLog(r2)
	if !strings.Contains(r2.log.String(), left) {
		t.Errorf("replica 2 did not leave the scheduled time to replica 1")
	}
	if strings.Contains(r2.log.String(), done) || strings.Count(r1.log.String(), done) != 1 {
		t.Errorf("the scheduled import ran more than once\nreplica 1:\n%s\nreplica 2:\n%s", r1.log, r2.log)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the list was downloaded %d times; want once", n)
	}
	var runs, completed int
	if err := r1.app.DB.NewRaw("SELECT count(*), count(*) FILTER (WHERE state = 'completed') FROM import_runs").Scan(ctx, &runs, &completed); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || completed != 1 {
		t.Errorf("import_runs: %d rows, %d completed; want one completed run", runs, completed)
	}

}
