package handlers

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

// TestLiveLoad measures the live pages: BANGUI_LIVE_LOAD=1 opens 200
// dashboards' event streams (BANGUI_LIVE_STREAMS) and makes 10 bans a
// second (BANGUI_LIVE_RATE) for 20 s (BANGUI_LIVE_SECONDS): each is
// written to the archive and announced as an archive sync, as the archive
// tail does. Every client counts the rows it got: each ban exactly once.
// It logs the process's CPU time and peak RSS (clients included: they run
// in this process too, so the panel's share is lower).
//
//	BANGUI_LIVE_LOAD=1 go test ./handlers -run TestLiveLoad -v -count=1
func TestLiveLoad(t *testing.T) {
	if os.Getenv("BANGUI_LIVE_LOAD") == "" {
		t.Skip("set BANGUI_LIVE_LOAD=1 to measure 200 streams at 10 events/s")
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	streams, rate, seconds := envInt("BANGUI_LIVE_STREAMS", 200), envInt("BANGUI_LIVE_RATE", 10), envInt("BANGUI_LIVE_SECONDS", 20)
	l := newLiveApp(t)
	host := l.app.Hosts.Local().ID()
	total := rate * seconds

	clients := make([]*sseClient, streams)
	for i := range clients {
		clients[i] = l.open(l.cookie, "")
		clients[i].next()
		clients[i].next()
	}
	l.waitStreams(streams)

	rowIP := regexp.MustCompile(`data-ip="([^"]+)"`)
	var wg sync.WaitGroup
	problems := make(chan string, streams)
	for i, c := range clients {
		wg.Go(func() {
			seen := map[string]int{}
			deadline := time.After(time.Duration(seconds)*time.Second + 30*time.Second)
			for len(seen) < total {
				select {
				case ev, ok := <-c.ch:
					if !ok {
						problems <- fmt.Sprintf("client %d: stream ended after %d bans", i, len(seen))
						return
					}
					if ev.name != sseBans {
						continue
					}
					for _, m := range rowIP.FindAllStringSubmatch(ev.data, -1) {
						seen[m[1]]++
						if seen[m[1]] > 1 {
							problems <- fmt.Sprintf("client %d: %s twice", i, m[1])
							return
						}
					}
				case <-deadline:
					var missing []string
					for n := range total {
						if ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255); seen[ip] == 0 {
							missing = append(missing, ip)
						}
					}
					problems <- fmt.Sprintf("client %d: %d of %d bans; missing %v", i, len(seen), total, missing)
					return
				}
			}
		})
	}

	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	now := time.Now().Unix()
	for n := range total {
		<-tick.C
		ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		seedArchive(t, l.testApp, []models.ArchivedBan{{Host: host, Jail: "sshd", IP: ip, TimeOfBan: now + int64(n), BanCount: 1, Data: `{"matches":["x"],"failures":3}`, Action: "ban"}})
		l.app.Events.Publish(events.Event{Topic: events.TopicArchive, Host: host, Data: events.ArchiveSynced{Inserted: 1}})
	}
	tick.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	t.Logf("%d streams, %d bans in %s (%d/s): CPU %s = %.1f%% of one core (panel and clients), peak RSS %.0f MB, renders %d, broker drops %d",
		streams, total, elapsed.Round(time.Millisecond), rate, cpu.Round(time.Millisecond), 100*cpu.Seconds()/elapsed.Seconds(),
		float64(peakRSS())/(1<<20), l.s.live.renders.Load(), l.app.Events.Dropped())
}
