package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/models"
	"bangui/services/alerts/alertstest"
)

func channel(t *testing.T, kind string, c Config, secret string) models.AlertChannel {
	b, _ := json.Marshal(c)
	return models.AlertChannel{Name: kind, Kind: kind, Config: string(b), Secret: secret}
}

var testMessage = Message{RuleName: "r", GroupKey: "g", Alerts: 1, Subject: "Bän storm", Body: "line 1\nline 2", At: time.Now()}

// TestHTTPKindsReachRealReceivers sends to local receivers of each HTTP
// kind and checks what they got: the webhook's HMAC and custom header,
// ntfy's title and token, Gotify's key and path, Slack's text.
func TestHTTPKindsReachRealReceivers(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var req *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		req, body = r, nil
		body, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, `{"id":1}`)
	}))
	defer srv.Close()
	s := NewSender(2 * time.Second)

	a, err := s.Send(ctx, channel(t, KindWebhook, Config{URL: srv.URL + "/hook", Headers: map[string]string{"X-Team": "ops"}}, "hmac-key-1234"), testMessage)
	if err != nil || a.Status != "200 OK" || a.Body != `{"id":1}` {
		t.Fatalf("webhook: %v %+v", err, a)
	}
	if req.Header.Get(SignatureHeader) != Sign([]byte("hmac-key-1234"), body) || req.Header.Get("X-Team") != "ops" {
		t.Errorf("webhook headers: %v", req.Header)
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m["subject"] != "Bän storm" || m["body"] != "line 1\nline 2" {
		t.Errorf("webhook body: %s", body)
	}

	if _, err := s.Send(ctx, channel(t, KindNtfy, Config{URL: srv.URL + "/alerts"}, "tk_abcd"), testMessage); err != nil {
		t.Fatal(err)
	}
	if req.URL.Path != "/alerts" || req.Header.Get("Authorization") != "Bearer tk_abcd" ||
		!strings.HasPrefix(req.Header.Get("Title"), "=?utf-8?q?") || string(body) != "line 1\nline 2" {
		t.Errorf("ntfy: %s %v %q", req.URL.Path, req.Header, body)
	}

	if _, err := s.Send(ctx, channel(t, KindGotify, Config{URL: srv.URL + "/"}, "AppToken"), testMessage); err != nil {
		t.Fatal(err)
	}
	if req.URL.Path != "/message" || req.Header.Get("X-Gotify-Key") != "AppToken" || !bytes.Contains(body, []byte(`"title":"Bän storm"`)) {
		t.Errorf("gotify: %s %v %s", req.URL.Path, req.Header, body)
	}

	if _, err := s.Send(ctx, channel(t, KindSlack, Config{URL: srv.URL + "/hooks/x"}, ""), testMessage); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`"text":"Bän storm\nline 1\nline 2"`)) {
		t.Errorf("slack: %s", body)
	}
}

// TestEmailOverSMTP sends through a real SMTP server in the test process,
// with STARTTLS and with implicit TLS, a self-signed certificate the
// sender is told to trust, and AUTH PLAIN; the server checks all three.
func TestEmailOverSMTP(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, mode := range []string{SMTPStartTLS, SMTPTLS} {
		srv := alertstest.StartSMTP(t, cert, mode == SMTPTLS, "alerts", "s3cret-pass")
		port := srv.Port
		s := NewSender(5 * time.Second)
		s.TLS = &tls.Config{RootCAs: pool}
		c := Config{Host: "127.0.0.1", Port: port, Security: mode, Username: "alerts",
			From: "bangui@example.org", To: []string{"ops@example.org", "oncall@example.org"}}
		if _, err := s.Send(context.Background(), channel(t, KindEmail, c, "s3cret-pass"), testMessage); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		mails := srv.Mails()
		if len(mails) != 1 || mails[0].From != "bangui@example.org" || len(mails[0].To) != 2 ||
			!strings.Contains(mails[0].Data, "Subject: =?utf-8?q?B=C3=A4n_storm?=") ||
			!strings.Contains(mails[0].Data, "line 1\r\nline 2") {
			t.Errorf("%s: mails %+v", mode, mails)
		}

		// A wrong password is refused with a clear error.
		if _, err := s.Send(context.Background(), channel(t, KindEmail, c, "wrong"), testMessage); err == nil || !strings.Contains(err.Error(), "SMTP login") {
			t.Errorf("%s wrong password: %v", mode, err)
		}
	}
	// An untrusted certificate is refused.
	port := alertstest.StartSMTP(t, cert, false, "alerts", "s3cret-pass").Port
	c := Config{Host: "127.0.0.1", Port: port, Security: SMTPStartTLS, From: "a@b.c", To: []string{"d@e.f"}}
	if _, err := NewSender(5*time.Second).Send(context.Background(), channel(t, KindEmail, c, ""), testMessage); err == nil {
		t.Error("untrusted certificate accepted")
	}
}

