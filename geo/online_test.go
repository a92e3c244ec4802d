package geo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/models"
)

// fakeIPAPI answers like ip-api.com's batch endpoint from a table, and
// records what it was sent.
type fakeIPAPI struct {
	mu       sync.Mutex
	batches  [][]string
	times    []time.Time
	answers  map[string][3]string // ip → countryCode, country, as
	rlZeroAt int                  // answer X-Rl: 0 on this request (1-based); 0 never
	status   int                  // reply status; 0 means 200
}

func (f *fakeIPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || !strings.Contains(r.URL.RawQuery, "fields=") {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var ips []string
	if err := json.NewDecoder(r.Body).Decode(&ips); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.batches = append(f.batches, ips)
	f.times = append(f.times, time.Now())
	w.Header().Set("X-Rl", "14")
	w.Header().Set("X-Ttl", "60")
	if f.rlZeroAt == len(f.batches) {
		w.Header().Set("X-Rl", "0")
		w.Header().Set("X-Ttl", "42")
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	var out []map[string]string
	for _, ip := range ips {
		a, ok := f.answers[ip]
		if !ok {
			out = append(out, map[string]string{"status": "fail", "message": "reserved range", "query": ip})
			continue
		}
		out = append(out, map[string]string{"status": "success", "query": ip, "countryCode": a[0], "country": a[1], "as": a[2], "org": ""})
	}
	// An answer to a question nobody asked must be ignored.
	out = append(out, map[string]string{"status": "success", "query": "6.6.6.6", "countryCode": "XX"})
	json.NewEncoder(w).Encode(out)
}

func TestOnlineBatches(t *testing.T) {
	fake := &fakeIPAPI{answers: map[string][3]string{
		"8.8.8.8":      {"US", "United States", "AS15169 Google LLC"},
		"2a00:1450::1": {"IE", "Ireland", "AS15169 Google LLC"},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	o := NewOnline(srv.URL, srv.Client())
	o.interval = 20 * time.Millisecond // the real spacing is 4 s

	ips := []string{"8.8.8.8", "2a00:1450::1", "10.0.0.1", "192.168.1.1", "::1"}
	for i := range 230 {
		ips = append(ips, "11.0."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250+1))
	}
	got, err := o.LookupMany(context.Background(), ips)
	if err != nil {
		t.Fatal(err)
	}
	if g := got["8.8.8.8"]; g.CountryCode != "US" || g.CountryName != "United States" || g.ASN != 15169 || g.Org != "Google LLC" {
		t.Errorf("8.8.8.8 = %+v", g)
	}
	if g := got["2a00:1450::1"]; g.CountryCode != "IE" {
		t.Errorf("IPv6 = %+v", g)
	}
	if g := got["10.0.0.1"]; g.Special != models.GeoPrivate {
		t.Errorf("private = %+v", g)
	}
	if g := got["11.0.0.1"]; g.Known() || g.IP != "11.0.0.1" {
		t.Errorf("failed answer = %+v, want unknown", g)
	}
	if _, ok := got["6.6.6.6"]; ok {
		t.Error("an answer nobody asked for was taken")
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.batches) != 3 {
		t.Fatalf("%d requests for 232 public addresses, want 3 (100 each at most)", len(fake.batches))
	}
	sent := 0
	for _, b := range fake.batches {
		if len(b) > OnlineBatchSize {
			t.Errorf("a batch of %d addresses", len(b))
		}
		for _, ip := range b {
			if strings.HasPrefix(ip, "10.") || strings.HasPrefix(ip, "192.168.") || ip == "::1" {
				t.Errorf("private address %s left the host", ip)
			}
		}
		sent += len(b)
	}
	if sent != 232 {
		t.Errorf("sent %d addresses, want 232", sent)
	}
	for i := 1; i < len(fake.times); i++ {
		if gap := fake.times[i].Sub(fake.times[i-1]); gap < o.interval {
			t.Errorf("requests %d and %d only %v apart, want at least %v", i-1, i, gap, o.interval)
		}
	}
}

func TestOnlineQuota(t *testing.T) {
	fake := &fakeIPAPI{rlZeroAt: 1}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	o := NewOnline(srv.URL, srv.Client())
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	o.now = func() time.Time { return now }
	if _, err := o.LookupMany(context.Background(), []string{"8.8.8.8"}); err != nil {
		t.Fatal(err)
	}
	if want := now.Add(42 * time.Second); !o.next.Equal(want) {
		t.Errorf("after X-Rl: 0 the next request waits until %v, want %v (X-Ttl)", o.next, want)
	}
	// A caller that cannot wait that long gets its context's error, and nothing is sent.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := o.LookupMany(ctx, []string{"8.8.4.4"}); err == nil {
		t.Error("no error while the quota is used up")
	}
	fake.mu.Lock()
	n := len(fake.batches)
	fake.mu.Unlock()
	if n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}

	fake429 := &fakeIPAPI{status: http.StatusTooManyRequests}
	srv429 := httptest.NewServer(fake429)
	defer srv429.Close()
	o = NewOnline(srv429.URL, srv429.Client())
	o.now = func() time.Time { return now }
	got, err := o.LookupMany(context.Background(), []string{"8.8.8.8", "10.0.0.1"})
	if err == nil {
		t.Error("a 429 reply gave no error")
	}
	if _, ok := got["8.8.8.8"]; ok {
		t.Error("an address the service refused counts as answered")
	}
	if got["10.0.0.1"].Special != models.GeoPrivate {
		t.Error("the private address lost its answer")
	}
	if want := now.Add(60 * time.Second); !o.next.Equal(want) {
		t.Errorf("after 429 the next request waits until %v, want %v", o.next, want)
	}
}

func TestChain(t *testing.T) {
	fake := &fakeIPAPI{answers: map[string][3]string{"9.9.9.9": {"CH", "Switzerland", "AS19281 Quad9"}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	online := NewOnline(srv.URL, srv.Client())
	local := &tableResolver{answers: map[string]string{"8.8.8.8": "US"}}
	c := Chain{local, online}
	got, err := c.LookupMany(context.Background(), []string{"8.8.8.8", "9.9.9.9", "192.168.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got["8.8.8.8"].CountryCode != "US" || got["9.9.9.9"].CountryCode != "CH" || got["192.168.0.1"].Special != models.GeoPrivate {
		t.Errorf("chain = %+v", got)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.batches) != 1 || len(fake.batches[0]) != 1 || fake.batches[0][0] != "9.9.9.9" {
		t.Errorf("sent %v, want only the address the local database does not know", fake.batches)
	}
}

// tableResolver answers from a map; every address is definitive.
type tableResolver struct{ answers map[string]string }

func (r *tableResolver) Lookup(ctx context.Context, ip string) (models.GeoInfo, error) {
	return lookupOne(ctx, r, ip)
}

func (r *tableResolver) LookupMany(_ context.Context, ips []string) (map[string]models.GeoInfo, error) {
	out := map[string]models.GeoInfo{}
	cl := NewClassifier()
	for _, ip := range ips {
		a, err := ParseIP(ip)
		if err != nil {
			continue
		}
		out[ip] = withName(models.GeoInfo{IP: ip, CountryCode: r.answers[ip], Special: cl.Special(a)})
	}
	return out, nil
}

func TestParseAS(t *testing.T) {
	for in, want := range map[string]struct {
		n   uint
		org string
	}{"AS15169 Google LLC": {15169, "Google LLC"}, "": {0, ""}, "AS": {0, ""}, "ASx foo": {0, ""}, "AS3320": {3320, ""}} {
		n, org := parseAS(in)
		if n != want.n || org != want.org {
			t.Errorf("parseAS(%q) = %d %q", in, n, org)
		}
	}
}
