// Package sandbox runs a private, real fail2ban-server with its own
// configuration, socket, database and log files, for tests and demos.
//
// Bans use fail2ban's dummy action (which only writes to a file in the
// sandbox), so nothing touches the host firewall. The server normally needs
// to run as root.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"bangui/fail2ban"
)

// ErrNotInstalled is returned by Start when fail2ban-server (or its stock
// filter and action configuration) cannot be found.
var ErrNotInstalled = errors.New("sandbox: fail2ban-server not found (install the Debian package fail2ban)")

// Defaults applied by Start.
const (
	DefaultStartTimeout = 20 * time.Second
	DefaultConfigSource = "/etc/fail2ban"
	DefaultDBPurgeAge   = "1d"
)

// Names of the files Start keeps directly in Options.Dir.
const (
	DBFileName  = "fail2ban.sqlite3" // fail2ban's database
	LogFileName = "fail2ban.log"     // fail2ban's own log
)

// DBPath is where Start puts fail2ban's database for the directory dir. A
// database already there is kept and used, so a caller may write one (for
// example a ban history) before the first Start.
func DBPath(dir string) string { return filepath.Join(dir, DBFileName) }

const (
	maxSocketPath = 100 // stay below the unix socket path limit (108 on Linux)
	pollInterval  = 50 * time.Millisecond
	stopWait      = 5 * time.Second
)

// Options configures Start.
type Options struct {
	// Dir is the base directory for configuration, logs, socket and
	// database. Required; it is created if missing.
	Dir string
	// Jails to configure; default is a single sshd jail.
	Jails []Jail
	// ServerPath is the fail2ban-server executable; default is looked up in
	// PATH.
	ServerPath string
	// StartTimeout bounds the wait for the server and its jails to come up;
	// default DefaultStartTimeout.
	StartTimeout time.Duration
	// ConfigSource is the fail2ban configuration directory whose filter.d,
	// action.d and paths-*.conf are copied; default DefaultConfigSource.
	ConfigSource string
	// DBPurgeAge is fail2ban's dbpurgeage: bans older than this are
	// deleted from the database; default DefaultDBPurgeAge.
	DBPurgeAge string
}

// Jail describes one jail of the sandbox. Zero values get defaults.
type Jail struct {
	Name     string // required
	Filter   string // filter name, optionally with [options]; default Name
	LogPath  string // created empty if missing; default <Dir>/log/<Name>.log; relative paths are below Dir
	MaxRetry int    // default 5
	FindTime string // default "10m"
	BanTime  string // default "10m"
	Disabled bool   // write the jail with enabled = false
	// ServerLog makes the jail watch fail2ban's own log (as recidive
	// does) instead of LogPath, which must then be empty.
	ServerLog bool
	// Manual writes the jail without filter and log file: it bans only
	// what is banned through the socket (as BanGUI's blocklist-import
	// jail). Filter and LogPath must be empty.
	Manual bool
}

