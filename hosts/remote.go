package hosts

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangui/hosts/wire"
	"bangui/lang"
)

// This file is the panel's side of `bangui agent`: a Host reached over the
// agent's HTTPS API (package wire), and the enrolment calls.

// RemoteOptions says how to reach one enrolled agent.
type RemoteOptions struct {
	ID          string        // the host's id in the panel
	URL         string        // the agent's base URL, https://host:port
	Fingerprint string        // pinned SHA-256 fingerprint of the agent's certificate (see FetchFingerprint)
	Credential  string        // the long-lived credential Enroll returned
	Timeout     time.Duration // deadline of one read call; 0 means DefaultRemoteTimeout
}

// DefaultRemoteTimeout bounds one read call to an agent, so that a slow or
// dead agent never holds a page for longer (the same as
// services.HostDeadline, which bounds a page's fan-out).
const DefaultRemoteTimeout = 1500 * time.Millisecond

// Deadlines of the calls that take longer than a read.
const (
	remoteWriteTimeout = 30 * time.Second // bans, jail start and stop, config writes
	remoteRunTimeout   = 90 * time.Second // reload, restart, -t (fail2ban-client runs up to a minute)
	remoteRegexTimeout = 30 * time.Second // fail2ban-regex runs up to 10 s
	remoteRowsTimeout  = 30 * time.Second // one page of fail2ban rows
	remoteLockTimeout  = 2 * time.Minute  // the longest wait for the edit lock
	enrollTimeout      = 10 * time.Second // FetchFingerprint, Enroll, Revoke
)

// ErrFingerprintChanged matches a *FingerprintError.
var ErrFingerprintChanged = errors.New("the agent's certificate changed")

// FingerprintError is an agent whose certificate no longer matches the
// pinned fingerprint: the panel stops talking to it until the admin
// accepts the new one.
type FingerprintError struct{ Want, Got string }

// Error implements error.
func (e *FingerprintError) Error() string { return e.message().Error() }

func (e *FingerprintError) message() lang.Message {
	return lang.M("fleet.agent.cert_changed", "Want", e.Want, "Got", e.Got)
}

// As gives errors.As (and lang.Of) the error in the panel's words.
func (e *FingerprintError) As(target any) bool { return lang.As(target, e.message()) }

// Is makes errors.Is(err, ErrFingerprintChanged) true.
func (e *FingerprintError) Is(target error) bool { return target == ErrFingerprintChanged }

// ErrAgentRefused means the agent refused the credential or the enrolment
// token (wrong, used, expired or revoked).
var ErrAgentRefused = errors.New("the agent refused the credential")

// Remote is a fail2ban host reached through its agent. It keeps one HTTP
// client (and so its connections) for its life; every call has its own
// deadline and talks only to a peer whose certificate has the pinned
// fingerprint.
type Remote struct {
	opts   RemoteOptions
	base   string // URL without the trailing slash
	client *http.Client

	mu         sync.Mutex
	info       *wire.Info // what the agent reported at the last Info; nil before
	infoFailed time.Time  // when asking for it last failed
}

// NewRemote returns the Host behind an enrolled agent. It does not dial:
// every call connects with the pinned fingerprint and its own deadline.
func NewRemote(o RemoteOptions) (Host, error) {
	r, err := newRemote(o)
	if err != nil {
		return nil, err // not a nil *Remote in a non-nil Host
	}
	return r, nil
}

// NewRemoteAgent is NewRemote with the concrete type, for Info and Close.
func NewRemoteAgent(o RemoteOptions) (*Remote, error) { return newRemote(o) }

func newRemote(o RemoteOptions) (*Remote, error) {
	if o.ID == "" {
		return nil, lang.M("fleet.agent.no_id")
	}
	base, err := agentBase(o.URL)
	if err != nil {
		return nil, err
	}
	fp, err := NormalizeFingerprint(o.Fingerprint)
	if err != nil {
		return nil, err
	}
	if o.Credential == "" {
		return nil, lang.M("fleet.agent.no_stored_credential")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultRemoteTimeout
	}
	o.URL, o.Fingerprint = base, fp
	return &Remote{opts: o, base: base, client: pinnedClient(fp)}, nil
}

// ID is the host's id in the panel.
func (r *Remote) ID() string { return r.opts.ID }

