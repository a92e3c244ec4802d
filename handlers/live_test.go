package handlers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

// noRedirect shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// sseEvent is one server-sent event as a client parses it.
type sseEvent struct {
	id, name, data string
	comment        bool // a comment line (heartbeat)
}

// sseClient reads one event stream.
type sseClient struct {
	t    testing.TB
	resp *http.Response
	r    *bufio.Reader
	ch   chan sseEvent
}

// liveApp is a panel set up and logged in, served over a real listener
// (event streams need one), and the cookie of its session.
type liveApp struct {
	*testApp
	base   string // the server's URL
	cookie string
}

func newLiveApp(t testing.TB) *liveApp {
	t.Helper()
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	return liveFrom(t, a, b)
}

// liveFrom serves a logged-in panel over a real listener.
func liveFrom(t testing.TB, a *testApp, b *browser) *liveApp {
	var parts []string
	for _, c := range b.cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	srv := httptest.NewServer(a.e)
	t.Cleanup(srv.Close)
	return &liveApp{testApp: a, base: srv.URL, cookie: strings.Join(parts, "; ")}
}

// open opens /events with the session (or without, when cookie is "")
// and the given Last-Event-ID.
func (l *liveApp) open(cookie, lastID string) *sseClient {
	l.t.Helper()
	return l.openIn("", cookie, lastID)
}

// openIn opens /events as open does, for a browser that asks for the
// languages of acceptLanguage ("": none).
func (l *liveApp) openIn(acceptLanguage, cookie, lastID string) *sseClient {
	l.t.Helper()
	req, _ := http.NewRequest("GET", l.base+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	c := &sseClient{t: l.t, resp: resp, r: bufio.NewReader(resp.Body), ch: make(chan sseEvent, 1024)}
	l.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		go c.read()
	} else {
		close(c.ch)
	}
	return c
}

func (c *sseClient) read() {
	defer close(c.ch)
	var ev sseEvent
	var data []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.comment {
				ev.data = strings.Join(data, "\n")
				c.ch <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			ev.comment = true
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		}
	}
}

// next returns the next event that is not a heartbeat.
// nextNamed is the next event called name, skipping the others.
func (c *sseClient) nextNamed(name string) sseEvent {
	c.t.Helper()
	for {
		if ev := c.next(); ev.name == name {
			return ev
		}
	}
}

func (c *sseClient) next() sseEvent {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				c.t.Fatal("stream ended, want an event")
			}
			if !ev.comment {
				return ev
			}
		case <-deadline:
			c.t.Fatal("no event within 5 s")
		}
	}
}

// ended waits until the stream ends.
func (c *sseClient) ended() {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.ch:
			if !ok {
				return
			}
		case <-deadline:
			c.t.Fatal("stream still open after 5 s")
		}
	}
}

// publishStatus publishes a status change and waits until the hub sent it
// (the hub merges the events that wait for it).
func (l *liveApp) publishStatus(banned int) {
	l.t.Helper()
	want := l.s.live.lastID() + 1
	l.app.Events.Publish(events.Event{Topic: events.TopicStatus, Host: l.app.Hosts.Local().ID(),
		Data: models.ServerStatus{Online: true, Banned: int64(banned)}})
	for deadline := time.Now().Add(5 * time.Second); l.s.live.lastID() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			l.t.Fatal("the hub sent nothing within 5 s")
		}
	}
}