// Sandbox is a running private fail2ban-server.
type Sandbox struct {
	Dir        string // base directory
	ConfigDir  string // fail2ban configuration directory (-c)
	SocketPath string // control socket
	DBFile     string // fail2ban SQLite database
	LogFile    string // fail2ban's own log

	purgeAge string
	pidFile  string
	outFile  string        // server stdout/stderr
	server   string        // fail2ban-server executable
	timeout  time.Duration // start-up limit
	logStart int64         // size of LogFile before launch (the directory may be reused)
	sockDir  string        // private short socket directory to remove, if any
	jails    []Jail
	client   *fail2ban.Client
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been reaped
	waitErr  error         // valid after exited is closed

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// Start writes a configuration into opts.Dir, starts fail2ban-server in the
// foreground as a child process and waits until it answers and all enabled
// jails are running. Call Stop to shut it down.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Dir == "" {
		return nil, errors.New("sandbox: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	server, src, err := check(opts)
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	jails, err := normalizeJails(dir, opts.Jails)
	if err != nil {
		return nil, err
	}
	purgeAge := opts.DBPurgeAge
	if purgeAge == "" {
		purgeAge = DefaultDBPurgeAge
	}
	if strings.ContainsAny(purgeAge, "\r\n") {
		return nil, fmt.Errorf("sandbox: invalid DBPurgeAge %q", purgeAge)
	}

	s := &Sandbox{
		Dir:       dir,
		ConfigDir: filepath.Join(dir, "conf"),
		DBFile:    DBPath(dir),
		LogFile:   filepath.Join(dir, LogFileName),
		purgeAge:  purgeAge,
		pidFile:   filepath.Join(dir, "fail2ban.pid"),
		outFile:   filepath.Join(dir, "server.out"),
		jails:     jails,
		server:    server,
		timeout:   timeout,
	}
	if err := s.prepare(src); err != nil {
		s.removeSockDir()
		return nil, err
	}
	s.client = fail2ban.NewClient(s.SocketPath, fail2ban.WithTimeout(2*time.Second))
	if err := s.checkNotRunning(ctx); err != nil {
		s.removeSockDir()
		return nil, err
	}
	if err := s.launch(); err != nil {
		s.removeSockDir()
		return nil, err
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 2*stopWait)
		defer cancel()
		_ = s.Stop(stopCtx)
		return nil, err
	}
	return s, nil
}

// Check reports whether Start would find fail2ban-server and the stock
// configuration to copy, without starting anything: nil, or an error that
// matches ErrNotInstalled.
func Check(opts Options) error {
	_, _, err := check(opts)
	return err
}

// check resolves the server executable and the configuration source.
func check(opts Options) (server, src string, err error) {
	server, err = findServer(opts.ServerPath)
	if err != nil {
		return "", "", err
	}
	src = opts.ConfigSource
	if src == "" {
		src = DefaultConfigSource
	}
	for _, sub := range []string{"filter.d", "action.d"} {
		if fi, err := os.Stat(filepath.Join(src, sub)); err != nil || !fi.IsDir() {
			return "", "", fmt.Errorf("%w: no %s in %s", ErrNotInstalled, sub, src)
		}
	}
	return server, src, nil
}

