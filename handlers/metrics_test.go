package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"bangui/config"
	"bangui/fail2ban/sandbox/sandboxtest"
)

const testMetricsToken = "metrics-token-0123456789abcdef"

func withMetricsToken(tok string) appOption { return func(c *config.Config) { c.MetricsToken = tok } }

// scrape GETs the panel's metrics with the given Authorization header
// ("" for none).
func scrape(a *testApp, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "192.0.2.50:40000"
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// Metrics are off by default: /metrics is an unknown path.
func TestMetricsOffByDefault(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	if a.app.Metrics != nil {
		t.Fatal("metrics built without --metrics-listen or --metrics-token")
	}
	if rec := scrape(a, "/metrics", "Bearer "+testMetricsToken); rec.Code != http.StatusNotFound {
		t.Fatalf("/metrics with metrics off: status %d, want 404", rec.Code)
	}
}

// With --metrics-token the panel's own address serves <base-path>/metrics
// to a scraper with the right bearer token only: no session, before setup
// too; a missing or wrong token gets 401.
func TestMetricsTokenOnPanelAddress(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"), withMetricsToken(testMetricsToken))
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong-token-0123456789abcdef", http.StatusUnauthorized},
		{"Bearer " + testMetricsToken[:len(testMetricsToken)-1], http.StatusUnauthorized},
		{"Basic " + testMetricsToken, http.StatusUnauthorized},
		{"Bearer " + testMetricsToken, http.StatusOK},
		{"bearer " + testMetricsToken, http.StatusOK},
	} {
		rec := scrape(a, "/bangui/metrics", tc.auth)
		if rec.Code != tc.want {
			t.Errorf("Authorization %q: status %d, want %d; body %.200s", tc.auth, rec.Code, tc.want, rec.Body)
			continue
		}
		if tc.want == http.StatusUnauthorized {
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
			}
			if strings.Contains(rec.Body.String(), "bangui_") {
				t.Errorf("401 answer leaks metrics: %.200s", rec.Body)
			}
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("content type %q", ct)
		}
		if !strings.Contains(rec.Body.String(), `bangui_build_info{version="test"} 1`) {
			t.Errorf("no build info in %.500s", rec.Body)
		}
		if len(rec.Result().Cookies()) != 0 {
			t.Errorf("a scrape got cookies: %v", rec.Result().Cookies())
		}
	}
	if rec := scrape(a, "/metrics", "Bearer "+testMetricsToken); rec.Code != http.StatusNotFound {
		t.Errorf("/metrics outside the base path: status %d, want 404", rec.Code)
	}
}

