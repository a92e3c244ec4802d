// Package agent is `bangui agent`: it runs next to fail2ban on a remote
// host and serves that host's hosts.Local to one enrolled panel over a
// small authenticated JSON API on HTTPS (package hosts/wire), and nothing
// else. Every call is one method of the local host, so validation and path
// confinement are the same code as on the panel's own machine.
//
// Security: HTTPS only, with a self-signed ECDSA certificate made on the
// first start (the panel pins its SHA-256 fingerprint). Until a panel
// enrols, every request but enrolment is refused; enrolment takes the
// one-time token printed in the log (valid for TokenTTL) and returns a
// random credential once, of which the agent keeps only the SHA-256. Every
// other request carries it as a bearer token. Failed attempts are rate
// limited per client address.
package agent

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"bangui/hosts"
)

// DefaultTokenTTL is how long an enrolment token works.
const DefaultTokenTTL = time.Hour

// Options configure an Agent.
type Options struct {
	Host     *hosts.Local // the fail2ban the agent serves
	DataDir  string       // key, certificate, token and credential hash
	TokenTTL time.Duration
	// NewToken issues a new enrolment token even when a panel is enrolled,
	// which forgets its credential (a panel that lost it enrols again).
	NewToken bool
	Version  string
	Logger   *slog.Logger
	Now      func() time.Time // default time.Now
	// LockTTL bounds how long the agent holds the configuration lock and
	// keeps a previous file version for the panel; default DefaultLockTTL.
	LockTTL time.Duration
}

// Agent serves one host to one enrolled panel.
type Agent struct {
	opts        Options
	log         *slog.Logger
	cert        tls.Certificate
	fingerprint string
	limiter     *failLimiter
	held        *heldState

	mu       sync.Mutex
	token    *enrolToken // nil: none (used, or enrolled)
	credHash []byte      // nil: not enrolled
}

// New loads (or makes, on the first start) the agent's key, certificate
// and enrolment state from opts.DataDir, and logs what the admin needs:
// the fingerprint and, when no panel is enrolled, a new token.
func New(opts Options) (*Agent, error) {
	if opts.Host == nil {
		return nil, errors.New("agent: no host to serve")
	}
	if opts.DataDir == "" {
		return nil, errors.New("agent: no data dir")
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	cert, err := loadCertificate(opts.DataDir)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, log: opts.Logger, cert: cert, fingerprint: certFingerprint(cert),
		limiter: newFailLimiter(opts.Now), held: newHeldState(opts.Now, opts.LockTTL)}
	if a.credHash, err = loadCredentialHash(opts.DataDir); err != nil {
		return nil, err
	}
	if a.credHash != nil && opts.NewToken {
		a.log.Warn("--new-token: forgetting the enrolled panel's credential; the panel must enrol again")
		if err := removeFile(a.path(CredentialFile)); err != nil {
			return nil, err
		}
		a.credHash = nil
	}
	a.log.Info("bangui agent certificate", "fingerprint", a.fingerprint, "file", a.path(CertFile))
	if a.credHash != nil {
		if err := removeFile(a.path(TokenFile)); err != nil {
			return nil, err
		}
		a.log.Info("a panel is enrolled; requests need its credential")
		return a, nil
	}
	if err := a.issueToken(); err != nil {
		return nil, err
	}
	return a, nil
}

// issueToken makes a new enrolment token and logs it.
func (a *Agent) issueToken() error {
	t, err := newToken(a.opts.DataDir, a.opts.TokenTTL, a.opts.Now())
	if err != nil {
		return fmt.Errorf("agent: enrolment token: %w", err)
	}
	a.mu.Lock()
	a.token = &t
	a.mu.Unlock()
	a.log.Warn("not enrolled: add this host on the panel's Hosts page with this one-time token and compare the fingerprint",
		"token", t.display(), "expires", t.Expires.Format(time.RFC3339), "fingerprint", a.fingerprint, "file", a.path(TokenFile))
	return nil
}

// Fingerprint is the SHA-256 fingerprint of the agent's certificate.
func (a *Agent) Fingerprint() string { return a.fingerprint }

// Enrolled reports whether a panel is enrolled.
func (a *Agent) Enrolled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.credHash != nil
}

func (a *Agent) path(name string) string { return filepath.Join(a.opts.DataDir, name) }

// TLSConfig is the server's TLS configuration: the agent's certificate,
// TLS 1.3 only (both ends are BanGUI).
func (a *Agent) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{a.cert}, MinVersion: tls.VersionTLS13}
}

// Timeouts of the agent's HTTP server.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 3 * time.Minute // a restart or the lock wait
	idleTimeout       = 2 * time.Minute
)

// Serve answers on ln (HTTPS) until ctx ends, then shuts down within grace.
func (a *Agent) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		TLSConfig:         a.TLSConfig(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
		// In-flight calls finish at shutdown (within grace): not cancelled with ctx.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	a.log.Info("bangui agent listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	a.held.releaseAll()
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
	}
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// authorized checks a presented credential against the stored hash in
// constant time.
func (a *Agent) authorized(credential string) (enrolled, ok bool) {
	a.mu.Lock()
	h := a.credHash
	a.mu.Unlock()
	if h == nil {
		return false, false
	}
	return true, subtle.ConstantTimeCompare(hashCredential(credential), h) == 1
}
