// Package pgtest gives tests a real PostgreSQL: one private cluster per test
// binary, created in a temporary directory with initdb and run by the
// postgres binary of the Debian package "postgresql", listening only on a
// unix socket in that directory (no TCP), with fsync off. Each test gets a
// fresh database of its own (URL).
//
// A test package that uses it calls Main from its TestMain, which stops the
// cluster when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The cluster starts on the first URL call, so a run that needs no
// PostgreSQL never starts one. Should the test binary die without
// stopping it (a panic in another goroutine, SIGKILL), the kernel sends the
// postmaster SIGQUIT (parent-death signal), which is PostgreSQL's immediate
// shutdown: nothing is left running.
//
// initdb and postgres refuse to run as root; when the tests run as root (as
// CI does) both run as the postgres system user, which owns the cluster's
// directory. Without the binaries URL skips the test with a message naming
// the package, except under CI=true, where it fails.
//
// The cluster is package state on purpose: it is per test binary, shared by
// every test of it, and started at most once.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Package is the Debian package that holds initdb and postgres.
const Package = "postgresql"

// StartTimeout bounds initdb plus the server's start.
const StartTimeout = 60 * time.Second

var (
	mu       sync.Mutex
	cluster  *Cluster
	started  bool  // Start was tried (cluster or startErr is set)
	startErr error // why the cluster did not start
	dbSeq    atomic.Int64
	// templates are the databases URLFrom copies, by name.
	templates = map[string]*template{}
)

// template is a database that URLFrom copies, made once per binary.
type template struct {
	once sync.Once
	err  error
}

// Main runs the tests of m and stops the cluster, if any test started one,
// before exiting with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	c := cluster
	mu.Unlock()
	if c != nil {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// URL returns the URL of a new, empty database on the binary's private
// cluster, starting the cluster on first use, and drops the database when
// t ends (after the cleanups registered later, such as closing the
// connections). Without PostgreSQL it skips t, or fails it when CI=true.
func URL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, shared(t), "")
}

// URLFrom is URL for a database that starts as a copy of the template
// named name (letters, digits and _), which the first call creates by
// running fill on an empty database's URL; fill must close every
// connection it opened. Copying a prepared database (say, one migrated
// already) is much faster than preparing each test's own.
func URLFrom(t testing.TB, name string, fill func(url string) error) string {
	t.Helper()
	c := shared(t)
	mu.Lock()
	tp := templates[name]
	if tp == nil {
		tp = &template{}
		templates[name] = tp
	}
	mu.Unlock()
	tp.once.Do(func() {
		ctx := context.Background()
		if tp.err = c.exec(ctx, `CREATE DATABASE `+name); tp.err != nil {
			return
		}
		tp.err = fill(c.DatabaseURL(name))
	})
	if tp.err != nil {
		t.Fatalf("pgtest: template %s: %v", name, tp.err)
	}
	return newDatabase(t, c, name)
}

// newDatabase creates a database for t, a copy of template when it is not
// "", and drops it when t ends.
func newDatabase(t testing.TB, c *Cluster, template string) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	q := `CREATE DATABASE ` + name
	if template != "" {
		q += ` TEMPLATE ` + template
	}
	if err := c.exec(context.Background(), q); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.DatabaseURL(name)
}

// shared returns the binary's cluster, starting it on first use.
func shared(t testing.TB) *Cluster {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		bin, err := BinDir()
		if err != nil {
			startErr = err
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
			cluster, startErr = Start(ctx, bin)
			cancel()
		}
	}
	if cluster != nil {
		return cluster
	}
	if skip, msg := verdict(startErr, os.Getenv("CI") == "true"); skip {
		t.Skip(msg)
	} else {
		t.Fatal(msg)
	}
	return nil
}

// verdict says what a test does when the cluster did not start: skip when
// the binaries are missing, unless under CI; fail otherwise.
func verdict(err error, ci bool) (skip bool, msg string) {
	var missing *MissingError
	switch {
	case errors.As(err, &missing) && ci:
		return false, fmt.Sprintf("pgtest: %v (CI=true: PostgreSQL is required)", err)
	case errors.As(err, &missing):
		return true, fmt.Sprintf("pgtest: %v", err)
	}
	return false, fmt.Sprintf("pgtest: %v", err)
}

