package fail2ban

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Defaults used by Runner.
const (
	DefaultClientPath    = "fail2ban-client"
	DefaultRunnerTimeout = time.Minute
	maxRunOutput         = 1 << 20
)

// Runner runs fail2ban-client for the commands that only work from the
// client side: reload and restart (the client reads the configuration and
// sends it to the server) and configuration tests. It starts the program
// directly, never through a shell. The zero value uses fail2ban-client from
// PATH with fail2ban's own default socket and configuration directory.
type Runner struct {
	ClientPath string        // fail2ban-client executable; default DefaultClientPath
	Socket     string        // control socket (-s); default from fail2ban's configuration
	ConfigDir  string        // configuration directory (-c); default /etc/fail2ban
	Timeout    time.Duration // limit per run; default DefaultRunnerTimeout
}

// RunError is a failed fail2ban-client run. Its message includes the
// program's output, which usually says what is wrong with the
// configuration. A run that took too long also matches ErrTimeout.
type RunError struct {
	Args     []string // the command line, program first
	Output   string   // combined standard output and error, trimmed
	Err      error    // exit status, start failure or context error
	TimedOut bool     // the run was killed because it took too long
}

// Error implements error.
func (e *RunError) Error() string {
	s := fmt.Sprintf("fail2ban: %s: %v", strings.Join(e.Args, " "), e.Err)
	if e.Output != "" {
		s += "\n" + e.Output
	}
	return s
}

// Unwrap returns the underlying error, and ErrTimeout for runs that timed
// out.
func (e *RunError) Unwrap() []error {
	if e.TimedOut {
		return []error{e.Err, ErrTimeout}
	}
	return []error{e.Err}
}

// Reload makes fail2ban re-read its configuration and apply it to one jail,
// or to all jails when jail is "" ("fail2ban-client reload [--if-exists]
// [JAIL]"). For a single jail --if-exists is passed, so that a jail which is
// enabled in the configuration but not loaded (never started, or stopped)
// is loaded and started too; without it fail2ban refuses jails it does not
// run. It returns the program's output ("OK").
func (r Runner) Reload(ctx context.Context, jail string) (string, error) {
	args := []string{"reload"}
	if jail != "" {
		if err := checkJailArg(jail); err != nil {
			return "", err
		}
		args = append(args, "--if-exists", jail)
	}
	return r.run(ctx, r.globalArgs(true), args...)
}

// Restart stops the fail2ban server and starts it again from the
// configuration ("fail2ban-client restart"). The new server runs in the
// background, detached from its service manager: on hosts where systemd
// runs fail2ban, restart it through systemd instead.
func (r Runner) Restart(ctx context.Context) (string, error) {
	return r.run(ctx, r.globalArgs(true), "restart")
}

// TestConfig checks the configuration without touching the running server
// ("fail2ban-client -t"). A broken configuration yields a *RunError whose
// output names the problem.
func (r Runner) TestConfig(ctx context.Context) (string, error) {
	return r.run(ctx, r.globalArgs(false), "-t")
}

// globalArgs returns the options placed before the command.
func (r Runner) globalArgs(withSocket bool) []string {
	var args []string
	if r.ConfigDir != "" {
		args = append(args, "-c", r.ConfigDir)
	}
	if withSocket && r.Socket != "" {
		args = append(args, "-s", r.Socket)
	}
	return args
}

// run executes the client with global options and a command and returns
// its trimmed combined output.
func (r Runner) run(ctx context.Context, global []string, command ...string) (string, error) {
	path := r.ClientPath
	if path == "" {
		path = DefaultClientPath
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultRunnerTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	args := append(append([]string{}, global...), command...)
	cmd := exec.CommandContext(ctx, path, args...)
	var out limitedBuffer
	out.limit = maxRunOutput
	cmd.Stdout = &out
	cmd.Stderr = &out
	// A server started by "restart" may inherit the output pipe; do not
	// wait for it to let go.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	output := strings.TrimSpace(out.String())
	if err == nil {
		return output, nil
	}
	re := &RunError{Args: append([]string{path}, args...), Output: output, Err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		re.Err = fmt.Errorf("%w (%v)", ctxErr, err)
		re.TimedOut = errors.Is(ctxErr, context.DeadlineExceeded)
	}
	return output, re
}

// limitedBuffer keeps the first limit bytes written to it and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	limit     int
	truncated bool
}

// Write keeps what fits and reports everything as written.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// String returns the kept output, marked when some was dropped.
func (b *limitedBuffer) String() string {
	if b.truncated {
		return b.Buffer.String() + "\n[output truncated]"
	}
	return b.Buffer.String()
}