// URL is the agent's base URL.
func (r *Remote) URL() string { return r.base }

// Close drops the idle connections.
func (r *Remote) Close() error {
	r.client.CloseIdleConnections()
	return nil
}

// Info asks the agent for its version, configuration directory and log
// folders.
func (r *Remote) Info(ctx context.Context) (wire.Info, error) {
	var info wire.Info
	if err := r.do(ctx, r.opts.Timeout, http.MethodGet, wire.PathInfo, nil, &info); err != nil {
		return info, err
	}
	r.mu.Lock()
	r.info = &info
	r.mu.Unlock()
	return info, nil
}

// agentBase checks an agent URL: https, a host, no query.
func agentBase(raw string) (string, error) {
	u, err := neturl.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", lang.M("fleet.agent.bad_address", "URL", strconv.Quote(raw))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Fingerprint returns the SHA-256 fingerprint of a DER certificate as
// upper-case hex pairs joined by ':'.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// NormalizeFingerprint accepts a SHA-256 fingerprint as people copy it (any
// case, with or without ':' or spaces) and returns the canonical form.
func NormalizeFingerprint(s string) (string, error) {
	hex := strings.ToUpper(strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(hex) != 64 || strings.Trim(hex, "0123456789ABCDEF") != "" {
		return "", lang.M("fleet.agent.bad_fingerprint", "Value", strconv.Quote(s))
	}
	var b strings.Builder
	for i := 0; i < 64; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String(), nil
}

// pinnedClient returns an HTTP client that trusts exactly the certificate
// with fingerprint want (no system roots, no names: the pin is the trust).
func pinnedClient(want string) *http.Client {
	tlsConf := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // the chain is not checked; VerifyConnection checks the pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return lang.M("fleet.agent.no_certificate")
			}
			if got := Fingerprint(cs.PeerCertificates[0].Raw); got != want {
				return &FingerprintError{Want: want, Got: got}
			}
			return nil
		},
	}
	tr := &http.Transport{
		TLSClientConfig:       tlsConf,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DefaultRemoteTimeout,
		ResponseHeaderTimeout: 0, // each call has its own deadline
		Proxy:                 nil,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return lang.M("fleet.agent.redirect")
	}}
}

// FetchFingerprint connects to the agent at url and returns the SHA-256
// fingerprint of its certificate (upper-case hex pairs joined by ':'),
// for the admin to compare with the one the agent prints. It only shakes
// hands: nothing is sent, so the agent counts no failed attempt.
func FetchFingerprint(ctx context.Context, url string) (string, error) {
	base, err := agentBase(url)
	if err != nil {
		return "", err
	}
	u, _ := neturl.Parse(base)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	ctx, cancel := context.WithTimeout(ctx, enrollTimeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}} // the admin compares the fingerprint
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", transportError(ctx, base, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", lang.M("fleet.agent.no_certificate_shown", "URL", base)
	}
	return Fingerprint(certs[0].Raw), nil
}

// Enroll exchanges a one-time enrolment token for the agent's long-lived
// credential, talking only to an agent whose certificate has fingerprint.
func Enroll(ctx context.Context, url, fingerprint, token string) (credential string, err error) {
	base, err := agentBase(url)
	if err != nil {
		return "", err
	}
	fp, err := NormalizeFingerprint(fingerprint)
	if err != nil {
		return "", err
	}
	r := &Remote{opts: RemoteOptions{URL: base, Fingerprint: fp}, base: base, client: pinnedClient(fp)}
	defer r.Close()
	var out wire.EnrollResponse
	if err := r.do(ctx, enrollTimeout, http.MethodPost, wire.PathEnroll, wire.EnrollRequest{Token: token}, &out); err != nil {
		return "", err
	}
	if out.Credential == "" {
		return "", lang.M("fleet.agent.no_credential")
	}
	return out.Credential, nil
}

// Revoke makes the agent forget the credential in o, so that it refuses
// the panel until it is enrolled again.
func Revoke(ctx context.Context, o RemoteOptions) error {
	if o.ID == "" {
		o.ID = "revoke"
	}
	r, err := newRemote(o)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.do(ctx, enrollTimeout, http.MethodPost, wire.PathRevoke, nil, nil)
}

// fingerprintOf digs a *FingerprintError out of a failed request.
func fingerprintOf(err error) *FingerprintError {
	var fe *FingerprintError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}