// waitStreams waits until n streams are open.
func (l *liveApp) waitStreams(n int) {
	l.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.s.live.open() != n {
		if time.Now().After(deadline) {
			l.t.Fatalf("%d streams open, want %d", l.s.live.open(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEventStreamNeedsLogin(t *testing.T) {
	l := newLiveApp(t)
	c := l.open("", "")
	if c.resp.StatusCode == http.StatusOK {
		t.Fatalf("/events without a session: status 200 (%s), want the login redirect", c.resp.Header.Get("Content-Type"))
	}
	if n := l.s.live.open(); n != 0 {
		t.Fatalf("%d streams open for a visitor without a session", n)
	}
}

func TestEventStreamRendersOncePerEventForEveryViewer(t *testing.T) {
	l := newLiveApp(t)
	const viewers = 20
	clients := make([]*sseClient, viewers)
	for i := range clients {
		clients[i] = l.open(l.cookie, "")
		if ev := clients[i].next(); ev.name != sseLive {
			t.Fatalf("first event %+v, want %q", ev, sseLive)
		}
		if ev := clients[i].next(); ev.name != sseStatus {
			t.Fatalf("second event %+v, want the current status bar", ev)
		}
	}
	l.waitStreams(viewers)
	// Another status event may be under way (the probe's first check of
	// the host): count renders against the frames sent meanwhile.
	before, beforeID := l.s.live.renders.Load(), l.s.live.lastID()
	for n := 1; n <= 3; n++ {
		l.publishStatus(n) // the probe's state is what the bar shows; the event says it changed
	}
	for i, c := range clients {
		prev := uint64(0)
		for range 3 {
			ev := c.next()
			id, err := strconv.ParseUint(ev.id, 10, 64)
			if ev.name != sseStatus || err != nil || id <= prev || !strings.Contains(ev.data, `id="status-bar"`) {
				t.Fatalf("viewer %d got %+v, want status bars with growing ids", i, ev)
			}
			prev = id
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		frames := int64(l.s.live.lastID() - beforeID)
		got := l.s.live.renders.Load() - before
		if got == frames && frames >= 3 && frames <= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d renders for %d frames (3 events) and %d viewers, want one per frame", got, frames, viewers)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEventStreamReplaysWhatAReconnectingTabMissed(t *testing.T) {
	l := newLiveApp(t)
	c := l.open(l.cookie, "")
	c.next() // live
	c.next() // current status
	l.waitStreams(1)
	l.publishStatus(1)
	seen := c.next()
	c.resp.Body.Close() // a network blip
	c.ended()
	l.waitStreams(0)
	l.publishStatus(2)
	l.publishStatus(3)

	c = l.open(l.cookie, seen.id)
	if ev := c.next(); ev.name != sseLive {
		t.Fatalf("first event after reconnecting %+v, want %q", ev, sseLive)
	}
	first, second := c.next(), c.next()
	a, _ := strconv.Atoi(seen.id)
	if first.id != strconv.Itoa(a+1) || second.id != strconv.Itoa(a+2) {
		t.Fatalf("replayed ids %q, %q after %q, want the two missed ones in order", first.id, second.id, seen.id)
	}
	l.publishStatus(4)
	if ev := c.next(); ev.id != strconv.Itoa(a+3) {
		t.Fatalf("event after the replay has id %q, want %d (nothing twice, nothing lost)", ev.id, a+3)
	}

	// An id the ring no longer reaches (or of an earlier process): the
	// current state instead.
	c2 := l.open(l.cookie, "999999")
	c2.next()
	if ev := c2.next(); ev.name != sseStatus || !strings.Contains(ev.data, `id="status-bar"`) {
		t.Fatalf("unknown Last-Event-ID: got %+v, want the current status bar", ev)
	}
}

func TestEventStreamCapFallsBackToPolling(t *testing.T) {
	l := newLiveApp(t)
	l.s.live.max = 2
	a, b := l.open(l.cookie, ""), l.open(l.cookie, "")
	a.next()
	b.next()
	l.waitStreams(2)
	over := l.open(l.cookie, "")
	ev := over.next()
	if ev.name != sseFallback || !strings.Contains(ev.data, "every 30 s") {
		t.Fatalf("third tab over a cap of 2 got %+v, want the fallback", ev)
	}
	over.ended()
	if !strings.Contains(l.bodyOf("/"), `hx-trigger="every `) {
		t.Fatal("the status bar no longer polls: a tab over the cap would stay frozen")
	}
	a.resp.Body.Close()
	l.waitStreams(1)
	again := l.open(l.cookie, "")
	if ev := again.next(); ev.name != sseLive {
		t.Fatalf("a tab after one closed got %+v, want %q", ev, sseLive)
	}
}

func (l *liveApp) bodyOf(path string) string {
	req, _ := http.NewRequest("GET", l.base+path, nil)
	req.Header.Set("Cookie", l.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&sb)
	return sb.String()
}

func TestEventStreamSendsHeartbeats(t *testing.T) {
	l := newLiveApp(t)
	l.s.live.heartbeat = 20 * time.Millisecond
	c := l.open(l.cookie, "")
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.comment {
				return
			}
		case <-deadline:
			t.Fatal("no heartbeat within 5 s")
		}
	}
}

func TestPagesConnectTheirEventStream(t *testing.T) {
	l := newLiveApp(t)
	body := l.bodyOf("/jails")
	for _, want := range []string{`sse-connect="/events?last-event-id=`, `hx-ext="sse"`, `sse-swap="status"`, `js/sse.min.js`, `data-live-pause`} {
		if !strings.Contains(body, want) {
			t.Errorf("jails page lacks %s", want)
		}
	}
}

func TestShutdownEndsEventStreams(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := newLiveApp(t)
	l.app.Config.Listen = addr
	l.app.Config.ShutdownGrace = 10 * time.Second
	l.app.Config.ArchiveEvery = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.app.Serve(ctx, l.e) }()
	var c *sseClient
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.base = "http://" + addr
		req, _ := http.NewRequest("GET", l.base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("panel not listening after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c = l.open(l.cookie, "")
	c.next()
	l.waitStreams(1)
	start := time.Now()
	cancel()
	if ev := c.nextNamed(sseBye); !strings.Contains(ev.data, "panel stopped") {
		t.Errorf("last event %+v, want the panel saying it stops", ev)
	}
	c.ended()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5 s after its context ended")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s with a stream open", d)
	}
}

func TestManyStreamsConcurrentPublish(t *testing.T) {
	l := newLiveApp(t)
	const viewers, events = 10, 100
	clients := make([]*sseClient, viewers)
	for i := range clients {
		clients[i] = l.open(l.cookie, "")
		clients[i].next()
		clients[i].next()
	}
	l.waitStreams(viewers)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			prev := 0
			for range events {
				ev := c.next()
				id, _ := strconv.Atoi(ev.id)
				if id != prev+1 && prev != 0 {
					t.Errorf("id %d after %d: an event lost or twice", id, prev)
				}
				prev = id
			}
		})
	}
	for n := range events {
		l.publishStatus(n)
	}
	wg.Wait()
}

func TestNewBansSlideIntoTheFirstPageOnce(t *testing.T) {
	l := newLiveApp(t)
	now := time.Now().Unix()
	ban := func(ip string, ago int64) models.ArchivedBan {
		return models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now - ago, BanCount: 1, Data: `{"matches":["x"],"failures":3}`, Action: "ban"}
	}
	var old []models.ArchivedBan
	for i := range 60 {
		old = append(old, ban(fmt.Sprintf("198.51.100.%d", i), 600+int64(i)))
	}
	seedArchive(t, l.testApp, old)
	if body := l.bodyOf("/"); !strings.Contains(body, `sse-swap="bans"`) {
		t.Fatal("the dashboard's first page does not take new rows")
	}
	if body := l.bodyOf("/?page=2"); strings.Contains(body, `sse-swap="bans"`) {
		t.Fatal("the dashboard's second page takes new rows: the reader's place would move")
	}
	if body := l.bodyOf("/?origin=blocklist"); strings.Contains(body, `sse-swap="bans"`) {
		t.Fatal("a filtered table takes new rows of every origin")
	}
	archived := func(n int64) {
		l.app.Events.Publish(events.Event{Topic: events.TopicArchive, Host: l.app.Hosts.Local().ID(), Data: events.ArchiveSynced{Inserted: n}})
	}
	first := l.s.live.lastID()
	archived(int64(len(old))) // the sync that stored them, before the tab opened
	for deadline := time.Now().Add(5 * time.Second); l.s.live.lastID() == first; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the hub sent nothing for the first sync")
		}
	}
	c := l.open(l.cookie, "")
	c.next()
	c.next()
	l.waitStreams(1)

	seedArchive(t, l.testApp, []models.ArchivedBan{ban("203.0.113.1", 3), ban("203.0.113.2", 2), ban("203.0.113.3", 1)})
	before := l.s.live.renders.Load()
	archived(3)
	ev := c.nextNamed(sseBans)
	if ev.name != sseBans || strings.Count(ev.data, "<tr") != 3 || !strings.Contains(ev.data, "row--new") {
		t.Fatalf("after 3 new bans got %+v, want 3 new rows", ev)
	}
	if i1, i3 := strings.Index(ev.data, "203.0.113.1"), strings.Index(ev.data, "203.0.113.3"); i3 > i1 {
		t.Errorf("new rows not newest first:\n%s", ev.data)
	}
	if got := l.s.live.renders.Load() - before; got != 3 {
		t.Errorf("%d renders for one archive event, want 3 (the map, the dashboard's counters and the rows)", got)
	}

	seedArchive(t, l.testApp, []models.ArchivedBan{ban("203.0.113.4", 0)})
	archived(1)
	ev = c.nextNamed(sseBans)
	if ev.name != sseBans || strings.Count(ev.data, "<tr") != 1 || !strings.Contains(ev.data, "203.0.113.4") {
		t.Fatalf("after one more ban got %+v, want its row alone (nothing twice)", ev)
	}
}

