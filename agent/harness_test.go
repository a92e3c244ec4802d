package agent_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangui/agent/agenttest"
	f2bconf "bangui/fail2ban/config"
	"bangui/fail2ban/sandbox"
	"bangui/hosts"
)

// agentBin is the bangui binary the tests run as agents, built once.
var agentBin agenttest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	agentBin.Remove()
	os.Exit(code)
}

// agentOptions start an agent on a sandbox.
type agentOptions struct {
	sb      *sandbox.Sandbox
	dataDir string   // default a new temp dir
	logDirs []string // default the sandbox's log folder
	confDir string   // without a sandbox; default a new temp dir
	extra   []string
}

// startAgent runs the built binary as an agent on 127.0.0.1 (a free port)
// and waits until it listens; it is stopped when the test ends.
func startAgent(t testing.TB, o agentOptions) *agenttest.Agent {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = filepath.Join(t.TempDir(), "agent")
	}
	if o.logDirs == nil && o.sb != nil {
		o.logDirs = []string{filepath.Join(o.sb.Dir, "log")}
	}
	args := []string{"--listen", "127.0.0.1:0", "--log-level", "debug"}
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
	return agenttest.StartArgs(t, agentBin.Path(t), o.dataDir, args...)
}

// stop ends p with SIGTERM and fails t unless it stops cleanly.
func stop(t testing.TB, p *agenttest.Agent) {
	t.Helper()
	if err := p.Stop(); err != nil {
		t.Errorf("%v:\n%s", err, p.Log())
	}
}

// enroll enrols p and returns the Remote.
func enroll(t testing.TB, p *agenttest.Agent) *hosts.Remote {
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
func enrollCredential(t testing.TB, p *agenttest.Agent) string {
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
	out, err := exec.Command(agentBin.Path(t), "agent", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("bangui agent --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"-listen", ":9444", "-data-dir", "-socket", "-config-dir", "-log-dirs", "-fail2ban-client", "-token-ttl", "-new-token"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("--help does not mention %s:\n%s", flag, out)
		}
	}
	out, _ = exec.Command(agentBin.Path(t), "--help").CombinedOutput()
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
	_ = p.Signal(syscall.SIGTERM)
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the call in flight at SIGTERM: %v\n%s", err, p.Log())
	}
	<-p.Exited()
}