// findServer resolves the fail2ban-server executable.
func findServer(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNotInstalled, err)
		}
		return path, nil
	}
	if p, err := exec.LookPath("fail2ban-server"); err == nil {
		return p, nil
	}
	// PATH may be minimal (e.g. under some test runners).
	for _, p := range []string{"/usr/bin/fail2ban-server", "/usr/local/bin/fail2ban-server", "/usr/sbin/fail2ban-server"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// prepare creates the directory layout and writes the configuration.
func (s *Sandbox) prepare(src string) error {
	runDir := filepath.Join(s.Dir, "run")
	for _, d := range []string{s.Dir, s.ConfigDir, filepath.Join(s.ConfigDir, "jail.d"), filepath.Join(s.Dir, "log"), runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	for _, sub := range []string{"filter.d", "action.d"} {
		if err := copyTree(filepath.Join(src, sub), filepath.Join(s.ConfigDir, sub)); err != nil {
			return fmt.Errorf("sandbox: copy %s: %w", sub, err)
		}
	}
	paths, err := filepath.Glob(filepath.Join(src, "paths-*.conf"))
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	include := ""
	for _, p := range paths {
		if err := copyFile(p, filepath.Join(s.ConfigDir, filepath.Base(p)), 0o644); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		switch base := filepath.Base(p); {
		case base == "paths-debian.conf":
			include = base
		case base == "paths-common.conf" && include == "":
			include = base
		}
	}

	for _, j := range s.jails {
		if j.Manual {
			continue
		}
		base := filterBase(j.Filter)
		if !exists(filepath.Join(s.ConfigDir, "filter.d", base+".conf")) &&
			!exists(filepath.Join(s.ConfigDir, "filter.d", base+".local")) {
			return fmt.Errorf("sandbox: jail %s: filter %q not found in %s", j.Name, base, filepath.Join(src, "filter.d"))
		}
		if err := touch(j.LogPath); err != nil {
			return fmt.Errorf("sandbox: jail %s: %w", j.Name, err)
		}
	}

	s.SocketPath = filepath.Join(s.Dir, "fail2ban.sock")
	if len(s.SocketPath) > maxSocketPath {
		d, err := os.MkdirTemp("", "f2b-")
		if err != nil {
			return fmt.Errorf("sandbox: socket directory: %w", err)
		}
		s.sockDir = d
		s.SocketPath = filepath.Join(d, "fail2ban.sock")
	}

	if err := writeServerConf(filepath.Join(s.ConfigDir, "fail2ban.conf"), s); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := writeJailConf(filepath.Join(s.ConfigDir, "jail.conf"), include, runDir, s.jails); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// checkNotRunning refuses to start over a server that still answers on
// the socket (another user of a reused Dir): the -x option would take its
// socket away.
func (s *Sandbox) checkNotRunning(ctx context.Context) error {
	if _, err := os.Stat(s.SocketPath); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.client.Ping(ctx); err == nil {
		return fmt.Errorf("sandbox: a fail2ban-server already answers on %s (another process uses %s)", s.SocketPath, s.Dir)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// launch starts the server process and a goroutine reaping it.
func (s *Sandbox) launch() error {
	server := s.server
	out, err := os.OpenFile(s.outFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer out.Close() // the child keeps its own descriptor
	if fi, err := os.Stat(s.LogFile); err == nil {
		s.logStart = fi.Size()
	}
	cmd := exec.Command(server,
		"-f", // foreground: the process stays our child, so Stop can wait for it
		"-x", // remove a stale socket file
		"-c", s.ConfigDir,
		"-s", s.SocketPath,
		"-p", s.pidFile,
	)
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	// On Linux the child dies with the thread that forked it (Pdeathsig), so
	// start and wait on one goroutine locked to its thread for the child's
	// whole life: the runtime cannot retire that thread under it.
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("sandbox: start %s: %w", server, err)
	}
	s.cmd = cmd
	s.exited = exited
	return nil
}

// waitReady polls the socket until the server answers and reports every
// enabled jail.
func (s *Sandbox) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var want []string
	for _, j := range s.jails {
		if !j.Disabled {
			want = append(want, j.Name)
		}
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		last = s.ready(ctx, want)
		if last == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("sandbox: fail2ban-server exited during start-up (%v)%s", s.waitErr, s.logs())
		case <-ctx.Done():
			return fmt.Errorf("sandbox: fail2ban-server not ready: %w (last check: %v)%s", ctx.Err(), last, s.logs())
		case <-tick.C:
		}
	}
}

// ready reports nil once the server answers ping and runs all wanted jails.
func (s *Sandbox) ready(ctx context.Context, want []string) error {
	if err := s.client.Ping(ctx); err != nil {
		return err
	}
	v, err := s.client.Call(ctx, "status")
	if err != nil {
		return err
	}
	running := jailList(v)
	for _, name := range want {
		if !slices.Contains(running, name) {
			return fmt.Errorf("jail %s not added yet (jails: %v)", name, running)
		}
	}
	// A jail is listed as soon as it is added, before the rest of its
	// configuration is applied; if that fails the server shuts down. Only
	// the "started" log line proves the configuration went through.
	log := s.newLog()
	for _, name := range want {
		if !strings.Contains(log, fmt.Sprintf("Jail '%s' started", name)) {
			return fmt.Errorf("jail %s not started yet", name)
		}
	}
	return nil
}

// newLog returns what the server logged since this sandbox was launched.
func (s *Sandbox) newLog() string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil || int64(len(b)) < s.logStart {
		return ""
	}
	return string(b[s.logStart:])
}

// jailList extracts the jail names from a decoded "status" reply.
func jailList(v any) []string {
	pairs, _ := v.([]any)
	for _, p := range pairs {
		kv, ok := p.([]any)
		if !ok || len(kv) != 2 || kv[0] != "Jail list" {
			continue
		}
		list, _ := kv[1].(string)
		var names []string
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		return names
	}
	return nil
}

// logs returns the tails of the server output and log for error messages.
func (s *Sandbox) logs() string {
	var b strings.Builder
	if t := tail(s.outFile, 2048); t != "" {
		fmt.Fprintf(&b, "\n--- %s ---\n%s", s.outFile, t)
	}
	if t := tail(s.LogFile, 4096); t != "" {
		fmt.Fprintf(&b, "\n--- %s ---\n%s", s.LogFile, t)
	}
	return b.String()
}

// LogPath returns the log file watched by the named jail, or "" if the
// sandbox has no such jail.
func (s *Sandbox) LogPath(jail string) string {
	for _, j := range s.jails {
		if j.Name == jail {
			return j.LogPath
		}
	}
	return ""
}

// Client returns a client for the sandbox socket.
func (s *Sandbox) Client() *fail2ban.Client { return s.client }

// Pid returns the process id of the fail2ban-server.
func (s *Sandbox) Pid() int { return s.cmd.Process.Pid }

// Stop shuts the server down: it sends "stop" over the socket, waits for the
// process to exit and kills its process group if it does not exit within a
// few seconds (or when ctx ends first). Stop is idempotent; later calls
// return the first result.
func (s *Sandbox) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		s.stopErr = s.stop(ctx)
		s.removeSockDir()
	}
	return s.stopErr
}

