package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(lat, c.p); got != c.want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(lat[:3], 50); got != 2*time.Millisecond {
		t.Errorf("median of 1,2,3 ms = %v, want 2ms", got)
	}
	if got := percentile(lat[:1], 99); got != time.Millisecond {
		t.Errorf("p99 of one value = %v, want it", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8080", "127.1.2.3:0", "[::1]:80", "localhost:9000"} {
		if err := checkLoopbackAddr(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:8080", "192.168.1.10:80", "[::]:80", "example.com:80", ":8080", "8.8.8.8:53", "[::ffff:10.0.0.1]:80", "nohost"} {
		if err := checkLoopbackAddr(bad); err == nil {
			t.Errorf("%s accepted, want refused", bad)
		}
	}
	if err := checkLoopbackURL("http://127.0.0.1:8080"); err != nil {
		t.Errorf("loopback URL refused: %v", err)
	}
	for _, bad := range []string{"http://10.1.1.1:80", "https://127.0.0.1", "http://example.com/", "127.0.0.1:80"} {
		if err := checkLoopbackURL(bad); err == nil {
			t.Errorf("%s accepted, want refused", bad)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tbangui\nVmPeak:\t 2000000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\n"
	if got := parseVmHWM(status); got != 123456<<10 {
		t.Errorf("VmHWM = %d, want %d", got, 123456<<10)
	}
	if got := parseVmHWM("Name:\tx\n"); got != 0 {
		t.Errorf("VmHWM without the line = %d, want 0", got)
	}
}

// TestRequestMix checks that the mix reaches every endpoint class with
// valid paths and that fragment requests carry htmx's headers.
func TestRequestMix(t *testing.T) {
	s := &samples{ips: []string{"1.2.3.4", "2400::1"}, prefixes: []string{"1.2."}, jails: []string{"sshd"}, countries: []string{"CN", "unknown"}}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for range 2000 {
		req := nextRequest(r, s)
		seen[req.class]++
		u, err := url.Parse(req.path)
		if err != nil || !strings.HasPrefix(req.path, "/") {
			t.Fatalf("bad path %q: %v", req.path, err)
		}
		if strings.HasSuffix(req.class, "-table") && req.header["HX-Request"] != "true" {
			t.Errorf("%s %s without HX-Request", req.class, req.path)
		}
		if req.class == "dashboard" && u.Query().Get("range") == "" {
			t.Errorf("dashboard without range: %s", req.path)
		}
	}
	for _, c := range []string{"dashboard", "dash-table", "history", "history-table", "ip", "map", "map-table"} {
		if seen[c] < 50 {
			t.Errorf("class %s drawn %d times in 2000, want a fair share", c, seen[c])
		}
	}
}

func TestSlowestKept(t *testing.T) {
	var a, b classStats
	for i, ms := range []int{5, 50, 1, 30, 40} {
		a.noteSlow(slowRequest{Path: fmt.Sprint("a", i), Latency: time.Duration(ms) * time.Millisecond})
	}
	b.noteSlow(slowRequest{Path: "b", Latency: 45 * time.Millisecond})
	a.merge(&b)
	var got []string
	for _, r := range a.Slowest {
		got = append(got, r.Path)
	}
	if want := []string{"a1", "b", "a4"}; !slices.Equal(got, want) {
		t.Errorf("slowest %v, want %v", got, want)
	}
}

func TestHexOnly(t *testing.T) {
	if got := hexOnly("AB:cd:09 Zz-ef"); got != "abcd09ef" {
		t.Errorf("hexOnly = %q, want abcd09ef", got)
	}
}

func TestFleetReportVerdict(t *testing.T) {
	r := &fleetReport{figures: []figure{
		{name: "fast", times: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}, target: 10 * time.Millisecond},
		{name: "slow", times: []time.Duration{20 * time.Millisecond, 30 * time.Millisecond, time.Millisecond}, target: 10 * time.Millisecond},
		{name: "none", target: 10 * time.Millisecond},
		{name: "free", times: []time.Duration{time.Millisecond}, floor: "a floor"},
	}}
	var b strings.Builder
	r.write(&b)
	lines := map[string]string{}
	for _, l := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for name, want := range map[string]string{"fast": " met", "slow": "MISSED", "none": "MISSED"} {
		if !strings.HasSuffix(lines[name], want) {
			t.Errorf("%s: %q, want it to end in %q", name, lines[name], want)
		}
	}
	if strings.Contains(lines["free"], "met") || !strings.Contains(b.String(), "free: a floor") {
		t.Errorf("a figure without target: %q\n%s", lines["free"], b.String())
	}
}

func TestParseCPUTime(t *testing.T) {
	stat := "1234 (bangui x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 2000000 5000\n"
	if got := parseCPUTime(stat); got != 3250*time.Millisecond {
		t.Errorf("parseCPUTime = %v, want 3.25s (325 ticks)", got)
	}
	if got := parseCPUTime("garbage"); got != 0 {
		t.Errorf("parseCPUTime(garbage) = %v, want 0", got)
	}
}
