package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// basePath is where nginx serves the panel.
const basePath = "/bangui"

// debianPackages is what the suite needs on Debian.
const debianPackages = "chromium chromium-driver nginx fail2ban"

// stack is the system under test: one fail2ban sandbox, one bangui per
// device (setup runs once per data dir, and every device drives it through
// the browser) and one nginx that terminates TLS in front of all of them;
// besides, the fleet: three more sandboxes, each with a `bangui agent`.
type stack struct {
	started   time.Time
	root      string // module root
	artifacts string // screenshots and logs
	chromium  string // browser executable
	spki      string // base64 SHA-256 of the certificate's public key, trusted by Chromium
	client    *http.Client
	sandbox   *sandbox.Sandbox // nil on the demo
	apps      map[string]*app  // by device name
	nginxLogs string           // directory of nginx's access and error logs
	nginxArgs []string         // nginx's command line
	nginx     *proc            // the running nginx
	demo      bool             // E2E_DEMO=1: every app is "bangui demo" (see demo_test.go)
	// pastShared is done when every device's tour is past the flows that
	// check what the shared fail2ban banned last (map, live), or ended:
	// the live-pages flow, whose bans reach every panel, waits for it.
	pastShared sync.WaitGroup
}

// app is one bangui instance and the nginx server in front of it.
type app struct {
	dataDir    string // bangui's --data-dir
	port       int    // bangui's own loopback port
	proxyPort  int    // nginx's TLS port for it
	origin     string // https://127.0.0.1:proxyPort
	base       string // origin + basePath
	proc       *proc
	log        string
	cmd        []string         // bangui's command line, to start it again (see restartPanel)
	demo       bool             // a "bangui demo" with its own private fail2ban
	sandbox    *sandbox.Sandbox // the local host's fail2ban, shared by every device
	pastShared *sync.WaitGroup  // the stack's pastShared
	fleet      []*fleetHost     // the remote hosts this device's panel enrols
	allFleet   []*fleetHost     // every remote host, the other devices' too
}

// requireTools skips the test (or fails it when CI=true) unless the
// programs the suite drives are installed, and returns their paths.
func requireTools(t *testing.T) (chromium, nginx string) {
	t.Helper()
	var missing []string
	look := func(name string, extra ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, p := range extra {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p
			}
		}
		missing = append(missing, name)
		return ""
	}
	chromium = look("chromium", "/usr/bin/chromium")
	nginx = look("nginx", "/usr/sbin/nginx")
	look("fail2ban-server", "/usr/bin/fail2ban-server")
	if len(missing) > 0 {
		msg := fmt.Sprintf("e2e: %s not found; install the Debian packages: apt-get install -y %s",
			strings.Join(missing, ", "), debianPackages)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	return chromium, nginx
}

