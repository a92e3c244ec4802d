package handlers

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

// TestMapCountsFollowTheArchiveOncePerEvent: the 24 hours map's and the
// dashboard's counts follow the archive, rendered once per event whatever
// the viewers, and not sent again while they stay the same.
func TestMapCountsFollowTheArchiveOncePerEvent(t *testing.T) {
	l := newLiveApp(t)
	if body := l.bodyOf("/map"); !strings.Contains(body, `sse-swap="map"`) {
		t.Fatal("the 24 hours map takes no live counts")
	}
	if body := l.bodyOf("/map?range=7d"); strings.Contains(body, `sse-swap="map"`) {
		t.Fatal("the 7 days map takes the 24 hours counts")
	}
	if body := l.bodyOf("/map?origin=blocklist"); strings.Contains(body, `sse-swap="map"`) {
		t.Fatal("a map of one origin takes the counts of every origin")
	}
	if body := l.bodyOf("/"); !strings.Contains(body, `sse-swap="dash"`) {
		t.Fatal("the 24 hours dashboard takes no live counters")
	}
	for _, p := range []string{"/?range=7d", "/?origin=blocklist", "/?source=archive"} {
		if body := l.bodyOf(p); strings.Contains(body, `sse-swap="dash"`) {
			t.Fatalf("%s takes the counters of the 24 hours of every origin", p)
		}
	}
	now := time.Now().Unix()
	de := "DE"
	ban := func(ip string, ago int64) models.ArchivedBan {
		return models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now - ago, BanCount: 1, Data: `{"matches":["x"],"failures":3}`,
			Action: "ban", CountryCode: &de}
	}
	archived := func(n int64) {
		l.app.Events.Publish(events.Event{Topic: events.TopicArchive, Host: l.app.Hosts.Local().ID(), Data: events.ArchiveSynced{Inserted: n}})
	}
	const viewers = 20
	clients := make([]*sseClient, viewers)
	for i := range clients {
		clients[i] = l.open(l.cookie, "")
		clients[i].next()
		clients[i].next()
	}
	l.waitStreams(viewers)

	for n, ips := range [][]string{{"193.99.144.80", "193.99.144.81"}, {"193.99.144.82"}} {
		var bans []models.ArchivedBan
		for i, ip := range ips {
			bans = append(bans, ban(ip, int64(10-3*n-i))) // newer than the last event's
		}
		seedArchive(t, l.testApp, bans)
		before := l.s.live.renders.Load()
		archived(int64(len(ips)))
		want := []string{`data-country="DE" data-bans="2"`, `data-country="DE" data-bans="3"`}[n]
		for i, c := range clients {
			ev := c.nextNamed(sseMap)
			if !strings.Contains(ev.data, want) || !strings.Contains(ev.data, "data-fill=\"#") || ev.id == "" {
				t.Fatalf("event %d, viewer %d: map frame %+v, want %s", n, i, ev, want)
			}
			if strings.Contains(ev.data, `data-country="US"`) {
				t.Fatalf("a country without bans in the map frame: %s", ev.data)
			}
			ev = c.nextNamed(sseDash)
			for _, want := range []string{`id="trend"`, `id="per-jail"`, `id="top-countries"`, []string{"2 bans in 1 jails.", "3 bans in 1 jails."}[n], "Germany"} {
				if !strings.Contains(ev.data, want) || ev.id == "" {
					t.Fatalf("event %d, viewer %d: dash frame lacks %q: %+v", n, i, want, ev)
				}
			}
		}
		// One map, one dashboard counters and one row render per event,
		// whatever the viewers.
		if got := l.s.live.renders.Load() - before; got != 3 {
			t.Errorf("event %d: %d renders for %d viewers, want 3 (the map, the dashboard's counters and the rows)", n, got, viewers)
		}
	}

	// A sync that changes no count (rows of another window) sends no map
	// and no dashboard counters.
	before, lastID := l.s.live.renders.Load(), l.s.live.lastID()
	archived(1)
	for deadline := time.Now().Add(5 * time.Second); l.s.live.renders.Load() == before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not render the map for the third sync")
		}
	}
	if id := l.s.live.lastID(); id != lastID {
		t.Errorf("the same counts were sent again (%d frames)", id-lastID)
	}
}

func TestIPPageFetchesItsStateWhenItsAddressIsArchived(t *testing.T) {
	l := newLiveApp(t)
	const ip = "203.0.113.7"
	now := time.Now().Unix()
	ban := func(ip string, ago int64) models.ArchivedBan {
		return models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now - ago, BanCount: 1, Data: `{"matches":["x"],"failures":3}`, Action: "ban"}
	}
	seedArchive(t, l.testApp, []models.ArchivedBan{ban(ip, 60)})
	body := l.bodyOf("/history/" + ip)
	if !strings.Contains(body, `sse-swap="ips"`) || !strings.Contains(body, `data-live-ip="`+ip+`"`) || !strings.Contains(body, `hx-trigger="live-ip"`) {
		t.Fatal("the per-IP page does not follow the live addresses")
	}
	c := l.open(l.cookie, "")
	c.next()
	c.next()
	l.waitStreams(1)

	seedArchive(t, l.testApp, []models.ArchivedBan{ban("198.51.100.1", 2), ban(ip, 1)})
	l.app.Events.Publish(events.Event{Topic: events.TopicArchive, Host: l.app.Hosts.Local().ID(), Data: events.ArchiveSynced{Inserted: 2}})
	ev := c.nextNamed(sseIPs)
	if got := strings.Fields(ev.data); len(got) != 2 || !slices.Contains(got, ip) || !slices.Contains(got, "198.51.100.1") || ev.id == "" {
		t.Fatalf("ips event %+v, want the two new addresses", ev)
	}

	// What the page fetches then: its state alone, with the new ban.
	req, _ := http.NewRequest("GET", l.base+"/history/"+ip, nil)
	req.Header.Set("Cookie", l.cookie)
	req.Header.Set("HX-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	frag, _ := io.ReadAll(resp.Body)
	s := string(frag)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(s), `<div id="ip-live"`) || strings.Contains(s, "<html") {
		t.Fatalf("state fragment: status %d\n%.300s", resp.StatusCode, s)
	}
	if !strings.Contains(s, `data-testid="ip-bans">2<`) {
		t.Fatalf("state fragment does not count the new ban:\n%s", s)
	}
}