// Restart stops the server if it is running and starts a new one on the
// same directory, configuration, socket, database and log, then waits for
// it as Start does. It also works after Stop; Stop is needed again
// afterwards. Bans that were running come back from the database, as with
// a real restart.
func (s *Sandbox) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		if err := s.stop(ctx); err != nil {
			s.stopped, s.stopErr = true, err
			s.removeSockDir()
			return err
		}
	}
	if dir := filepath.Dir(s.SocketPath); dir != s.Dir && s.sockDir == "" {
		// Stop removed the private socket directory; take the same path
		// again so clients keep working.
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("sandbox: socket directory: %w", err)
		}
		s.sockDir = dir
	}
	s.stopped, s.stopErr = false, nil
	if err := s.launch(); err != nil {
		s.stopped, s.stopErr = true, err
		s.removeSockDir()
		return err
	}
	if err := s.waitReady(ctx, s.timeout); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 2*stopWait)
		defer cancel()
		_ = s.stop(stopCtx)
		s.stopped, s.stopErr = true, err
		s.removeSockDir()
		return err
	}
	return nil
}

// stop ends the server process (see Stop) without further clean-up.
func (s *Sandbox) stop(ctx context.Context) error {
	pid := s.Pid()
	var err error
	select {
	case <-s.exited:
		if s.waitErr != nil {
			err = fmt.Errorf("sandbox: fail2ban-server had already exited: %w%s", s.waitErr, s.logs())
		}
	default:
		callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, _ = s.client.Call(callCtx, "stop") // the reply may be lost as the server shuts down
		cancel()
		if !s.waitExit(ctx, stopWait) {
			killGroup(pid)
			if !s.waitExit(context.Background(), stopWait) {
				err = fmt.Errorf("sandbox: fail2ban-server (pid %d) did not exit after SIGKILL", pid)
			}
		}
	}
	// Clean up anything left in the process group (e.g. action commands)
	// and wait until the kernel has removed it.
	killGroup(pid)
	for deadline := time.Now().Add(stopWait); !groupGone(pid) && time.Now().Before(deadline); {
		t := time.NewTimer(10 * time.Millisecond)
		<-t.C
	}
	return err
}

// waitExit waits up to d (or until ctx ends) for the process to be reaped.
func (s *Sandbox) waitExit(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.exited:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Sandbox) removeSockDir() {
	if s.sockDir != "" {
		_ = os.RemoveAll(s.sockDir)
		s.sockDir = ""
	}
}

// FailedLogins appends n failed sshd logins from ip, as sshd writes them,
// to the log of the named jail (an sshd filter), so that fail2ban bans ip
// by itself once n reaches the jail's maxretry.
func (s *Sandbox) FailedLogins(jail, ip string, n int) error {
	f, err := os.OpenFile(s.LogPath(jail), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	now := time.Now().Format(time.Stamp)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s sandbox sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 4000+i, ip, 50000+i)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("sandbox: %w", err)
	}
	return f.Close()
}