// The metrics against a real fail2ban and a real Prometheus: promtool
// accepts the exposition, no label value is an address, route labels are
// patterns, and Prometheus, scraping the panel with the token, answers a
// query with the banned count fail2ban reports.
func TestMetricsScrapedByPrometheusAgainstRealFail2ban(t *testing.T) {
	sb := sandboxtest.Start(t)
	a := newTestApp(t, t.TempDir(), withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir), withMetricsToken(testMetricsToken))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")

	// Bans from the panel, a ban by fail2ban itself and a failure below maxretry.
	rec := b.postForm("/jails/ban", "/jails", url.Values{"target": {"203.0.113.7, 203.0.113.8, 198.51.100.0/24"}, "jail": {"sshd"}})
	assertRedirect(t, rec, "/jails")
	attack(t, sb, "192.0.2.201", 6)
	attack(t, sb, "192.0.2.202", 1)
	ctx := context.Background()
	waitForLong(t, "fail2ban to ban and count the attack", func() bool {
		st, err := sb.Client().JailStatusShort(ctx, "sshd")
		return err == nil && st.CurrentlyBanned == 4 && st.CurrentlyFailed >= 1
	}, func() string {
		st, err := sb.Client().JailStatusShort(ctx, "sshd")
		return fmt.Sprintf("%+v %v", st, err)
	})
	// A blocklist import run through the page.
	lists := newBlocklistServer(t)
	listURL := lists.serve("list.txt", "192.0.2.71\n192.0.2.72\n")
	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"Metrics list"}, "url": {listURL}, "enabled": {"on"}}), "/blocklists")
	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", nil), "/blocklists")
	waitImport(t, b)
	b.get("/history/203.0.113.7")   // a route with a parameter
	b.get("/no/such/page/10.9.8.7") // an unknown path with an address in it
	a.s.status.Refresh(ctx)
	if _, err := a.sync.Run(ctx); err != nil { // the archive catches up with fail2ban
		t.Fatal(err)
	}
	want, err := sb.Client().JailStatusShort(ctx, "sshd")
	if err != nil {
		t.Fatal(err)
	}

	body := scrape(a, "/metrics", "Bearer "+testMetricsToken).Body.String()
	families := parseExposition(t, body)
	assertNoAddressLabels(t, families)
	for _, ip := range []string{"203.0.113.7", "203.0.113.8", "198.51.100.0", "192.0.2.201", "192.0.2.202", "10.9.8.7", "192.0.2.71", "192.0.2.72"} {
		if strings.Contains(body, ip) {
			t.Errorf("address %s appears in the exposition", ip)
		}
	}
	sshd := map[string]string{"host": "local", "jail": "sshd"}
	for name, v := range map[string]int64{
		"bangui_fail2ban_jail_banned": want.CurrentlyBanned, "bangui_fail2ban_jail_failed": want.CurrentlyFailed,
		"bangui_fail2ban_jail_bans_total": want.TotalBanned, "bangui_fail2ban_jail_failures_total": want.TotalFailed,
	} {
		if got, ok := sampleValue(families, name, sshd); !ok || got != float64(v) {
			t.Errorf("%s{host=local,jail=sshd} = %v (found %v), fail2ban says %d", name, got, ok, v)
		}
	}
	if got, ok := sampleValue(families, "bangui_fail2ban_up", map[string]string{"host": "local"}); !ok || got != 1 {
		t.Errorf("bangui_fail2ban_up = %v, %v", got, ok)
	}
	if rows, ok := sampleValue(families, "bangui_archive_rows", nil); !ok || rows < float64(want.TotalBanned) {
		t.Errorf("bangui_archive_rows = %v, %v; want at least fail2ban's %d bans", rows, ok, want.TotalBanned)
	}
	if lag, ok := sampleValue(families, "bangui_archive_lag_seconds", map[string]string{"host": "local"}); !ok || lag < 0 || lag > 60 {
		t.Errorf("bangui_archive_lag_seconds{host=local} = %v, %v just after a sync", lag, ok)
	}
	for _, route := range []string{"/jails/ban", "/history/:ip", "/login", "unmatched"} {
		if !hasLabel(families["bangui_http_requests_total"], "route", route) {
			t.Errorf("no request counted for route %q", route)
		}
	}
	if got, ok := sampleValue(families, "bangui_blocklist_imports_total", map[string]string{"trigger": "manual", "result": "ok"}); !ok || got != 1 {
		t.Errorf("bangui_blocklist_imports_total{trigger=manual,result=ok} = %v, %v after one import", got, ok)
	}
	if got, ok := sampleValue(families, "bangui_blocklist_import_addresses_total", map[string]string{"outcome": "imported"}); !ok || got != 2 {
		t.Errorf("imported addresses = %v, %v; the list has 2", got, ok)
	}
	if got, ok := sampleValue(families, "bangui_fail2ban_jail_banned", map[string]string{"host": "local", "jail": "blocklist-import"}); !ok || got != 2 {
		t.Errorf("blocklist-import banned = %v, %v; want the list's 2", got, ok)
	}
	if n := len(families["bangui_alert_deliveries_total"].GetMetric()); n != 15 {
		t.Errorf("alert deliveries: %d series, want every channel × outcome (15) at zero", n)
	}

	// promtool accepts the exposition, and a real Prometheus scrapes the
	// panel and answers with fail2ban's count. (The checks above run
	// without the Debian package prometheus too.)
	promtoolCheck(t, needTool(t, "promtool"), body)
	prometheus := needTool(t, "prometheus")
	srv := httptest.NewServer(a.e)
	t.Cleanup(srv.Close)
	prom := startPrometheus(t, prometheus, strings.TrimPrefix(srv.URL, "http://"), "/metrics", testMetricsToken)
	query := `sum(bangui_fail2ban_jail_banned{host="local",jail="sshd"})`
	var got string
	waitForLong(t, "Prometheus to scrape the banned count", func() bool {
		got = promQuery(t, prom, query)
		return got == strconv.FormatInt(want.CurrentlyBanned, 10)
	}, func() string { return fmt.Sprintf("last answer %q, want %d", got, want.CurrentlyBanned) })
	if up := promQuery(t, prom, `up{job="bangui"}`); up != "1" {
		t.Errorf("up{job=bangui} = %q", up)
	}
	checkDashboard(t, prom, families)
}