// TestBadInput: invalid settings are refused with clear messages; an SMTP
// server that never answers, an HTTP receiver that hangs, one answering
// 500 and one sending megabytes all end within the timeout with a clear
// error (or a capped answer).
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		kind string
		c    Config
		want string
	}{
		{KindWebhook, Config{URL: ""}, "URL is missing"},
		{KindWebhook, Config{URL: "ftp://x.org/"}, "http:// or https://"},
		{KindWebhook, Config{URL: "javascript:alert(1)"}, "http:// or https://"},
		{KindNtfy, Config{URL: "https:///topic"}, "no host"},
		{KindSlack, Config{URL: "https://u:p@hooks.example/x"}, "user name or password"},
		{KindWebhook, Config{URL: "http://%zz"}, "not valid"},
		{KindWebhook, Config{URL: "https://x.org", Headers: map[string]string{"Bad Header": "v"}}, "not a valid HTTP header"},
		{KindWebhook, Config{URL: "https://x.org", Headers: map[string]string{"X-A": "a\r\nb"}}, "not a valid HTTP header"},
		{KindWebhook, Config{URL: "https://x.org", Headers: map[string]string{"x-bangui-signature": "v"}}, "set by the panel"},
		{KindGotify, Config{URL: "https://x.org"}, "application token"},
		{KindEmail, Config{Host: "smtp.x.org:25", Port: 25, Security: SMTPTLS}, "without port"},
		{KindEmail, Config{Host: "smtp.x.org", Port: 0, Security: SMTPTLS}, "port"},
		{KindEmail, Config{Host: "smtp.x.org", Port: 25, Security: "none"}, "STARTTLS or TLS"},
		{KindEmail, Config{Host: "smtp.x.org", Port: 25, Security: SMTPTLS, From: "x", To: []string{"a@b"}}, "sender"},
		{KindEmail, Config{Host: "smtp.x.org", Port: 25, Security: SMTPTLS, From: "a@b"}, "at least one recipient"},
		{KindEmail, Config{Host: "smtp.x.org", Port: 25, Security: SMTPTLS, From: "a@b", To: []string{"a@b\r\nBcc: x@y"}}, "recipient"},
		{"pager", Config{}, "unknown channel kind"},
	} {
		err := Validate(tc.kind, tc.c, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v, want %q", tc.kind, tc.c, err, tc.want)
		}
	}

	ctx := context.Background()
	s := NewSender(500 * time.Millisecond)
	// An SMTP server that accepts and never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	start := time.Now()
	_, err = s.Send(ctx, channel(t, KindEmail, Config{Host: "127.0.0.1", Port: port, Security: SMTPStartTLS,
		From: "a@b.c", To: []string{"d@e.f"}}, ""), testMessage)
	if err == nil || !strings.Contains(err.Error(), "SMTP server 127.0.0.1:"+strconv.Itoa(port)) || time.Since(start) > 3*time.Second {
		t.Errorf("silent SMTP server: %v after %v", err, time.Since(start))
	}

	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hung.Close()
	defer close(hang) // before Close, which waits for the handler
	start = time.Now()
	_, err = s.Send(ctx, channel(t, KindSlack, Config{URL: hung.URL}, ""), testMessage)
	if err == nil || !strings.Contains(err.Error(), "no answer in time") || time.Since(start) > 3*time.Second {
		t.Errorf("hanging receiver: %v after %v", err, time.Since(start))
	}

	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database on fire", http.StatusInternalServerError)
	}))
	defer broken.Close()
	a, err := s.Send(ctx, channel(t, KindWebhook, Config{URL: broken.URL}, ""), testMessage)
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") || !strings.Contains(a.Body, "database on fire") {
		t.Errorf("500: %v %+v", err, a)
	}

	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 8 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	a, err = NewSender(5*time.Second).Send(ctx, channel(t, KindGotify, Config{URL: huge.URL}, "tok"), testMessage)
	if err != nil || len(a.Body) != MaxAnswer {
		t.Errorf("8 MiB answer: %v, kept %d bytes", err, len(a.Body))
	}

	redirects := httptest.NewServer(nil)
	redirects.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirects.URL+r.URL.Path+"x", http.StatusTemporaryRedirect)
	})
	defer redirects.Close()
	if _, err = s.Send(ctx, channel(t, KindNtfy, Config{URL: redirects.URL + "/t"}, ""), testMessage); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: %v", err)
	}
}

func TestMaskSecret(t *testing.T) {
	for in, want := range map[string]string{"": "", "short": "••••", "hmac-key-1234": "••••1234"} {
		if got := MaskSecret(in); got != want {
			t.Errorf("MaskSecret(%q) = %q, want %q", in, got, want)
		}
	}
}
