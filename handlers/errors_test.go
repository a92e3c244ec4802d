package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"bangui/config"
	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/lang"
	"bangui/repo"
	"bangui/services/configuration"
)

// TestErrorAnswersAsPageFlashOrJSON: one error, an unknown jail on the
// configuration pages (configuration.ErrNotFound), is answered with
// the same status, title and message as a page, as an htmx flash and as
// JSON when the request asks for JSON.
func TestErrorAnswersAsPageFlashOrJSON(t *testing.T) {
	_, b, _ := configApp(t)
	const page, msg = "/config/jails/nope", "The configuration does not define that."

	browserAccept := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	rec := b.do("GET", page, nil, map[string]string{"Accept": browserAccept})
	doc := parse(t, rec)
	if rec.Code != http.StatusNotFound || doc.Find("h1#error-title").Text() != "Not found" || !strings.Contains(doc.Find(".card").Text(), msg) {
		t.Fatalf("page: %d %q %.300s", rec.Code, doc.Find("h1#error-title").Text(), rec.Body)
	}

	rec = b.do("GET", page, nil, map[string]string{"HX-Request": "true"})
	if rec.Code != http.StatusNotFound || rec.Header().Get("HX-Retarget") != "#flash" ||
		strings.Contains(rec.Body.String(), "<html") || !strings.Contains(rec.Body.String(), msg) {
		t.Fatalf("htmx: %d retarget %q: %.300s", rec.Code, rec.Header().Get("HX-Retarget"), rec.Body)
	}

	rec = b.do("GET", page, nil, map[string]string{"Accept": "application/json"})
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("json: %d %q %.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept") {
		t.Errorf("json: Vary %q does not name Accept", rec.Header().Values("Vary"))
	}
	var body struct {
		Error struct {
			Status         int
			Title, Message string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("json: %v in %s", err, rec.Body)
	}
	if body.Error.Status != http.StatusNotFound || body.Error.Title != "Not found" || body.Error.Message != msg {
		t.Fatalf("json error %+v", body.Error)
	}

	// Below /api/ every error is JSON, whatever the client accepts.
	rec = b.do("GET", "/api/v1/nothing", nil, map[string]string{"Accept": browserAccept})
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusNotFound ||
		body.Error.Message != "There is no page at this address." {
		t.Fatalf("/api/: %d %+v %v", rec.Code, body.Error, err)
	}
}

// TestConfigEditWhileAnotherRuns: a change that cannot take the
// configuration lock (fail2ban/config's ErrEditRunning) is flashed on the
// form's page, not answered as an error, and nothing is written.
func TestConfigEditWhileAnotherRuns(t *testing.T) {
	a, b, sb := configApp(t)
	a.s.configuration = configuration.New(a.s.hosts, a.s.status, configuration.Options{LockWait: 200 * time.Millisecond})

	unlock, err := f2bconf.Lock(context.Background(), sb.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	before := dirHash(t, sb.ConfigDir)
	page := "/config/jails/web"
	form := formValues(parse(t, b.get(page)), `[data-testid="jail-form"]`)
	form.Set("maxretry", "8")
	assertRedirect(t, b.postForm(page, page, form), page)
	if msg := flashText(t, b, page); !strings.Contains(msg, "another change of fail2ban's configuration is still being applied") {
		t.Fatalf("flash: %q", msg)
	}
	if dirHash(t, sb.ConfigDir) != before {
		t.Fatal("the configuration changed while another edit held it")
	}
}

func TestWantsJSON(t *testing.T) {
	s := &Server{cfg: config.Config{BasePath: "/bangui"}}
	for _, c := range []struct {
		path, accept string
		want         bool
	}{
		{"/bangui/jails", "", false},
		{"/bangui/jails", "*/*", false},
		{"/bangui/jails", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"/bangui/jails", "application/json", true},
		{"/bangui/jails", "Application/JSON; charset=utf-8", true},
		{"/bangui/jails", "text/html;q=0.5, application/json", true},
		{"/bangui/jails", "application/json, text/html", false},
		{"/bangui/jails", "application/json;q=0", false},
		{"/bangui/api/v1/bans", "text/html", true},
		{"/bangui/api", "", true},
		{"/bangui/apiary", "", false},
	} {
		req := httptest.NewRequest("GET", (&url.URL{Path: c.path}).String(), nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		if got := s.wantsJSON(req); got != c.want {
			t.Errorf("%s with Accept %q: JSON %v, want %v", c.path, c.accept, got, c.want)
		}
	}
}

// A host id the registry does not know is a 404 that says so, wherever the
// service found out.
func TestUnknownHostIsNotFound(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	_, err := a.s.jails.List(context.Background(), "no-such-host")
	re := a.s.classify(fmt.Errorf("jails page: %w", err))
	if re.Status != http.StatusNotFound || re.Title != "Unknown host" {
		t.Fatalf("classify(unknown host) = %+v, want 404 Unknown host", re)
	}
}

// TestRemoteHostErrors: errors that crossed an agent's wire get the answer
// the local host's error gets; the agent's own failures (a changed
// certificate, a refused credential, no answer) each say what to do.
func TestRemoteHostErrors(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	for _, local := range []error{
		&fail2ban.CommandError{Class: "fail2ban.exceptions.UnknownJailException", Message: "nope"},
		&fail2ban.ValidationError{Field: fail2ban.FieldIP, Message: lang.Raw(`"x" is not an IP address or CIDR range`)},
		fmt.Errorf("ban: %w", fail2ban.ErrUnreachable),
		fmt.Errorf("read: %w", repo.ErrBusy),
	} {
		remote := hosts.DecodeError(hosts.EncodeError(local))
		if got, want := a.s.classify(remote), a.s.classify(local); got.Status != want.Status || got.Title != want.Title || got.Message != want.Message {
			t.Errorf("%v through an agent: %+v, want %+v", local, got, want)
		}
	}
	for _, c := range []struct {
		err          error
		status       int
		title, words string
	}{
		{fmt.Errorf("status: %w", &hosts.FingerprintError{Want: "AA", Got: "BB"}), http.StatusBadGateway, "The host's certificate changed", "accept it there"},
		{fmt.Errorf("status: %w", hosts.ErrAgentRefused), http.StatusBadGateway, "The host's agent refused the panel", "Enrol the host again"},
		{&hosts.UnreachableError{URL: "https://web1:9444", Err: errors.New("connection refused")}, http.StatusBadGateway, "The host is not answering", "https://web1:9444"},
	} {
		re := a.s.classify(c.err)
		if re.Status != c.status || re.Title != c.title || !strings.Contains(re.Message, c.words) {
			t.Errorf("classify(%v) = %+v", c.err, re)
		}
	}
}

// TestDatabaseErrorsAreWorded: the panel's own database being busy or out
// of reach (PostgreSQL) is a 503 that says so and that nothing changed,
// never the generic 500.
func TestDatabaseErrorsAreWorded(t *testing.T) {
	for err, title := range map[error]string{
		fmt.Errorf("repo: save settings: %w", repo.ErrContention): "The database is busy",
		fmt.Errorf("repo: get setting: %w", repo.ErrUnavailable):  "The database is not answering",
	} {
		re := (&Server{}).classify(err)
		if re.Status != http.StatusServiceUnavailable || re.Title != title || !strings.Contains(re.Message, "Nothing was changed") {
			t.Errorf("%v: %d %q %q", err, re.Status, re.Title, re.Message)
		}
	}
}
