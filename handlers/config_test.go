package handlers

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"bangui/config"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// configApp starts fail2ban with a running jail "web" and a disabled
// "web-off" and a panel that may read the sandbox's logs.
func configApp(t *testing.T) (*testApp, *browser, *sandbox.Sandbox) {
	t.Helper()
	sb := sandboxtest.Start(t,
		sandbox.Jail{Name: "web", Filter: "sshd", MaxRetry: 5},
		sandbox.Jail{Name: "web-off", Filter: "sshd", Disabled: true},
	)
	a := newTestApp(t, t.TempDir(), withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir),
		func(c *config.Config) { c.LogDirs = []string{sb.Dir}; c.RegexPath = "fail2ban-regex" })
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	a.s.status.Refresh(context.Background())
	return a, b, sb
}

// dirHash hashes every file below dir, so a test can prove nothing changed.
func dirHash(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		h.Write([]byte(p + "\x00"))
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			h.Write([]byte(target))
			return nil
		}
		b, err := os.ReadFile(p)
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

type goquerySelection = goquery.Selection

// formValues collects what a browser would submit from the form matched
// by sel (without the CSRF token, which postForm adds).
func formValues(doc *goquery.Document, sel string) url.Values {
	v := url.Values{}
	doc.Find(sel).Find("input, textarea, select").Each(func(_ int, el *goquery.Selection) {
		name, ok := el.Attr("name")
		if !ok || name == "_csrf" {
			return
		}
		switch goquery.NodeName(el) {
		case "textarea":
			v.Add(name, el.Text())
		case "select":
			val, _ := el.Find("option[selected]").Attr("value")
			v.Add(name, val)
		default:
			typ, _ := el.Attr("type")
			if typ == "checkbox" {
				if _, on := el.Attr("checked"); !on {
					return
				}
			}
			val, _ := el.Attr("value")
			v.Add(name, val)
		}
	})
	return v
}

func flashText(t *testing.T, b *browser, page string) string {
	t.Helper()
	return strings.TrimSpace(parse(t, b.get(page)).Find("#flash").Text())
}