// startStack builds bangui with the e2etest tag and starts fail2ban, one
// bangui per device and nginx. Everything stops when t ends.
func startStack(t *testing.T, devices []device) *stack {
	t.Helper()
	chromium, nginx := requireTools(t)
	st := &stack{started: time.Now(), chromium: chromium, apps: map[string]*app{}, demo: demoMode()}
	st.root = moduleRoot(t)
	st.artifacts = os.Getenv("E2E_ARTIFACTS") // relative to the module root
	if st.artifacts == "" {
		st.artifacts = filepath.Join("e2e", "artifacts")
		if st.demo {
			st.artifacts = filepath.Join(st.artifacts, "demo")
		}
	}
	if !filepath.IsAbs(st.artifacts) {
		st.artifacts = filepath.Join(st.root, st.artifacts)
	}
	if err := os.MkdirAll(st.artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()

	// Build while fail2ban starts.
	bin := filepath.Join(tmp, "bangui")
	built := make(chan error, 1)
	go func() { built <- buildBangui(st.root, bin) }()
	var fleet func() []*fleetHost
	if !st.demo {
		fleet = startFleetSandboxes(t)
		dir := t.TempDir()
		plantXSS(t, dir) // payloads in fail2ban's configuration and logs
		jails := append([]sandbox.Jail{{Name: "sshd"}, {Name: pagingJail, Filter: "sshd"}}, configJails...)
		st.sandbox = sandboxtest.StartOptions(t, sandbox.Options{Dir: dir, Jails: append(jails, xssJails...)})
		banMany(t, st.sandbox.Client(), pagingJail, pagingBans)
	}
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	var fleetHosts []*fleetHost
	if fleet != nil {
		fleetHosts = fleet()
	}
	t.Logf("built bangui and started fail2ban in %v", time.Since(st.started).Round(time.Millisecond))

	certFile, keyFile, spki, pool := writeCert(t, tmp)
	st.spki = spki
	st.client = &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	t.Cleanup(st.client.CloseIdleConnections)

	for _, d := range devices {
		a := &app{port: freePort(t), proxyPort: freePort(t), pastShared: &st.pastShared}
		a.origin = fmt.Sprintf("https://127.0.0.1:%d", a.proxyPort)
		a.base = a.origin + basePath
		a.log = filepath.Join(st.artifacts, "bangui-"+d.name+".log")
		dataDir := filepath.Join(tmp, "data-"+d.name)
		a.dataDir = dataDir
		seedGeo(t, dataDir) // country database and archived bans for the map flow
		if st.demo {
			startDemoApp(t, a, d, bin, dataDir)
			st.apps[d.name] = a
			t.Cleanup(func() { stopDemo(t, a, dataDir) })
			continue
		}
		a.sandbox = st.sandbox
		a.cmd = []string{bin,
			"--listen", fmt.Sprintf("127.0.0.1:%d", a.port),
			"--base-path", basePath + "/",
			"--data-dir", dataDir,
			"--socket", st.sandbox.SocketPath,
			"--config-dir", st.sandbox.ConfigDir,
			"--trusted-proxies", "127.0.0.0/8,::1/128",
			// Passkeys need a host name: the passkey flow opens the panel there.
			"--public-url", fmt.Sprintf("https://localhost:%d%s/", a.proxyPort, basePath),
			"--shutdown-grace", "3s",
			"--log-level", "debug",
			"--log-dirs", st.sandbox.Dir,
			// The fleet flow waits for agents' history to reach the archive.
			"--archive-interval", "2s",
		}
		a.proc = startProc(t, "bangui-"+d.name, a.log, a.cmd[0], a.cmd[1:]...)
		st.apps[d.name] = a
		t.Cleanup(func() { a.proc.stop(t, syscall.SIGTERM) })
	}
	for name, a := range st.apps {
		waitHTTP(t, "bangui-"+name, a.proc, http.DefaultClient,
			fmt.Sprintf("http://127.0.0.1:%d%s/healthz", a.port, basePath))
		if a.demo {
			fillDemo(t, a)
		}
	}
	st.startFleet(t, fleetHosts, bin)
	st.startNginx(t, nginx, tmp, certFile, keyFile)
	t.Logf("stack up in %v; artifacts in %s", time.Since(st.started).Round(time.Millisecond), st.artifacts)
	return st
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("e2e: not inside the bangui module")
	}
	return filepath.Dir(mod)
}

// goTool is the go command that runs this test.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// buildBangui builds the panel with the test-only routes of the e2etest tag.
func buildBangui(root, out string) error {
	statSources(root)
	cmd := exec.Command(goTool(), "build", "-tags", "e2etest", "-o", out, "bangui")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -tags e2etest bangui: %v\n%s", err, b)
	}
	return nil
}

// statSources stats the module's source files. go test caches a passing
// run keyed on the files the test looked at; the build below happens in a
// child process that go test cannot see, so without this a change to a
// handler or template could be answered with a stale cached pass.
func statSources(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "artifacts" || d.Name() == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".templ", ".css", ".js", ".svg", ".sql", ".mod", ".sum":
			_, _ = os.Stat(p)
		}
		return nil
	})
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1 and
// returns its files, the SPKI fingerprint Chromium is told to trust and a
// pool for Go clients.
func writeCert(t *testing.T, dir string) (certFile, keyFile, spki string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "bangui e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, base64.StdEncoding.EncodeToString(sum[:]), pool
}

// nginxConf is a self-contained nginx configuration: one process in the
// foreground, every file below the prefix, one TLS server per app.
const nginxConf = `# Generated by the e2e tests.
master_process off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;
events { worker_connections 128; }
http {
	log_format e2e '$server_port $status "$request"';
	access_log {{dir}}/access.log e2e;
	client_body_temp_path {{dir}}/tmp/body;
	proxy_temp_path {{dir}}/tmp/proxy;
	fastcgi_temp_path {{dir}}/tmp/fastcgi;
	uwsgi_temp_path {{dir}}/tmp/uwsgi;
	scgi_temp_path {{dir}}/tmp/scgi;
	ssl_certificate {{cert}};
	ssl_certificate_key {{key}};
{{servers}}}
`

