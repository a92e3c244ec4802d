package handlers

import (
	"strings"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

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
		}
		// One map and one row render per event, whatever the viewers.
		if got := l.s.live.renders.Load() - before; got != 2 {
			t.Errorf("event %d: %d renders for %d viewers, want 2 (the map and the rows)", n, got, viewers)
		}
	}
}