func maxRetry(t *testing.T, sb *sandbox.Sandbox, jail string) int64 {
	t.Helper()
	n, err := sb.Client().MaxRetry(context.Background(), jail)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConfigJailsTabEditActivateAndRollback(t *testing.T) {
	_, b, sb := configApp(t)

	doc := parse(t, b.get("/config"))
	if h1 := doc.Find("h1#page-title").Text(); h1 != "Configuration" {
		t.Fatalf("title %q", h1)
	}
	if got := doc.Find(`.cfg-tabs a[aria-current="page"]`).Text(); got != "Jails" {
		t.Fatalf("current tab %q", got)
	}
	states := map[string]string{}
	doc.Find(`[data-testid="config-jails"] tr[data-jail]`).Each(func(_ int, row *goquerySelection) {
		name, _ := row.Attr("data-jail")
		states[name] = strings.TrimSpace(row.Find(`[data-testid="jail-state"]`).Text())
	})
	if states["web"] != "Active" || states["web-off"] != "Inactive" || states["sshd"] != "" && states["sshd"] != "Inactive" {
		t.Fatalf("states %v", states)
	}

	// Edit max retry through the form.
	page := "/config/jails/web"
	doc = parse(t, b.get(page))
	if v, _ := doc.Find("#f-maxretry").Attr("value"); v != "5" {
		t.Fatalf("max retry field shows %q", v)
	}
	if hint := doc.Find("#f-maxretry-hint").Text(); !strings.Contains(hint, "Set in jail.conf:") {
		t.Fatalf("max retry hint %q", hint)
	}
	form := formValues(doc, `[data-testid="jail-form"]`)
	form.Set("maxretry", "7")
	rec := b.postForm(page, page, form)
	assertRedirect(t, rec, page)
	if msg := flashText(t, b, page); !strings.Contains(msg, "Saved jail.d/web.local") || !strings.Contains(msg, "runs it with the new values") {
		t.Fatalf("flash after save: %q", msg)
	}
	if n := maxRetry(t, sb, "web"); n != 7 {
		t.Fatalf("get web maxretry = %d, want 7", n)
	}
	doc = parse(t, b.get(page))
	if src := doc.Find(`[data-testid="merged-jail"] tr[data-option="maxretry"] [data-testid="source"]`).Text(); src != "jail.d/web.local:2" {
		t.Fatalf("merged view says maxretry comes from %q", src)
	}

	// A broken regex is refused by fail2ban at the reload and rolled back.
	before := dirHash(t, sb.ConfigDir)
	form = formValues(doc, `[data-testid="jail-form"]`)
	form.Set("maxretry", "9")
	form.Set("failregex", "Failed (password for .* from <HOST>")
	rec = b.postForm(page, page, form)
	assertRedirect(t, rec, page)
	msg := flashText(t, b, page)
	for _, want := range []string{"Not applied", "Unable to compile regular expression", "rolled back", "jail.d/web.local is as it was", "web runs with the previous settings"} {
		if !strings.Contains(msg, want) {
			t.Errorf("flash after a broken regex lacks %q: %q", want, msg)
		}
	}
	if after := dirHash(t, sb.ConfigDir); after != before {
		t.Fatal("the configuration directory changed although the change was rolled back")
	}
	if n := maxRetry(t, sb, "web"); n != 7 {
		t.Fatalf("after the rollback web runs with maxretry %d, want 7", n)
	}

	// Refused input re-shows the form with the message.
	form.Set("failregex", "")
	form.Set("bantime", "1h + 1")
	rec = b.postForm(page, page, form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad ban time answered %d", rec.Code)
	}
	if e := parse(t, rec).Find("#f-bantime-error").Text(); !strings.Contains(e, "is not a time") {
		t.Fatalf("ban time error %q", e)
	}

	// Activate the inactive jail.
	rec = b.postForm("/config/jails/web-off/activate", "/config", nil)
	assertRedirect(t, rec, "/config")
	if msg := flashText(t, b, "/config"); !strings.Contains(msg, "Activated web-off") {
		t.Fatalf("flash after activation: %q", msg)
	}
	st, err := sb.Client().Status(context.Background())
	if err != nil || !strings.Contains(strings.Join(st.Jails, ","), "web-off") {
		t.Fatalf("web-off not running: %v %v", st, err)
	}

	if rec := b.get("/config/jails/nope"); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown jail answered %d", rec.Code)
	}
}

// TestConfigRawEditorRefusesPathTricks: each trick, in the query and in
// the form, gets a clear message and no file is touched.
func TestConfigRawEditorRefusesPathTricks(t *testing.T) {
	_, b, sb := configApp(t)
	outside := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "x.local"), filepath.Join(sb.ConfigDir, "jail.d", "out.local")); err != nil {
		t.Fatal(err)
	}
	before := dirHash(t, sb.ConfigDir)
	tricks := map[string]string{ // raw query value → what the message must mention
		"..%2Fjail.conf":                  "..",
		"jail.d%2F..%2F..%2Fetc%2Fpasswd": "..",
		"..%252Fjail.local":               "URL-encoded",
		"jail.d%252Fx.local":              "URL-encoded",
		"%2Fetc%2Ffail2ban%2Fjail.local":  "Absolute paths",
		"jail.d%2Fx.local%00":             "control characters",
		"jail.d%2Fsub%2Fx.local":          "too many slashes",
		"jail.d%2Fout.local":              "symbolic link",
		"jail.conf":                       "Only jail.local",
		"jail.d%5Cx.local":                "backslash",
	}
	for q, want := range tricks {
		rec := b.get("/config/raw?file=" + q)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("GET %s: status %d", q, rec.Code)
		}
		if msg := parse(t, rec).Find(`[data-testid="raw-error"]`).Text(); !strings.Contains(msg, want) {
			t.Errorf("GET %s: message %q, want it to mention %q", q, msg, want)
		}
		name, _ := url.QueryUnescape(q)
		rec = b.postForm("/config/raw", "/config/raw", url.Values{"file": {name}, "content": {"[x]\na = 1\n"}})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("POST %q: status %d", name, rec.Code)
		}
		if msg := parse(t, rec).Find(`[data-testid="raw-error"]`).Text(); !strings.Contains(msg, want) {
			t.Errorf("POST %q: message %q, want it to mention %q", name, msg, want)
		}
	}
	// 513 KB: refused by the editor with its own message.
	big := "[x]\n" + strings.Repeat("# padding line\n", 513*1024/15)
	rec := b.postForm("/config/raw", "/config/raw", url.Values{"file": {"jail.d/big.local"}, "content": {big}})
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("513 KB answered %d", rec.Code)
	}
	if msg := parse(t, rec).Find("#raw-content-error").Text(); !strings.Contains(msg, "more than the 512 KB the editor accepts") {
		t.Fatalf("513 KB message %q", msg)
	}
	if after := dirHash(t, sb.ConfigDir); after != before {
		t.Fatal("a refused request changed the configuration directory")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatal("a file was written outside the configuration directory")
	}

	// A good name opens, saves and tests.
	rec = b.postForm("/config/raw", "/config/raw", url.Values{"file": {"jail.d/web.local"}, "content": {"[web]\r\nmaxretry = 4\r\n"}})
	assertRedirect(t, rec, "/config/raw?file=jail.d%2Fweb.local")
	doc := parse(t, b.get("/config/raw?file=jail.d%2Fweb.local"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "configuration test passed") {
		t.Fatalf("flash %q", msg)
	}
	if got := doc.Find("#raw-content").Text(); got != "[web]\nmaxretry = 4\n" {
		t.Fatalf("editor shows %q", got)
	}
}

