// Package agenttest runs the built bangui binary as `bangui agent` for the
// tests of other packages: Build compiles it once per test process, Start
// runs an agent on a fail2ban sandbox and reads what it prints.
package agenttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
)

// Binary is a built bangui binary in a temp dir.
type Binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on the first call and returns its path; it fails
// the test when the build fails.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "bangui-agenttest-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "bangui")
		out, err := exec.Command("go", "build", "-o", b.path, "bangui").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("build bangui: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes the binary (call it from TestMain after m.Run).
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// Agent is a running `bangui agent` on a sandbox.
type Agent struct {
	URL         string // https://127.0.0.1:port
	Token       string // the enrolment token it printed ("" when enrolled)
	Fingerprint string // the certificate fingerprint it printed
	Expires     string // when the printed token stops working
	DataDir     string

	cmd    *exec.Cmd
	mu     sync.Mutex
	log    strings.Builder
	exited chan struct{}
}

var logField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// ListeningMessage is the msg of the agent's log line that says it
// listens (its addr field is the address).
const ListeningMessage = "bangui agent listening"

// LogFields parses one line of the agent's text log into its key=value
// fields, quoted values unquoted: "token" and "fingerprint" come with the
// first start, "msg" ListeningMessage with "addr" once it listens.
func LogFields(line string) map[string]string {
	f := map[string]string{}
	for _, m := range logField.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		f[m[1]] = v
	}
	return f
}

// FreeAddr is a local address nothing listens on, for an agent that must
// come back on the same one.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs bin as an agent for sb, listening on addr, with its key,
// certificate and enrolment state in dataDir, and waits until it listens.
// It is stopped when the test ends.
func Start(t testing.TB, bin string, sb *sandbox.Sandbox, addr, dataDir string) *Agent {
	t.Helper()
	return StartArgs(t, bin, dataDir, "--listen", addr, "--socket", sb.SocketPath, "--config-dir", sb.ConfigDir)
}

// StartArgs runs `bin agent --data-dir dataDir` with the further flags in
// args and waits until it listens. It is stopped when the test ends.
func StartArgs(t testing.TB, bin, dataDir string, args ...string) *Agent {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"agent", "--data-dir", dataDir, "--shutdown-grace", "2s"}, args...)...)
	cmd.SysProcAttr = sysProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{cmd: cmd, DataDir: dataDir, exited: make(chan struct{})}
	ready := make(chan struct{})
	started := make(chan error, 1)
	// On Linux the agent dies with the thread that started it (Pdeathsig),
	// so a crashed test leaves no agent behind: start, read and wait on one
	// goroutine locked to its thread for the agent's whole life.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			a.log.WriteString(sc.Text() + "\n")
			f := LogFields(sc.Text())
			if f["token"] != "" {
				a.Token = f["token"]
			}
			if f["fingerprint"] != "" {
				a.Fingerprint = f["fingerprint"]
			}
			if f["expires"] != "" {
				a.Expires = f["expires"]
			}
			if f["msg"] == ListeningMessage {
				a.URL = "https://" + f["addr"]
				close(ready)
			}
			a.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(a.exited)
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	select {
	case <-ready:
	case <-a.exited:
		t.Fatalf("the agent exited at start:\n%s", a.Log())
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not listen within 20 s:\n%s", a.Log())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a
}

// Log is what the agent printed so far.
func (a *Agent) Log() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

// Signal sends sig to the agent: SIGSTOP freezes it (the kernel still
// accepts connections, nothing answers them) until SIGCONT.
func (a *Agent) Signal(sig os.Signal) error { return a.cmd.Process.Signal(sig) }

// Pid is the agent's process id.
func (a *Agent) Pid() int { return a.cmd.Process.Pid }

// Stop ends the agent with SIGTERM and waits for it (killing it after
// 20 s); it reports an agent that did not stop cleanly.
func (a *Agent) Stop() error {
	select {
	case <-a.exited:
		return nil
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		if st := a.cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("the agent exited with %v after SIGTERM", st)
		}
		return nil
	case <-time.After(20 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.exited
		return errors.New("the agent did not stop within 20 s of SIGTERM")
	}
}

// Exited is closed once the agent's process has ended.
func (a *Agent) Exited() <-chan struct{} { return a.exited }