// MissingError says the PostgreSQL server binaries were not found.
type MissingError struct{ Looked []string }

func (e *MissingError) Error() string {
	return "PostgreSQL server binaries (initdb, postgres) not found in " + strings.Join(e.Looked, ", ") +
		"; install the Debian package " + Package + " (apt-get install " + Package + ")"
}

// BinDir finds the directory that holds initdb and postgres: $PG_BINDIR,
// the directory of initdb on PATH (following links), pg_config --bindir,
// or the newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
func BinDir() (string, error) {
	var candidates []string
	if d := os.Getenv("PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	return binDirIn(append(candidates, dirs...))
}

// binDirIn returns the first of dirs that holds initdb and postgres, or a
// *MissingError.
func binDirIn(dirs []string) (string, error) {
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", &MissingError{Looked: append(slices.Clip(dirs), "PATH", "/usr/lib/postgresql/*/bin")}
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Cluster is a private PostgreSQL server on a unix socket in its directory.
type Cluster struct {
	dir   string // holds data/, the socket and server.log
	user  string // the superuser name
	cred  *syscall.Credential
	admin *sql.DB // the postgres database, for CREATE and DROP DATABASE
	cmd   *exec.Cmd
	done  chan struct{} // closed when the server exited
	err   error         // the server's exit, once done is closed
}

// Start creates a cluster in a new temporary directory with the binaries
// of binDir and starts its server. As root, both run as the postgres
// system user.
func Start(ctx context.Context, binDir string) (*Cluster, error) {
	dir, err := os.MkdirTemp(tempRoot(), "bangui-pg-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	c := &Cluster{dir: dir, user: "postgres", done: make(chan struct{})}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		cred, err := credentialOf("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err))
		}
		c.cred = cred
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("chown %s: %w", dir, err))
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "-D", data, "-U", c.user,
		"--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out)))
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	c.cmd = exec.Command(filepath.Join(binDir, "postgres"), "-D", data,
		"-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning", "-c", "logging_collector=off")
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// SIGQUIT on the death of the thread that started it: immediate
	// shutdown when the test binary dies. The thread is locked by the
	// goroutine that waits for the server, so it lives as long as the server.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	startErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := c.cmd.Start(); err != nil {
			startErr <- err
			close(c.done)
			return
		}
		startErr <- nil
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	if err := <-startErr; err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	c.admin, err = sql.Open("pgx", c.dsn("postgres"))
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.admin.SetMaxOpenConns(2)
	if err := c.waitReady(ctx); err != nil {
		log := c.Log()
		c.Stop()
		return nil, fmt.Errorf("%w; server log:\n%s", err, log)
	}
	return c, nil
}

// tempRoot is where the cluster's directory goes: the temp dir, unless the
// postgres user (when root hands over to it) cannot reach into it.
func tempRoot() string {
	root := os.TempDir()
	if os.Geteuid() != 0 {
		return root
	}
	for d := root; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return root
		}
	}
}

func credentialOf(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// waitReady polls until the server accepts connections, it exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.admin.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("postgres exited: %v", c.err)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// dsn is a connection string for database name over the cluster's socket.
func (c *Cluster) dsn(name string) string {
	return "host=" + c.dir + " user=" + c.user + " dbname=" + name + " sslmode=disable"
}

// DatabaseURL is the postgres:// URL of database name on the cluster.
func (c *Cluster) DatabaseURL(name string) string {
	q := url.Values{"host": {c.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(c.user), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// Dir is the cluster's directory (its data, socket and server.log).
func (c *Cluster) Dir() string { return c.dir }

// Log returns the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

func (c *Cluster) exec(ctx context.Context, q string) error {
	_, err := c.admin.ExecContext(ctx, q)
	return err
}

// Stop shuts the server down (fast: open sessions are ended), waits for it
// and removes the cluster's directory.
func (c *Cluster) Stop() error {
	if c.admin != nil {
		c.admin.Close()
	}
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
			<-c.done
			err = errors.New("postgres did not stop within 30 s; sent SIGQUIT")
		}
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