func TestConfigServerRegexAndLogTabs(t *testing.T) {
	_, b, sb := configApp(t)

	doc := parse(t, b.get("/config/server"))
	if v, _ := doc.Find("#f-dbpurgeage").Attr("value"); v != "1d" {
		t.Fatalf("purge age field %q", v)
	}
	if doc.Find(".cfg-warning--on").Length() != 0 {
		t.Fatal("purge warning shown for one day")
	}
	if db := doc.Find("dd code").First().Text(); db != sb.DBFile {
		t.Fatalf("database shown as %q", db)
	}
	rec := b.postForm("/config/server", "/config/server", url.Values{"loglevel": {"INFO"}, "logtarget": {sb.LogFile}, "dbpurgeage": {"1h"}, "dbmaxmatches": {"10"}})
	assertRedirect(t, rec, "/config/server")
	doc = parse(t, b.get("/config/server"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "below one day") {
		t.Fatalf("flash after a short purge age: %q", msg)
	}
	if doc.Find(".cfg-warning--on").Length() != 1 {
		t.Fatal("no warning for a purge age below one day")
	}

	// Regex tester through the real fail2ban-regex.
	rec = b.postForm("/config/regex", "/config/regex", url.Values{
		"failregex": {`Failed password for \S+ from <HOST>`},
		"lines":     {"Jan  2 03:04:05 h sshd[1]: Failed password for root from 198.51.100.4 port 22\nnothing here"},
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("regex test answered %d", rec.Code)
	}
	doc = parse(t, rec)
	if s := doc.Find(`[data-testid="regex-summary"]`).Text(); !strings.Contains(s, "1 matched") || !strings.Contains(s, "1 missed") {
		t.Fatalf("summary %q", s)
	}
	if host := doc.Find(`tr[data-result="matched"] td[data-label="Host"]`).Text(); host != "198.51.100.4" {
		t.Fatalf("host %q", host)
	}
	rec = b.postForm("/config/regex", "/config/regex", url.Values{"failregex": {"Failed ("}, "lines": {"x"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(parse(t, rec).Find("#rx-failregex-error").Text(), "Unable to compile") {
		t.Fatalf("broken regex: %d %s", rec.Code, parse(t, rec).Find("#rx-failregex-error").Text())
	}

	// Log viewer: fail2ban's own log, filtered, with polling when asked.
	doc = parse(t, b.get("/config/log?n=100&q=started&auto=1"))
	lines := doc.Find(`[data-testid="log-lines"] li`)
	if lines.Length() == 0 {
		t.Fatalf("no log lines: %s", doc.Find("#log-view").Text())
	}
	lines.Each(func(_ int, l *goquerySelection) {
		if !strings.Contains(strings.ToLower(l.Text()), "started") {
			t.Errorf("line %q does not contain the filter", l.Text())
		}
	})
	if trig, _ := doc.Find("#log-view").Attr("hx-trigger"); trig != "every 5s" {
		t.Fatalf("auto refresh trigger %q", trig)
	}
	frag := b.do("GET", "/config/log/lines?n=5", nil, map[string]string{"HX-Request": "true"})
	if strings.Contains(frag.Body.String(), "<html") || parse(t, frag).Find(`[data-testid="log-lines"] li`).Length() != 5 {
		t.Fatalf("fragment: %.300s", frag.Body.String())
	}
	if parse(t, frag).Find(`[data-testid="log-truncated"]`).Length() != 1 {
		t.Fatal("no notice that lines were cut")
	}
}

func TestConfigLogOutsideAllowedDirsIsRefused(t *testing.T) {
	sb := sandboxtest.Start(t)
	a := newTestApp(t, t.TempDir(), withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	doc := parse(t, b.get("/config/log"))
	if msg := doc.Find(`[data-testid="log-error"]`).Text(); !strings.Contains(msg, "may not read "+sb.LogFile) || !strings.Contains(msg, "--log-dirs") {
		t.Fatalf("message %q", msg)
	}
	if doc.Find(`[data-testid="log-lines"]`).Length() != 0 {
		t.Fatal("lines shown from a file outside the allowed folders")
	}
	b.headers["Accept-Language"] = "de"
	doc = parse(t, b.get("/config/log"))
	if msg := doc.Find(`[data-testid="log-error"]`).Text(); !strings.Contains(msg, "BanGUI darf "+sb.LogFile+" nicht lesen") || !strings.Contains(msg, "Erlauben Sie ihren Ordner mit --log-dirs") {
		t.Fatalf("message in German %q", msg)
	}
	doc = parse(t, b.postForm("/config/regex", "/config/regex", url.Values{"failregex": {"<HOST>"}, "logfile": {sb.LogFile}}))
	if msg := doc.Find("#rx-logfile-error").Text(); !strings.Contains(msg, "BanGUI darf "+sb.LogFile+" nicht lesen") {
		t.Fatalf("regex tester's refusal of the log file in German: %q", msg)
	}
}

func TestConfigFiltersAndActionsTabs(t *testing.T) {
	_, b, _ := configApp(t)
	doc := parse(t, b.get("/config/filters"))
	row := doc.Find(`[data-testid="config-filters"] tr[data-item="sshd"]`)
	if !strings.Contains(row.Text(), "web") {
		t.Fatalf("sshd row %q", row.Text())
	}
	if first, _ := doc.Find(`[data-testid="config-filters"] tr[data-item]`).First().Attr("data-item"); first != "sshd" {
		t.Fatalf("first filter %q; used filters come first", first)
	}
	doc = parse(t, b.get("/config/filters?q=apache"))
	doc.Find(`[data-testid="config-filters"] tr[data-item]`).Each(func(_ int, r *goquerySelection) {
		if n, _ := r.Attr("data-item"); !strings.Contains(n, "apache") {
			t.Errorf("search for apache shows %s", n)
		}
	})
	doc = parse(t, b.get("/config/filters/sshd"))
	if doc.Find(`[data-testid="merged-Definition"] tr[data-option="failregex"]`).Length() != 1 {
		t.Fatal("the merged view lacks the filter's failregex")
	}
	if v := doc.Find("#f-failregex").Text(); !strings.Contains(v, "%(cmnfailre)s") {
		t.Fatalf("failregex field %q", v)
	}
	doc = parse(t, b.get("/config/actions/dummy"))
	if v := doc.Find("#f-actionban").Text(); !strings.Contains(v, "<ip>") {
		t.Fatalf("actionban field %q", v)
	}
	if rec := b.get("/config/actions/..%2Fjail"); rec.Code != http.StatusNotFound {
		t.Fatalf("odd action name answered %d", rec.Code)
	}

	// Create a filter.
	rec := b.postForm("/config/filters", "/config/filters", url.Values{"name": {"my-app"}, "failregex": {"^auth failure from <HOST>$"}})
	assertRedirect(t, rec, "/config/filters/my-app")
	if msg := flashText(t, b, "/config/filters/my-app"); !strings.Contains(msg, "Created the filter my-app") {
		t.Fatalf("flash %q", msg)
	}
}
