// Package alertstest holds real receivers for the alert channels' tests:
// an HTTP webhook receiver that checks the HMAC-SHA256 signature, and an
// SMTP server (go-smtp) that insists on TLS and AUTH PLAIN. Both can go
// down and come back on the same address.
package alertstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Webhook is an HTTP receiver on 127.0.0.1. With a key it checks the
// signature header (an HMAC-SHA256 of the body, "sha256=<hex>") and
// refuses bodies whose signature does not match; it keeps every JSON body
// it accepted.
type Webhook struct {
	URL    string // http://127.0.0.1:port
	header string
	key    []byte
	addr   string

	mu     sync.Mutex
	srv    *http.Server
	bodies []map[string]any
	bad    int
	status int
}

// NewWebhook starts a receiver checking header with key (no check when key
// is empty); it stops when the test ends.
func NewWebhook(t testing.TB, header, key string) *Webhook {
	t.Helper()
	w := &Webhook{header: header, key: []byte(key), status: http.StatusOK, addr: "127.0.0.1:0"}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	w.URL = "http://" + w.addr
	t.Cleanup(w.Stop)
	return w
}

func (w *Webhook) handle(rw http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.key) > 0 && req.Header.Get(w.header) != sign(w.key, body) {
		w.bad++
		http.Error(rw, "bad signature", http.StatusForbidden)
		return
	}
	if w.status != http.StatusOK {
		http.Error(rw, "down", w.status)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	w.bodies = append(w.bodies, m)
	_, _ = io.WriteString(rw, "ok")
}

// sign is the signature a body with key must carry.
func sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Start listens again (on the same address once it had one).
func (w *Webhook) Start() error {
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(w.handle), ReadHeaderTimeout: 5 * time.Second}
	w.mu.Lock()
	w.srv, w.addr = srv, ln.Addr().String()
	w.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Stop closes the listener and every connection: the receiver is down.
func (w *Webhook) Stop() {
	w.mu.Lock()
	srv := w.srv
	w.srv = nil
	w.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Bodies returns the bodies accepted so far.
func (w *Webhook) Bodies() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.bodies...)
}

// BadSignatures is how many requests carried a wrong signature.
func (w *Webhook) BadSignatures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
}

// Answer makes the receiver answer status (with no body kept) from now on;
// http.StatusOK accepts again.
func (w *Webhook) Answer(status int) {
	w.mu.Lock()
	w.status = status
	w.mu.Unlock()
}

// Mail is one message an SMTP server accepted.
type Mail struct {
	From string
	To   []string
	Data string
}

// SMTP is a go-smtp server on 127.0.0.1 that offers STARTTLS (or speaks
// implicit TLS), accepts AUTH PLAIN of one user only over TLS, refuses
// mail before it, and keeps the messages it accepts.
type SMTP struct {
	Port       int
	cert       tls.Certificate
	implicit   bool
	user, pass string

	mu   sync.Mutex
	srv  *smtp.Server
	mail []Mail
}

// StartSMTP starts an SMTP server with cert; it stops when the test ends.
func StartSMTP(t testing.TB, cert tls.Certificate, implicit bool, user, pass string) *SMTP {
	t.Helper()
	s := &SMTP{cert: cert, implicit: implicit, user: user, pass: pass}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start listens again (on the same port once it had one).
func (s *SMTP) Start() error {
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	var ln net.Listener
	var err error
	if s.implicit {
		ln, err = tls.Listen("tcp", addr, srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.srv, s.Port = srv, ln.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Stop closes the server: it is down.
func (s *SMTP) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Mails returns the messages accepted so far.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// NewSession is the go-smtp backend's session of a connection.
func (s *SMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: s, conn: c}, nil
}

type smtpSession struct {
	s      *SMTP
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if _, tlsOn := ss.conn.TLSConnectionState(); !tlsOn {
			return errors.New("no TLS")
		}
		if user != ss.s.user || pass != ss.s.pass {
			return errors.New("bad credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return errors.New("auth first")
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	ss.s.mu.Lock()
	ss.s.mail = append(ss.s.mail, Mail{From: ss.from, To: ss.to, Data: string(b)})
	ss.s.mu.Unlock()
	return err
}

func (ss *smtpSession) Reset()        {}
func (ss *smtpSession) Logout() error { return nil }

// SelfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