const nginxServer = `	server {
		# HTTP/2, as the README asks: every tab's event stream on one
		# connection (HTTP/1.1 gives a browser six per site, and a page's
		# requests wait behind the streams of its other tabs).
		listen 127.0.0.1:{{proxyport}} ssl http2;
		server_name localhost;
		location /bangui/ {
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header Host $host;
			proxy_http_version 1.1;
			proxy_pass http://127.0.0.1:{{appport}};
		}
		location /bangui/events {
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header Host $host;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_cache off;
			proxy_read_timeout 1h;
			proxy_pass http://127.0.0.1:{{appport}};
		}
	}
`

// startNginx runs nginx in the foreground with its own prefix, and waits
// until every app answers through it over TLS.
func (st *stack) startNginx(t *testing.T, nginx, tmp, certFile, keyFile string) {
	t.Helper()
	dir := filepath.Join(tmp, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	// nginx is run as root here without a master process, so no "user"
	// directive is needed: the single process never switches user.
	var servers strings.Builder
	for _, a := range st.apps {
		servers.WriteString(strings.NewReplacer(
			"{{proxyport}}", fmt.Sprint(a.proxyPort),
			"{{appport}}", fmt.Sprint(a.port),
		).Replace(nginxServer))
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{cert}}", certFile, "{{key}}", keyFile,
		"{{servers}}", servers.String()).Replace(nginxConf)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	st.nginxLogs = dir
	st.nginxArgs = []string{nginx, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;"}
	st.runNginx(t)
	t.Cleanup(func() {
		st.nginx.stop(t, syscall.SIGQUIT)
		for _, f := range []string{"access.log", "error.log"} {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				_ = os.WriteFile(filepath.Join(st.artifacts, "nginx-"+f), b, 0o644)
			}
		}
		if t.Failed() {
			logTail(t, "nginx error log", filepath.Join(dir, "error.log"))
		}
	})
}

// runNginx starts nginx and waits until every app answers through it.
func (st *stack) runNginx(t *testing.T) {
	t.Helper()
	st.nginx = startProc(t, "nginx", filepath.Join(st.nginxLogs, "stderr.log"), st.nginxArgs[0], st.nginxArgs[1:]...)
	for name, a := range st.apps {
		waitHTTP(t, "nginx for "+name, st.nginx, st.client, a.base+"/healthz")
	}
}

// restartNginx stops nginx at once (SIGTERM: open streams are cut, as in
// a crash or a restart of the proxy), runs between, and starts it again.
func (st *stack) restartNginx(t *testing.T, between func()) {
	t.Helper()
	st.nginx.stop(t, syscall.SIGTERM)
	between()
	st.runNginx(t)
}

// accessLog returns nginx's access log: "port status "request"" lines.
func (st *stack) accessLog(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(st.nginxLogs, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// proc is a child process that runs until stop.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // exit error, valid after done
}

// startProc starts a program with its output in logFile. The parent death
// signal fires when the thread that forked the child ends, so the child is
// started and waited for from a goroutine locked to its thread, which is
// unlocked (not ended) afterwards: ending a locked thread would also kill
// every other child, such as fail2ban-server, that was forked from it.
func startProc(t *testing.T, name, logFile, path string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, logFile, nil, path, args...)
}

// startProcEnv is startProc with extra environment variables ("K=V").
func startProcEnv(t *testing.T, name, logFile string, env []string, path string, args ...string) *proc {
	t.Helper()
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own descriptor
	p := &proc{name: name, log: logFile, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = childAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return p
}

// stop sends sig, waits for a clean exit and kills the process if it takes
// longer than 10 s. An unclean exit fails the test and shows the log.
func (p *proc) stop(t *testing.T, sig os.Signal) {
	select {
	case <-p.done:
		t.Errorf("%s exited before the end of the test: %v", p.name, p.err)
		logTail(t, p.name, p.log)
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 10 s of %v; killed", p.name, sig)
	}
	if p.err != nil {
		t.Errorf("%s: unclean exit: %v", p.name, p.err)
	}
	if t.Failed() {
		logTail(t, p.name, p.log)
	}
}

// waitHTTP polls url until it answers 200, for at most 20 s.
func waitHTTP(t *testing.T, what string, p *proc, client *http.Client, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		last = err
		select {
		case <-p.done:
			logTail(t, p.name, p.log)
			t.Fatalf("%s exited while waiting for %s: %v", p.name, url, p.err)
		case <-ctx.Done():
			logTail(t, p.name, p.log)
			t.Fatalf("%s: %s not ready: %v", what, url, last)
		case <-tick.C:
		}
	}
}

// logTail logs the last lines of a log file.
func logTail(t *testing.T, name, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("last lines of %s (%s):\n%s", name, file, strings.Join(lines, "\n"))
}
