package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"bangui/fail2ban"
)

// The live pages' event streams during a load run: each stream is one tab
// of a logged-in client (GET /events through the same panel the request
// mix drives), held open for the whole run. It counts the events it got by
// name and the heartbeats, and reconnects with Last-Event-ID as a browser
// would when the panel ends it; a refusal (the "fallback" event), a
// non-2xx answer or a transport error counts as an error.

// sseStats is what one stream (or all of them) saw.
type sseStats struct {
	Events     map[string]int // by event name
	Heartbeats int
	Reconnects int // the panel ended the stream before the run did
	Errors     int
	Connected  time.Duration // time until the first "live" event
	errSamples []string
}

func newSSEStats() *sseStats { return &sseStats{Events: map[string]int{}} }

// total is the number of events seen, heartbeats excluded.
func (s *sseStats) total() int {
	n := 0
	for _, v := range s.Events {
		n += v
	}
	return n
}

func (s *sseStats) fail(err error) {
	s.Errors++
	if len(s.errSamples) < maxErrorSamples {
		s.errSamples = append(s.errSamples, err.Error())
	}
}

// streamReport sums up the streams of a run.
type streamReport struct {
	Streams      int
	Per          []*sseStats
	BansInjected int
}

// streamClient is a client for one long-lived stream sharing c's session:
// no overall timeout (the stream lives for the whole run), its own
// connection.
func streamClient(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, Transport: &http.Transport{MaxIdleConnsPerHost: 1, ResponseHeaderTimeout: 30 * time.Second},
		CheckRedirect: c.CheckRedirect}
}

// holdStreams opens one event stream per client in clients and holds them
// until ctx ends, then returns what each saw. ready is closed once every
// stream got its first "live" event (or failed to).
func holdStreams(ctx context.Context, base string, clients []*http.Client, ready chan<- struct{}) []*sseStats {
	out := make([]*sseStats, len(clients))
	var wg, up sync.WaitGroup
	for i, c := range clients {
		out[i] = newSSEStats()
		wg.Add(1)
		up.Add(1)
		go func(st *sseStats, c *http.Client) {
			defer wg.Done()
			var once sync.Once
			holdStream(ctx, base, streamClient(c), st, func() { once.Do(up.Done) })
			once.Do(up.Done)
		}(out[i], c)
	}
	go func() { up.Wait(); close(ready) }()
	wg.Wait()
	return out
}

// holdStream reads GET /events until ctx ends, reconnecting with the last
// id it saw whenever the panel ends the stream.
func holdStream(ctx context.Context, base string, c *http.Client, st *sseStats, connected func()) {
	start := time.Now()
	lastID := ""
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			st.Reconnects++
		}
		err := readStream(ctx, base, c, lastID, st, func() {
			if st.Connected == 0 {
				st.Connected = time.Since(start)
			}
			connected()
		}, &lastID)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			st.fail(err)
			connected() // do not hold the run up
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // a browser's EventSource retries after a pause too
			}
		}
	}
}

// readStream reads one connection of the stream; it returns nil when the
// panel ended it normally.
func readStream(ctx context.Context, base string, c *http.Client, lastID string, st *sseStats, live func(), last *string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET /events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return fmt.Errorf("GET /events: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	name, id := "", ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name == "" {
				continue // a comment or retry block
			}
			st.Events[name]++
			if id != "" {
				*last = id
			}
			switch name {
			case "live":
				live()
			case "fallback":
				return fmt.Errorf("GET /events: refused (fallback event): over the panel's stream cap")
			}
			name, id = "", ""
		case strings.HasPrefix(line, ": heartbeat"):
			st.Heartbeats++
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("GET /events: reading: %w", err)
	}
	return nil
}

// injectBans bans a new documentation-range address in the sandbox's sshd
// jail every interval until ctx ends, so that the status probe sees the
// counters move and the streams carry events, and returns how many it
// banned.
func injectBans(ctx context.Context, socket string, every time.Duration) int {
	if every <= 0 {
		return 0
	}
	c := fail2ban.NewClient(socket, fail2ban.WithTimeout(10*time.Second))
	t := time.NewTicker(every)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
		ip := fmt.Sprintf("198.51.%d.%d", 100+n/250%100, 1+n%250)
		if _, err := c.Call(ctx, "set", "sshd", "banip", ip); err != nil {
			if ctx.Err() == nil {
				log.Printf("inject ban %s: %v", ip, err)
			}
			continue
		}
		n++
	}
}

// Write prints the streams' part of the report.
func (r *streamReport) Write(w io.Writer) {
	if r.Streams == 0 {
		return
	}
	all := newSSEStats()
	var totals []int
	var connect []time.Duration
	for _, s := range r.Per {
		for k, v := range s.Events {
			all.Events[k] += v
		}
		all.Heartbeats += s.Heartbeats
		all.Reconnects += s.Reconnects
		all.Errors += s.Errors
		all.errSamples = append(all.errSamples, s.errSamples...)
		totals = append(totals, s.total())
		connect = append(connect, s.Connected)
	}
	slices.Sort(totals)
	slices.Sort(connect)
	fmt.Fprintf(w, "\nevent streams (GET /events): %d open for the run, %d bans injected into fail2ban meanwhile\n", r.Streams, r.BansInjected)
	fmt.Fprintf(w, "  events per stream: min %d, median %d, max %d; heartbeats %d; reconnects %d; errors %d\n",
		totals[0], totals[len(totals)/2], totals[len(totals)-1], all.Heartbeats, all.Reconnects, all.Errors)
	fmt.Fprintf(w, "  time to the 'live' event: p50 %.1f ms, max %.1f ms\n", ms(percentile(connect, 50)), ms(percentile(connect, 100)))
	names := make([]string, 0, len(all.Events))
	for k := range all.Events {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %d", k, all.Events[k]))
	}
	fmt.Fprintf(w, "  events by name (all streams): %s\n", strings.Join(parts, ", "))
	for i, e := range all.errSamples {
		if i == maxErrorSamples {
			break
		}
		fmt.Fprintf(w, "  stream error: %s\n", e)
	}
}

// errors is the streams' error count.
func (r *streamReport) errors() int {
	n := 0
	for _, s := range r.Per {
		n += s.Errors
	}
	return n
}
