package fail2ban

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ProbeStatus is the outcome of Probe.
type ProbeStatus int

// Probe outcomes.
const (
	ProbeOK          ProbeStatus = iota // fail2ban answered ping and version
	ProbeMissing                        // nothing exists at the path
	ProbeNotSocket                      // the path exists but is not a unix socket
	ProbePermission                     // access to the socket (or its directory) was denied
	ProbeRefused                        // socket file exists but nobody listens (fail2ban not running)
	ProbeNotFail2ban                    // something answered, but not like fail2ban (or not in time)
)

// String returns a short machine-friendly name such as "ok" or "refused".
func (s ProbeStatus) String() string {
	switch s {
	case ProbeOK:
		return "ok"
	case ProbeMissing:
		return "missing"
	case ProbeNotSocket:
		return "not-socket"
	case ProbePermission:
		return "permission"
	case ProbeRefused:
		return "refused"
	case ProbeNotFail2ban:
		return "not-fail2ban"
	default:
		return fmt.Sprintf("ProbeStatus(%d)", int(s))
	}
}

// ProbeResult describes what Probe found at a socket path.
type ProbeResult struct {
	Status  ProbeStatus
	Version string // server version, set when Status is ProbeOK
	Detail  string // underlying technical error text, if any
}

// Probe checks whether a fail2ban server answers at socketPath and classifies
// the failure if not. The context bounds the whole probe; without a deadline
// the client default timeout applies to each call.
func Probe(ctx context.Context, socketPath string) ProbeResult {
	fi, err := os.Stat(socketPath)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return ProbeResult{Status: ProbePermission, Detail: err.Error()}
		}
		// Not found, a path component that is not a directory, loops, ...
		return ProbeResult{Status: ProbeMissing, Detail: err.Error()}
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return ProbeResult{Status: ProbeNotSocket, Detail: fmt.Sprintf("%s: file mode %s", socketPath, fi.Mode())}
	}

	c := NewClient(socketPath, WithMaxConcurrent(1))
	if err := c.Ping(ctx); err != nil {
		return ProbeResult{Status: probeStatusOf(err), Detail: err.Error()}
	}
	v, err := c.Version(ctx)
	if err != nil {
		// It answered ping like fail2ban; report it as reachable anyway.
		return ProbeResult{Status: ProbeOK, Detail: err.Error()}
	}
	return ProbeResult{Status: ProbeOK, Version: v}
}

// probeStatusOf classifies a failed ping.
func probeStatusOf(err error) ProbeStatus {
	switch {
	case errors.Is(err, ErrPermission):
		return ProbePermission
	case errors.Is(err, ErrTimeout):
		return ProbeNotFail2ban
	case errors.Is(err, ErrUnreachable) && errors.Is(err, syscall.ECONNREFUSED):
		return ProbeRefused
	case errors.Is(err, ErrUnreachable) && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR)):
		return ProbeMissing
	case errors.Is(err, ErrUnreachable) && errors.Is(err, syscall.ENOTSOCK):
		return ProbeNotSocket
	default:
		return ProbeNotFail2ban
	}
}
