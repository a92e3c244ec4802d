package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// classStats is what one endpoint class (or all of them) measured.
type classStats struct {
	Name      string
	Requests  int
	Errors    int
	Latencies []time.Duration // of every request, errors included
	Slowest   []slowRequest   // the slowest few, slowest first
}

// slowRequest is one request that took long, for the report.
type slowRequest struct {
	Path    string
	Latency time.Duration
}

// maxSlowest is how many slow requests a class keeps.
const maxSlowest = 3

// noteSlow keeps r if it is among the slowest few.
func (c *classStats) noteSlow(r slowRequest) {
	i := sort.Search(len(c.Slowest), func(i int) bool { return c.Slowest[i].Latency < r.Latency })
	if i >= maxSlowest {
		return
	}
	c.Slowest = slices.Insert(c.Slowest, i, r)
	if len(c.Slowest) > maxSlowest {
		c.Slowest = c.Slowest[:maxSlowest]
	}
}

// add records one request.
func (c *classStats) add(d time.Duration, failed bool) {
	c.Requests++
	c.Latencies = append(c.Latencies, d)
	if failed {
		c.Errors++
	}
}

// merge adds o's requests to c.
func (c *classStats) merge(o *classStats) {
	c.Requests += o.Requests
	c.Errors += o.Errors
	c.Latencies = append(c.Latencies, o.Latencies...)
	for _, r := range o.Slowest {
		c.noteSlow(r)
	}
}

// Report is the outcome of one load run.
type Report struct {
	Target   string
	Clients  int
	Duration time.Duration // measured wall time of the run
	Rows     int
	Classes  []*classStats // sorted by name
	Total    *classStats
	PeakRSS  int64         // panel's VmHWM in bytes; 0 when unknown
	PanelCPU time.Duration // CPU time the panel used during the run
	Errors   []string      // first error messages
	Notes    []string      // set-up facts worth printing
	Streams  streamReport
	Timings  []pageTiming // single requests, apart from the load
}

// Write prints the report as a compact table.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "BanGUI load test: %d clients for %s against %s, fail2ban database of %d bans\n",
		r.Clients, r.Duration.Round(10*time.Millisecond), r.Target, r.Rows)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "\n%-14s %8s %8s %9s %9s %9s %7s\n", "class", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors")
	row := func(c *classStats) {
		lat := slices.Clone(c.Latencies)
		slices.Sort(lat)
		secs := r.Duration.Seconds()
		rps := 0.0
		if secs > 0 {
			rps = float64(c.Requests) / secs
		}
		fmt.Fprintf(w, "%-14s %8d %8.1f %9.1f %9.1f %9.1f %7d\n", c.Name, c.Requests, rps,
			ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(percentile(lat, 100)), c.Errors)
	}
	for _, c := range r.Classes {
		row(c)
	}
	row(r.Total)
	fmt.Fprintln(w, "\nslowest requests:")
	for _, s := range r.Total.Slowest {
		fmt.Fprintf(w, "  %9.1f ms  %s\n", ms(s.Latency), s.Path)
	}
	r.Streams.Write(w)
	writeTimings(w, r.Timings)
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "\npanel peak RSS (VmHWM): %.1f MiB\n", float64(r.PeakRSS)/(1<<20))
	}
	if r.PanelCPU > 0 && r.Total.Requests > 0 {
		// Less sensitive to a busy machine than the latencies: what the
		// panel spent, not how long it waited for a core.
		fmt.Fprintf(w, "panel CPU: %.1f s in %.0f s (%.2f cores), %.2f ms per request\n", r.PanelCPU.Seconds(), r.Duration.Seconds(),
			r.PanelCPU.Seconds()/r.Duration.Seconds(), ms(r.PanelCPU)/float64(r.Total.Requests))
	}
	if r.Total.Errors > 0 {
		fmt.Fprintf(w, "\nERRORS: %d requests failed; first ones:\n", r.Total.Errors)
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
	} else {
		fmt.Fprintln(w, "errors: 0")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newReport builds the totals from the per-class stats.
func newReport(classes map[string]*classStats) *Report {
	r := &Report{Total: &classStats{Name: "all"}}
	for _, c := range classes {
		r.Classes = append(r.Classes, c)
		r.Total.merge(c)
	}
	sort.Slice(r.Classes, func(i, j int) bool { return r.Classes[i].Name < r.Classes[j].Name })
	return r
}

// checkLoopbackAddr refuses a listen address (host:port) whose host is not
// a loopback IP literal or "localhost": the load generator never sends
// traffic off this machine.
func checkLoopbackAddr(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("address %q: want host:port", hostport)
	}
	return checkLoopbackHost(host)
}

// checkLoopbackURL is checkLoopbackAddr for a base URL (http only).
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("target %q: want an http:// URL on loopback", raw)
	}
	return checkLoopbackHost(u.Hostname())
}

func checkLoopbackHost(host string) error {
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("refusing non-loopback target %q: the load generator only drives a panel on this machine (127.0.0.0/8 or ::1)", host)
	}
	return nil
}
