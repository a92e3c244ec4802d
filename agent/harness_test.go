package agent_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	f2bconf "bangui/fail2ban/config"
	"bangui/fail2ban/sandbox"
	"bangui/hosts"
)

// bin is the bangui binary the tests run as agents, built once.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangui-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "bangui")
	build := exec.Command("go", "build", "-o", bin, "bangui")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build bangui:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// agentProc is a running `bangui agent`.
type agentProc struct {
	cmd         *exec.Cmd
	dataDir     string
	URL         string
	Token       string // "" when enrolled at start
	Fingerprint string
	Expires     string

	mu     sync.Mutex
	log    strings.Builder
	exited chan struct{}
}

// Log is what the agent logged so far.
func (p *agentProc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// agentOptions start an agent on a sandbox.
type agentOptions struct {
	sb      *sandbox.Sandbox
	dataDir string   // default a new temp dir
	logDirs []string // default the sandbox's log folder
	confDir string   // without a sandbox; default a new temp dir
	extra   []string
}

var logField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

func fields(line string) map[string]string {
	out := map[string]string{}
	for _, m := range logField.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		out[m[1]] = v
	}
	return out
}

// startAgent runs the built binary as an agent on 127.0.0.1 (a free port)
// and waits until it listens; it is stopped when the test ends.
func startAgent(t testing.TB, o agentOptions) *agentProc {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = filepath.Join(t.TempDir(), "agent")
	}
	if o.logDirs == nil && o.sb != nil {
		o.logDirs = []string{filepath.Join(o.sb.Dir, "log")}
	}
	args := []string{"agent", "--listen", "127.0.0.1:0", "--data-dir", o.dataDir, "--log-level", "debug"}
	if o.sb != nil {
		args = append(args, "--socket", o.sb.SocketPath, "--config-dir", o.sb.ConfigDir)
	} else {
		if o.confDir == "" {
			o.confDir = t.TempDir()
		}
		args = append(args, "--socket", filepath.Join(o.dataDir, "none.sock"), "--config-dir", o.confDir)
	}
	if len(o.logDirs) > 0 {
		args = append(args, "--log-dirs", strings.Join(o.logDirs, ","))
	}
	args = append(args, o.extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, dataDir: o.dataDir, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			f := fields(line)
			if tok := f["token"]; tok != "" {
				p.Token, p.Expires = tok, f["expires"]
			}
			if fp := f["fingerprint"]; fp != "" {
				p.Fingerprint = fp
			}
			if f["msg"] == "bangui agent listening" && !closed {
				p.URL = "https://" + f["addr"]
				closed = true
				close(ready)
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case <-ready:
	case <-p.exited:
		t.Fatalf("the agent exited at start:\n%s", p.Log())
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not listen within 20 s:\n%s", p.Log())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p
}

// stop ends the agent with SIGTERM (a graceful shutdown) and waits.
func (p *agentProc) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if st := p.cmd.ProcessState; st != nil && !st.Success() {
			t.Errorf("the agent exited with %v after SIGTERM:\n%s", st, p.Log())
		}
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("the agent did not stop within 20 s of SIGTERM")
	}
}

// enroll enrols p and returns the Remote.
func enroll(t testing.TB, p *agentProc) *hosts.Remote {
	t.Helper()
	cred := enrollCredential(t, p)
	r, err := hosts.NewRemoteAgent(hosts.RemoteOptions{ID: "remote", URL: p.URL, Fingerprint: p.Fingerprint, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// enrollCredential enrols p and returns the credential.
func enrollCredential(t testing.TB, p *agentProc) string {
	t.Helper()
	ctx := context.Background()
	fp, err := hosts.FetchFingerprint(ctx, p.URL)
	if err != nil || fp != p.Fingerprint {
		t.Fatalf("FetchFingerprint = %q, %v; the agent printed %q", fp, err, p.Fingerprint)
	}
	cred, err := hosts.Enroll(ctx, p.URL, fp, p.Token)
	if err != nil {
		t.Fatalf("enrol: %v\n%s", err, p.Log())
	}
	return cred
}

// rawClient talks to an agent without the panel's client: any certificate,
// requests as given.
func rawClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// TestAgentHelp: `bangui agent --help` lists the agent's flags and exits 0.
func TestAgentHelp(t *testing.T) {
	out, err := exec.Command(bin, "agent", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("bangui agent --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"-listen", ":9444", "-data-dir", "-socket", "-config-dir", "-log-dirs", "-fail2ban-client", "-token-ttl", "-new-token"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("--help does not mention %s:\n%s", flag, out)
		}
	}
	out, _ = exec.Command(bin, "--help").CombinedOutput()
	if !strings.Contains(string(out), "bangui agent [flags]") || !strings.Contains(string(out), "-listen") {
		t.Errorf("bangui --help:\n%s", out)
	}
}

// TestAgentGracefulShutdown: a call in flight when the agent gets SIGTERM
// (here: waiting for the configuration lock) still gets its answer.
func TestAgentGracefulShutdown(t *testing.T) {
	conf := t.TempDir()
	p := startAgent(t, agentOptions{confDir: conf})
	r := enroll(t, p)
	unlock, err := f2bconf.Lock(context.Background(), conf)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u, err := r.LockConfig(ctx)
		if err == nil {
			u()
		}
		got <- err
	}()
	// The call is in flight once the agent logged it (at debug level).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Log(), "method=lock-config") && time.Now().Before(deadline) {
		select {
		case err := <-got:
			t.Fatalf("the lock call ended early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the call in flight at SIGTERM: %v\n%s", err, p.Log())
	}
	<-p.exited
}
