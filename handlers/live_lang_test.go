package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

// TestLiveFramesFollowTheViewersLanguage: a German and an English tab of
// the same scope each get the new rows, the charts and the status bar in
// their own language, each rendered once per language, not per tab.
func TestLiveFramesFollowTheViewersLanguage(t *testing.T) {
	l := newLiveApp(t)
	l.settle() // the German tabs open between events
	en, de, de2 := l.open(l.cookie, ""), l.openIn("de-DE,de;q=0.9", l.cookie, ""), l.openIn("de", l.cookie, "")
	for _, c := range []*sseClient{en, de, de2} {
		c.next() // live
		c.next() // the current status bar
	}
	l.waitStreams(3)

	now := time.Now().Unix()
	seedArchive(t, l.testApp, []models.ArchivedBan{{Jail: "sshd", IP: "203.0.113.7", TimeOfBan: now - 5, BanCount: 1,
		Data: `{"matches":["x"],"failures":3}`, Action: "ban"}})
	before := l.s.live.renders.Load()
	l.app.Events.Publish(events.Event{Topic: events.TopicArchive, Host: l.app.Hosts.Local().ID(), Data: events.ArchiveSynced{Inserted: 1}})
	enEvents, deEvents, de2Events := en.untilNamed(sseBans), de.untilNamed(sseBans), de2.untilNamed(sseBans)
	enRows, deRows, de2Rows := enEvents[sseBans], deEvents[sseBans], de2Events[sseBans]
	for _, want := range []string{`data-label="Herkunft"`, `>erkannt<`, `aria-label="203.0.113.7 auswählen"`, `>Dokumentationsbereich<`} {
		if !strings.Contains(deRows.data, want) || !strings.Contains(de2Rows.data, want) {
			t.Errorf("the German tabs' new rows lack %s:\n%s", want, deRows.data)
		}
	}
	for _, want := range []string{`data-label="Origin"`, `>detected<`, `aria-label="Select 203.0.113.7"`, `>documentation range<`} {
		if !strings.Contains(enRows.data, want) {
			t.Errorf("the English tab's new rows lack %s:\n%s", want, enRows.data)
		}
	}
	if enDash, deDash := enEvents[sseDash], deEvents[sseDash]; !strings.Contains(deDash.data, "Sperren") || strings.Contains(enDash.data, "Sperren") {
		t.Errorf("dashboard charts: German %s\nEnglish %s", deDash.data, enDash.data)
	}
	if deRows.id == enRows.id || de2Rows.id != deRows.id {
		t.Errorf("ids: en %s, de %s, de %s: want one frame per language", enRows.id, deRows.id, de2Rows.id)
	}
	if got := l.s.live.renders.Load() - before; got != 6 {
		t.Errorf("%d renders for one archive event and tabs of two languages, want 6 (map, counters and rows, twice)", got)
	}
}

// TestLiveTabMissingItsLanguageFetchesAgain: frames rendered while no tab
// read German are English only; a German tab that reconnects after them
// is not replayed English, it gets the current state and fetches its
// rows again.
func TestLiveTabMissingItsLanguageFetchesAgain(t *testing.T) {
	l := newLiveApp(t)
	l.settle() // the German tabs open between events
	de := l.openIn("de", l.cookie, "")
	de.next()
	de.next()
	l.waitStreams(1)
	l.publishStatus(1)
	seen := de.nextNamed(sseStatus)
	de.resp.Body.Close()
	de.ended()
	l.waitStreams(0)
	l.publishStatus(2) // rendered in English alone
	l.settle()

	de = l.openIn("de", l.cookie, seen.id)
	for _, want := range []string{sseLive, sseStatus, sseResync} {
		if ev := de.next(); ev.name != want {
			t.Fatalf("German tab back after an English-only frame: got %+v, want %q", ev, want)
		}
	}
	// An English tab that missed the same frame gets it replayed.
	en := l.open(l.cookie, seen.id)
	en.next()
	if ev := en.next(); ev.name != sseStatus || ev.id == seen.id {
		t.Fatalf("English tab back: got %+v, want the missed status bar", ev)
	}
}

// untilNamed reads the events up to the next one called name, by name.
func (c *sseClient) untilNamed(name string) map[string]sseEvent {
	c.t.Helper()
	got := map[string]sseEvent{}
	for {
		ev := c.next()
		got[ev.name] = ev
		if ev.name == name {
			return got
		}
	}
}

// settle has the status probe look at the host once (its first look is
// an event; later ones are events only when the status changes) and
// waits until the hub has published every event given to
// it so far: a tab that opens while an event is rendered without its
// language is sent away to reconnect (see liveHub.send).
func (l *liveApp) settle() {
	l.t.Helper()
	if l.s.status.Current(l.app.Hosts.Local().ID()).CheckedAt.IsZero() {
		l.s.status.Refresh(context.Background())
	}
	const mark = "192.0.2.255"
	l.app.Events.Publish(events.Event{Topic: events.TopicAddresses, Data: events.AddressesChanged{IPs: []string{mark}}})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		h := l.s.live
		h.mu.Lock()
		sent := len(h.ring) > 0 && strings.Contains(string(h.ring[len(h.ring)-1].data), mark)
		h.mu.Unlock()
		if sent {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatal("the hub did not publish within 5 s")
		}
	}
}

// TestLiveTabOpenedDuringARenderStaysConnected: a German tab that joins
// while an event is rendered in English only (the languages were read
// before it came) is told to fetch its rows again on the stream it has,
// once, and is not cut off (which the browser logs as an error and
// answers by reconnecting); a status bar it missed still makes it
// reconnect, as only a new connection renders one for it.
func TestLiveTabOpenedDuringARenderStaysConnected(t *testing.T) {
	h := &liveHub{max: 10, streams: map[*liveStream]struct{}{}}
	st, _, _, ok := h.join("", "de", 0)
	if !ok {
		t.Fatal("join refused")
	}
	english := []string{"en"}
	h.send("", english, liveFragment{name: sseBans, lang: "en", html: []byte("<tr>")})
	h.send("", english, liveFragment{name: sseDash, lang: "en", html: []byte("<div>")})
	select {
	case <-st.behind:
		t.Fatal("the tab was cut off for a missed row")
	default:
	}
	if got := len(st.frames); got != 1 {
		t.Fatalf("%d frames queued, want one resync", got)
	}
	if f := string(<-st.frames); !strings.Contains(f, "event: "+sseResync) {
		t.Fatalf("queued %q, want a resync", f)
	}
	h.send("", english, liveFragment{name: sseStatus, lang: "en", html: []byte("<p>")})
	select {
	case <-st.behind:
	default:
		t.Fatal("a missed status bar did not make the tab reconnect")
	}
}