func TestJailCountersFollowTheStatusProbe(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	l := liveFrom(t, a, b)
	body := l.bodyOf("/jails")
	if !strings.Contains(body, `id="jc--sshd-banned"`) || !strings.Contains(body, `sse-swap="counts"`) {
		t.Fatal("the jails table's counters have no ids for the live counts")
	}
	c := l.open(l.cookie, "")
	c.next()
	c.next()
	l.waitStreams(1)
	if _, err := sb.Client().Call(context.Background(), "set", "sshd", "banip", "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	l.s.status.RefreshHost(context.Background(), l.app.Hosts.Local().ID()) // the probe's job, now
	var counts sseEvent
	for counts.name != sseCounts {
		counts = c.next()
	}
	if !strings.Contains(counts.data, `id="jc--sshd-banned">1 / 1<`) {
		t.Fatalf("counts event after a ban: %s", counts.data)
	}
	// The jail's own page shows each counter alone, under the ids the
	// event carries too.
	if body := l.bodyOf("/jails/sshd"); !strings.Contains(body, `id="jc--sshd-banned-now"`) || !strings.Contains(body, `sse-swap="counts"`) {
		t.Fatal("the jail page's counters have no ids for the live counts")
	}
	if !strings.Contains(counts.data, `id="jc--sshd-banned-now">1<`) || !strings.Contains(counts.data, `id="jc--sshd-banned-total">1<`) {
		t.Fatalf("counts event lacks the jail page's counters: %s", counts.data)
	}
}

func TestEventStreamTakesAnyLastEventID(t *testing.T) {
	l := newLiveApp(t)
	for _, v := range []string{"-1", "99999999999999999999", "%", "x", "1e9", " 3 "} {
		c := l.open(l.cookie, v)
		if c.resp.StatusCode != http.StatusOK {
			t.Fatalf("Last-Event-ID %q: status %d", v, c.resp.StatusCode)
		}
		if ev := c.next(); ev.name != sseLive {
			t.Fatalf("Last-Event-ID %q: first event %+v", v, ev)
		}
		if ev := c.next(); ev.name != sseStatus {
			t.Fatalf("Last-Event-ID %q: want the current status bar, got %+v", v, ev)
		}
		c.resp.Body.Close()
	}
}

func TestPageStreamStartsWhereThePageWasRendered(t *testing.T) {
	l := newLiveApp(t)
	body := l.bodyOf("/")
	m := regexp.MustCompile(`sse-connect="/events\?last-event-id=(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the dashboard's stream URL carries no event id")
	}
	l.publishStatus(7) // between the page and its stream
	c := l.open(l.cookie, m[1])
	c.next() // live
	if ev := c.next(); ev.name != sseStatus || ev.id == m[1] {
		t.Fatalf("first event after the page's id: %+v, want the status change that came between", ev)
	}
	select {
	case ev := <-c.ch:
		if !ev.comment {
			t.Fatalf("a second event %+v: the change came twice", ev)
		}
	default:
	}
}
