package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestIPPagesHearThePanelsUnbans(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	l := liveFrom(t, a, b)
	const ip = "203.0.113.40"
	if _, err := sb.Client().Ban(context.Background(), "sshd", ip); err != nil {
		t.Fatal(err)
	}
	c := l.open(l.cookie, "")
	c.next()
	c.next()
	l.waitStreams(1)
	host := a.app.Hosts.Local().ID()

	if _, err := a.s.jails.Unban(context.Background(), host, "sshd", []string{ip}); err != nil {
		t.Fatal(err)
	}
	if ev := c.nextNamed(sseIPs); ev.data != ip || ev.id == "" {
		t.Fatalf("after the panel unbanned %s: ips event %+v", ip, ev)
	}
	// Lifting every ban may concern any address.
	if _, err := a.s.jails.UnbanAll(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if ev := c.nextNamed(sseIPs); ev.data != anyAddress {
		t.Fatalf("after unban all: ips event %+v, want %q", ev, anyAddress)
	}
}

func TestReconnectAfterAPanelRestartFetchesTheRowsAgain(t *testing.T) {
	l := newLiveApp(t)
	// An id of an earlier panel process: the ring cannot replay what the
	// tab missed.
	c := l.open(l.cookie, "3")
	for _, want := range []string{sseLive, sseStatus, sseResync} {
		if ev := c.next(); ev.name != want {
			t.Fatalf("got %+v, want %q", ev, want)
		}
	}
	// A tab the ring can serve, or a new one, has nothing to fetch.
	l.publishStatus(2)
	for _, last := range []string{strings.TrimSpace(c.nextNamed(sseStatus).id), ""} {
		c := l.open(l.cookie, last)
		c.next()
		if last == "" {
			c.next() // the current status bar
		}
		l.publishStatus(3)
		if ev := c.next(); ev.name != sseStatus {
			t.Fatalf("Last-Event-ID %q: got %+v, want the next status and no resync", last, ev)
		}
	}
}

func TestStatusBarSaysFail2banStoppedWithinSeconds(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	l := liveFrom(t, a, b)
	c := l.open(l.cookie, "")
	c.next()
	if ev := c.next(); ev.name != sseStatus || strings.Contains(ev.data, "fail2ban is offline") {
		t.Fatalf("first status %+v, want fail2ban online", ev)
	}
	l.waitStreams(1)
	if err := sb.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No request and no probe job: the hub's look while tabs watch.
	start := time.Now()
	deadline := time.After(liveProbeEvery + 5*time.Second)
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.name == sseStatus && strings.Contains(ev.data, "fail2ban is offline") {
				t.Logf("offline on the open page after %s", time.Since(start).Round(time.Millisecond))
				return
			}
		case <-deadline:
			t.Fatalf("no offline status bar within %s of fail2ban stopping", liveProbeEvery+5*time.Second)
		}
	}
}

func TestAFragmentLeavesTheFlashToThePage(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	const ip = "203.0.113.41"
	if _, err := sb.Client().Ban(context.Background(), "sshd", ip); err != nil {
		t.Fatal(err)
	}
	rec := b.postForm("/jails/unban", "/history/"+ip, url.Values{"target": {ip}, "jail": {"sshd"}, "back": {"/history/" + ip}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("unban answered %d", rec.Code)
	}
	// The per-IP page of another tab refreshes its state (the live "ips"
	// event) before this tab follows the redirect.
	if frag := b.do("GET", "/history/"+ip, nil, map[string]string{"HX-Request": "true"}); frag.Code != http.StatusOK || strings.Contains(frag.Body.String(), "Unbanned") {
		t.Fatalf("fragment: status %d, flash inside: %v", frag.Code, strings.Contains(frag.Body.String(), "Unbanned"))
	}
	page := b.get(rec.Header().Get("Location"))
	if !strings.Contains(page.Body.String(), "Unbanned "+ip) {
		t.Fatalf("the page the unban redirects to lost its message:\n%.2000s", page.Body.String())
	}
}
