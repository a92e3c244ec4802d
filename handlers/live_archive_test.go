package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/fail2ban/sandbox/sandboxtest"
)

// TestEveryPageShowsANewBanWithinSeconds: with the archive tail running, a
// failed-login burst that fail2ban bans by itself is, within 5 s of the
// log lines, on every page: the dashboard (fail2ban's database), the map
// with its country, the map's table, the history read from the archive
// and the per-IP page.
func TestEveryPageShowsANewBanWithinSeconds(t *testing.T) {
	sb := sandboxtest.Start(t)
	dir := t.TempDir()
	installGeoDB(t, dir)
	a := newTestApp(t, dir, withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { a.sync.Tail(ctx, 0) })

	const attacker = "81.2.69.77" // GB in the test country database
	row := fmt.Sprintf(`tr[data-ip=%q]`, attacker)
	pages := []struct {
		name, path string
		shows      func() bool
	}{
		{"dashboard", "/", func() bool { return parse(t, b.get("/")).Find("#dash-bans "+row).Length() == 1 }},
		{"map", "/map", func() bool {
			return countryLink(parse(t, b.get("/map")), "GB").AttrOr("data-bans", "") == "1"
		}},
		{"map table", "/map?country=GB&range=24h", func() bool {
			return parse(t, b.get("/map?country=GB&range=24h")).Find("#map-bans "+row).Length() == 1
		}},
		{"history from the archive", "/history?source=archive", func() bool {
			return parse(t, b.get("/history?source=archive")).Find("#history-bans "+row).Length() == 1
		}},
		{"per-IP page", "/history/" + attacker, func() bool {
			doc := parse(t, b.get("/history/"+attacker))
			return doc.Find("[data-testid=ip-bans]").Text() == "1" && strings.Contains(doc.Find("[data-testid=ip-timeline]").Text(), "Failed password")
		}},
	}
	start := time.Now()
	attack(t, sb, attacker, 6)
	deadline := start.Add(5 * time.Second)
	for _, p := range pages {
		for !p.shows() {
			if time.Now().After(deadline) {
				t.Fatalf("%s (%s) does not show the ban of %s 5 s after the failed logins", p.name, p.path, attacker)
			}
			time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
		}
	}
	t.Logf("every page shows the ban %v after the failed logins", time.Since(start).Round(time.Millisecond))
}
