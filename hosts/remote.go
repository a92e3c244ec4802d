package hosts

import (
	"context"
	"errors"
	"time"
)

// This file is the panel's side of `bangui agent`: a Host reached over the
// agent's HTTPS API, and the enrolment calls. (Contract first; the agent
// work fills in the bodies.)

// RemoteOptions says how to reach one enrolled agent.
type RemoteOptions struct {
	ID          string        // the host's id in the panel
	URL         string        // the agent's base URL, https://host:port
	Fingerprint string        // pinned SHA-256 fingerprint of the agent's certificate (see FetchFingerprint)
	Credential  string        // the long-lived credential Enroll returned
	Timeout     time.Duration // deadline of one read call; 0 means DefaultRemoteTimeout
}

// DefaultRemoteTimeout bounds one read call to an agent, so that a slow or
// dead agent never holds a page for longer.
const DefaultRemoteTimeout = 2 * time.Second

// ErrFingerprintChanged matches a *FingerprintError.
var ErrFingerprintChanged = errors.New("the agent's certificate changed")

// FingerprintError is an agent whose certificate no longer matches the
// pinned fingerprint: the panel stops talking to it until the admin
// accepts the new one.
type FingerprintError struct{ Want, Got string }

// Error implements error.
func (e *FingerprintError) Error() string {
	return ErrFingerprintChanged.Error() + ": expected " + e.Want + ", got " + e.Got
}

// Is makes errors.Is(err, ErrFingerprintChanged) true.
func (e *FingerprintError) Is(target error) bool { return target == ErrFingerprintChanged }

// ErrAgentRefused means the agent refused the credential or the enrolment
// token (wrong, used, expired or revoked).
var ErrAgentRefused = errors.New("the agent refused the credential")

// errNotBuilt is returned until the agent client exists.
var errNotBuilt = errors.New("hosts: remote agents are not built yet")

// NewRemote returns the Host behind an enrolled agent. It does not dial:
// every call connects with the pinned fingerprint and its own deadline.
func NewRemote(o RemoteOptions) (Host, error) { return nil, errNotBuilt }

// FetchFingerprint connects to the agent at url and returns the SHA-256
// fingerprint of its certificate (upper-case hex pairs joined by ':'),
// for the admin to compare with the one the agent prints.
func FetchFingerprint(ctx context.Context, url string) (string, error) { return "", errNotBuilt }

// Enroll exchanges a one-time enrolment token for the agent's long-lived
// credential, talking only to an agent whose certificate has fingerprint.
func Enroll(ctx context.Context, url, fingerprint, token string) (credential string, err error) {
	return "", errNotBuilt
}

// Revoke makes the agent forget the credential in o, so that it refuses
// the panel until it is enrolled again.
func Revoke(ctx context.Context, o RemoteOptions) error { return errNotBuilt }