// dashboardFile is the Grafana dashboard shipped in the repository.
const dashboardFile = "../contrib/grafana/bangui.json"

// checkDashboard runs every query of the Grafana dashboard on the real
// Prometheus (its variables set to match everything): each must parse and
// run, and each bangui_ metric it names must be one the panel exports.
func checkDashboard(t *testing.T, prom string, families map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	vars := strings.NewReplacer("$job", ".*", "$host", ".*", "$jail", ".*", "$__rate_interval", "1m")
	names := regexp.MustCompile(`\bbangui_[a-z0-9_]+`)
	queries := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			queries++
			expr := vars.Replace(target.Expr)
			if status, body := promRun(t, prom, expr); status != http.StatusOK {
				t.Errorf("panel %q: query %s: %d %s", p.Title, expr, status, body)
			}
			for _, name := range names.FindAllString(expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if families[name] == nil && families[base] == nil {
					t.Errorf("panel %q uses %s, which the panel does not export", p.Title, name)
				}
			}
		}
	}
	if queries < 20 {
		t.Errorf("the dashboard has %d queries; want its panels", queries)
	}
}

// promRun runs an instant query and returns the HTTP status and body.
func promRun(t *testing.T, base, query string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// needTool returns the path of a program of the Debian package prometheus;
// when it is missing the test is skipped, or fails under CI=true.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true, so this is not skipped; install the Debian package prometheus)", name)
		}
		t.Skipf("%s not found: install the Debian package prometheus to run this test", name)
	}
	return p
}

// promtoolCheck runs "promtool check metrics" on an exposition.
func promtoolCheck(t *testing.T, promtool, body string) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// parseExposition parses the text format into metric families by name.
func parseExposition(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// assertNoAddressLabels fails when any label value of any sample reads as
// an IP address or range.
func assertNoAddressLabels(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	labels := 0
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels++
				v := l.GetValue()
				_, errAddr := netip.ParseAddr(v)
				_, errPrefix := netip.ParsePrefix(v)
				if errAddr == nil || errPrefix == nil || net.ParseIP(v) != nil {
					t.Errorf("%s has label %s=%q, an IP address", name, l.GetName(), v)
				}
			}
		}
	}
	if labels == 0 {
		t.Fatal("no labels checked")
	}
}

// sampleValue is the value of the sample of name whose labels include want.
func sampleValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		if !labelsMatch(m, want) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// hasLabel reports whether a sample of f has label name=value.
func hasLabel(f *dto.MetricFamily, name, value string) bool {
	for _, m := range f.GetMetric() {
		if labelsMatch(m, map[string]string{name: value}) {
			return true
		}
	}
	return false
}

// startPrometheus runs a Prometheus server in a temp dir that scrapes
// target's path every second with the bearer token, and returns its base
// URL once it is ready. It is stopped when the test ends.
func startPrometheus(t *testing.T, bin, target, path, token string) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bangui
    metrics_path: %q
    authorization:
      type: Bearer
      credentials: %q
    static_configs:
      - targets: [%q]
`, path, token, target)
	confPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	waitForLong(t, "Prometheus to start", func() bool {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus exited:\n%s", log)
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string { log, _ := os.ReadFile(logPath); return string(log) })
	return base
}

// promQuery runs an instant query and returns the value of its one sample
// ("" when it has none).
func promQuery(t *testing.T, base, query string) string {
	t.Helper()
	_, raw := promRun(t, base, query)
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", query, err, raw)
	}
	if len(r.Data.Result) != 1 {
		return ""
	}
	v, _ := r.Data.Result[0].Value[1].(string)
	return v
}

// waitForLong polls cond for up to a minute (Prometheus starts and scrapes
// on its own schedule); on failure it reports what detail says.
func waitForLong(t *testing.T, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, detail())
		}
		time.Sleep(200 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}
