package handlers

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// A session stored before identities existed ("auth" set) stays logged in
// as the master-password admin after an upgrade.
func TestSessionFromBeforeIdentitiesStaysLoggedIn(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()

	ctx, err := a.s.sm.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	a.s.sm.Put(ctx, sessLegacyAuth, true)
	token, expiry, err := a.s.sm.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: token, Expires: expiry}
	rec := b.get("/")
	if rec.Code != http.StatusOK {
		t.Fatalf("dashboard with a pre-identity session: status %d, want 200 (location %q)", rec.Code, rec.Header().Get("Location"))
	}
	if parse(t, rec).Find(`form[action="/logout"]`).Length() == 0 {
		t.Error("dashboard of a pre-identity session shows no logout button")
	}

	// Logging out removes the legacy key too.
	if rec := b.postForm("/logout", "/", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: status %d", rec.Code)
	}
	assertRedirect(t, b.get("/"), "/login?next=%2F")
}

// A long-lived event stream outlives the server's write timeout and is not
// gzip-compressed, while ordinary pages still are.
func TestEventStreamBypassesGzipAndWriteTimeout(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	const events = 4
	a.e.GET("/test-stream", func(c echo.Context) error {
		flush, err := startStream(c)
		if err != nil {
			return err
		}
		for i := range events {
			time.Sleep(150 * time.Millisecond)
			if _, err := c.Response().Write([]byte("data: " + strings.Repeat("x", 2000) + string(rune('0'+i)) + "\n\n")); err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	})
	srv := httptest.NewUnstartedServer(a.e)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/test-stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("event stream Content-Encoding = %q, want none", ce)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type = %q", ct)
	}
	got := 0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 8192), 8192)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got++
		}
	}
	if got != events {
		t.Errorf("received %d events over %v with a %v write timeout, want %d (err %v)",
			got, events*150*time.Millisecond, srv.Config.WriteTimeout, events, sc.Err())
	}

	// An ordinary page is still compressed.
	req, _ = http.NewRequest("GET", srv.URL+"/setup", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res2, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if ce := res2.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("setup page Content-Encoding = %q, want gzip", ce)
	}
}
