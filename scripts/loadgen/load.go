package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// request is one request of the mix.
type request struct {
	class  string
	path   string
	header map[string]string
}

var (
	ranges      = []string{"24h", "7d", "30d", "365d"}
	origins     = []string{"", "blocklist", "selfblock"}
	histRanges  = []string{"24h", "7d", "30d", "365d", "all"}
	histSizes   = []string{"50", "100", "200"}
	mapSizes    = []string{"25", "50", "100"}
	fragmentHdr = func(target string) map[string]string {
		return map[string]string{"HX-Request": "true", "HX-Target": target}
	}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// nextRequest draws one request of the mix: the dashboard (every range,
// both origins and all, sometimes read from fail2ban's database), its table
// pages as htmx fragments, history with filters and pages (full pages and
// fragments), per-IP pages and the world map with its table pages.
func nextRequest(r *rand.Rand, s *samples) request {
	q := url.Values{}
	switch n := r.IntN(100); {
	case n < 20: // dashboard, full page
		q.Set("range", pick(r, ranges))
		if o := pick(r, origins); o != "" {
			q.Set("origin", o)
		}
		if q.Get("range") != "24h" && r.IntN(4) == 0 {
			q.Set("source", "fail2ban")
		}
		return request{class: "dashboard", path: "/?" + q.Encode()}
	case n < 40: // dashboard table page (htmx)
		q.Set("range", pick(r, ranges))
		if o := pick(r, origins); o != "" {
			q.Set("origin", o)
		}
		if q.Get("range") != "24h" && r.IntN(4) == 0 {
			q.Set("source", "fail2ban")
		}
		q.Set("page", fmt.Sprint(1+r.IntN(30)))
		return request{class: "dash-table", path: "/?" + q.Encode(), header: fragmentHdr("dash-bans")}
	case n < 60: // history with filters
		q.Set("range", pick(r, histRanges))
		switch r.IntN(4) {
		case 0:
			q.Set("jail", pick(r, s.jails))
		case 1:
			q.Set("ip", pick(r, s.prefixes))
		}
		if o := pick(r, origins); o != "" && r.IntN(3) == 0 {
			q.Set("origin", o)
		}
		q.Set("page", fmt.Sprint(1+r.IntN(20)))
		q.Set("size", pick(r, histSizes))
		req := request{class: "history", path: "/history?" + q.Encode()}
		if r.IntN(2) == 0 {
			req.class, req.header = "history-table", fragmentHdr("history-bans")
		}
		return req
	case n < 78: // per-IP page
		return request{class: "ip", path: "/history/" + url.PathEscape(pick(r, s.ips))}
	case n < 88: // world map, full page
		q.Set("range", pick(r, ranges))
		if o := pick(r, origins); o != "" && r.IntN(3) == 0 {
			q.Set("origin", o)
		}
		return request{class: "map", path: "/map?" + q.Encode()}
	default: // map table page of one country (htmx)
		q.Set("range", pick(r, ranges))
		q.Set("country", pick(r, s.countries))
		q.Set("page", fmt.Sprint(1+r.IntN(10)))
		q.Set("size", pick(r, mapSizes))
		return request{class: "map-table", path: "/map?" + q.Encode(), header: fragmentHdr("map-bans")}
	}
}

// maxErrorSamples is how many error messages the report keeps.
const maxErrorSamples = 10

// drive runs one closed-loop worker per client until d has passed: each
// sends its next request when the previous one is answered. Any non-2xx
// status, a transport error or an htmx redirect (a lost session) counts as
// an error.
func drive(ctx context.Context, base string, clients []*http.Client, d time.Duration, s samples) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu      sync.Mutex
		classes = map[string]*classStats{}
		errs    []string
		wg      sync.WaitGroup
	)
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func(id int, c *http.Client) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(id), 0x6c6f6164))
			local := map[string]*classStats{}
			var localErrs []string
			for ctx.Err() == nil {
				req := nextRequest(r, &s)
				t0 := time.Now()
				err := do(ctx, c, base, req)
				lat := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					break // cut off by the end of the run: not the panel's fault
				}
				cs := local[req.class]
				if cs == nil {
					cs = &classStats{Name: req.class}
					local[req.class] = cs
				}
				cs.add(lat, err != nil)
				cs.noteSlow(slowRequest{Path: req.class + " " + req.path, Latency: lat})
				if err != nil && len(localErrs) < maxErrorSamples {
					localErrs = append(localErrs, err.Error())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for name, cs := range local {
				if classes[name] == nil {
					classes[name] = &classStats{Name: name}
				}
				classes[name].merge(cs)
			}
			for _, e := range localErrs {
				if len(errs) < maxErrorSamples {
					errs = append(errs, e)
				}
			}
		}(i, c)
	}
	wg.Wait()
	rep := newReport(classes)
	rep.Duration = time.Since(start)
	rep.Errors = errs
	return rep, nil
}

// do sends one request and reads the whole answer.
func do(ctx context.Context, c *http.Client, base string, r request) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.path, nil)
	if err != nil {
		return err
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", r.path, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("GET %s: reading the body: %w", r.path, err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("GET %s: status %d", r.path, resp.StatusCode)
	case resp.Header.Get("HX-Redirect") != "":
		return fmt.Errorf("GET %s: redirected to %s", r.path, resp.Header.Get("HX-Redirect"))
	}
	return nil
}
