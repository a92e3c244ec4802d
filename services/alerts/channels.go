package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"bangui/lang"
	"bangui/models"
)

// Channel kinds (also the metrics' channel label).
const (
	KindWebhook = "webhook"
	KindNtfy    = "ntfy"
	KindGotify  = "gotify"
	KindSlack   = "slack" // Slack or Mattermost incoming webhook
	KindEmail   = "email"
)

// Kinds lists the channel kinds, in the order the page offers them.
var Kinds = []string{KindWebhook, KindNtfy, KindGotify, KindSlack, KindEmail}

// SMTP security modes.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587)
	SMTPTLS      = "tls"      // implicit TLS from the first byte (port 465)
)

// SignatureHeader carries a webhook body's HMAC-SHA256, as
// "sha256=<hex>", keyed with the channel's secret.
const SignatureHeader = "X-BanGUI-Signature"

// MaxAnswer is how much of a receiver's answer is read (the rest is
// dropped): a receiver sending megabytes cannot fill the panel's memory.
const MaxAnswer = 64 << 10

// Config is a channel's settings (stored as JSON in alert_channels.config;
// the secret is stored apart).
type Config struct {
	URL     string            `json:"url,omitempty"`     // webhook, ntfy topic, Gotify server, Slack/Mattermost hook
	Headers map[string]string `json:"headers,omitempty"` // webhook: extra headers
	// E-mail.
	Host     string   `json:"host,omitempty"`
	Port     int      `json:"port,omitempty"`
	Security string   `json:"security,omitempty"` // SMTPStartTLS or SMTPTLS
	Username string   `json:"username,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

// ParseConfig reads a channel's stored settings.
func ParseConfig(ch models.AlertChannel) (Config, error) {
	var c Config
	if ch.Config == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(ch.Config), &c); err != nil {
		return c, fmt.Errorf("alerts: settings of channel %q: %w", ch.Name, err)
	}
	return c, nil
}

// Validate checks a channel's kind, settings and secret, with messages
// fit for the admin who typed them.
func Validate(kind string, c Config, secret string) error {
	switch kind {
	case KindWebhook, KindNtfy, KindGotify, KindSlack:
		if err := ValidateURL(c.URL); err != nil {
			return err
		}
		for name, v := range c.Headers {
			if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(v) {
				return lang.M("alerts.err.header_invalid", "Name", name)
			}
			switch http.CanonicalHeaderKey(name) {
			case "Host", "Content-Length", "Content-Type", "Transfer-Encoding", http.CanonicalHeaderKey(SignatureHeader):
				return lang.M("alerts.err.header_reserved", "Name", name)
			}
		}
		if kind == KindGotify && secret == "" {
			return lang.M("alerts.err.gotify_token")
		}
	case KindEmail:
		if c.Host == "" || strings.ContainsAny(c.Host, " /:@") {
			return lang.M("alerts.err.smtp_host")
		}
		if c.Port < 1 || c.Port > 65535 {
			return lang.M("alerts.err.smtp_port")
		}
		if c.Security != SMTPStartTLS && c.Security != SMTPTLS {
			return lang.M("alerts.err.smtp_security")
		}
		if err := validAddress(c.From); err != nil {
			return lang.M("alerts.err.sender", "Reason", err)
		}
		if len(c.To) == 0 {
			return lang.M("alerts.err.no_recipient")
		}
		for _, to := range c.To {
			if err := validAddress(to); err != nil {
				return lang.M("alerts.err.recipient", "Address", to, "Reason", err)
			}
		}
	default:
		return lang.M("alerts.err.unknown_kind", "Kind", kind)
	}
	return nil
}

// validAddress accepts a bare e-mail address (no display name, no line
// breaks: it goes into the message's headers).
func validAddress(a string) error {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a, " <>\r\n,;\"") {
		return lang.M("alerts.err.not_address")
	}
	return nil
}

// ValidateURL accepts absolute http and https URLs with a host and no
// user info.
func ValidateURL(raw string) error {
	if raw == "" {
		return lang.M("alerts.err.url_missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return lang.M("alerts.err.url_invalid")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return lang.M("alerts.err.url_scheme")
	}
	if u.Host == "" || u.Hostname() == "" {
		return lang.M("alerts.err.url_no_host")
	}
	if u.User != nil {
		return lang.M("alerts.err.url_userinfo")
	}
	return nil
}

// MaskSecret shows a stored secret as its last four characters at most.
func MaskSecret(s string) string {
	if s == "" {
		return ""
	}
	if len(s) <= 8 {
		return "••••"
	}
	return "••••" + s[len(s)-4:]
}

// Message is one grouped message to send.
type Message struct {
	RuleName string
	GroupKey string
	Alerts   int // how many alerts it groups
	Subject  string
	Body     string
	At       time.Time
}

// Answer is what a receiver said: a status line and the first bytes of
// its answer.
type Answer struct {
	Status string
	Body   string
}

// Sender sends messages to channels. Its zero value is not usable; see
// NewSender.
type Sender struct {
	HTTP    *http.Client
	Timeout time.Duration // per message, SMTP included
	// TLS is the base TLS settings (tests give their own root CAs).
	TLS *tls.Config
}

// maxRedirects is how many redirects an HTTP channel follows.
const maxRedirects = 3

// NewSender returns a sender with timeout per message (<= 0: 15 s).
func NewSender(timeout time.Duration) *Sender {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &Sender{Timeout: timeout, HTTP: &http.Client{
		Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return lang.M("alerts.err.redirects", "N", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return lang.M("alerts.err.redirect_scheme")
			}
			return nil
		},
	}}
}

// Send delivers m to ch and returns the receiver's answer; an error when
// it could not be delivered (the answer, when there was one, says more).
func (s *Sender) Send(ctx context.Context, ch models.AlertChannel, m Message) (Answer, error) {
	c, err := ParseConfig(ch)
	if err != nil {
		return Answer{}, err
	}
	if err := Validate(ch.Kind, c, ch.Secret); err != nil {
		return Answer{}, fmt.Errorf("channel %q: %w", ch.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	switch ch.Kind {
	case KindWebhook:
		body, _ := json.Marshal(map[string]any{
			"rule": m.RuleName, "group": m.GroupKey, "alerts": m.Alerts,
			"subject": m.Subject, "body": m.Body, "at": m.At.UTC().Format(time.RFC3339),
		})
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		if ch.Secret != "" {
			h.Set(SignatureHeader, Sign([]byte(ch.Secret), body))
		}
		return s.post(ctx, c.URL, h, body)
	case KindNtfy:
		h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Title": {headerText(m.Subject)}}
		if ch.Secret != "" {
			h.Set("Authorization", "Bearer "+ch.Secret)
		}
		return s.post(ctx, c.URL, h, []byte(m.Body))
	case KindGotify:
		body, _ := json.Marshal(map[string]any{"title": m.Subject, "message": m.Body, "priority": 5})
		h := http.Header{"Content-Type": {"application/json"}, "X-Gotify-Key": {ch.Secret}}
		return s.post(ctx, strings.TrimSuffix(c.URL, "/")+"/message", h, body)
	case KindSlack:
		body, _ := json.Marshal(map[string]string{"text": m.Subject + "\n" + m.Body})
		return s.post(ctx, c.URL, http.Header{"Content-Type": {"application/json"}}, body)
	case KindEmail:
		return s.mail(ctx, c, ch.Secret, m)
	}
	return Answer{}, lang.M("alerts.err.unknown_kind", "Kind", ch.Kind)
}

// Sign is a webhook body's signature header value: "sha256=" and the hex
// HMAC-SHA256 of body keyed with key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// headerText makes s fit an HTTP header: one line, non-ASCII encoded as
// RFC 2047 (which ntfy reads).
func headerText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, r := range s {
		if r >= 0x80 {
			return mimeWord(s)
		}
	}
	return s
}

// post sends body to u and reads at most MaxAnswer of the answer; a
// non-2xx status is an error.
func (s *Sender) post(ctx context.Context, u string, h http.Header, body []byte) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Answer{}, lang.M("alerts.err.bad_url", "Reason", err)
	}
	req.Header = h
	req.Header.Set("User-Agent", "BanGUI-alerts")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return Answer{}, httpError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	a := Answer{Status: resp.Status, Body: string(b)}
	if err != nil {
		return a, lang.M("alerts.err.reading_answer", "Reason", httpError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a, lang.M("alerts.err.receiver_answered", "Status", resp.Status)
	}
	return a, nil
}

// httpError says what went wrong with a request in words.
func httpError(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return lang.M("alerts.err.no_answer", "Reason", err)
	}
	return err
}

// addr is the SMTP server's host:port.
func (c Config) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
