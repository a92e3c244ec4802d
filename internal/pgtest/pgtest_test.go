package pgtest

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_CRASH_CHILD") == "1" {
		crashChild()
		return
	}
	Main(m)
}

// TestURLGivesEachTestItsOwnDatabase opens two databases on the shared
// cluster, writes to one, and checks the other does not see it, that the
// server runs as the postgres user when the tests run as root, and that it
// listens on no TCP port.
func TestURLGivesEachTestItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("same URL twice: %s", a)
	}
	dbA, dbB := open(t, a), open(t, b)
	if _, err := dbA.ExecContext(ctx, `CREATE TABLE x (n int); INSERT INTO x VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := dbB.ExecContext(ctx, `SELECT n FROM x`); err == nil {
		t.Error("the second database sees the first one's table")
	}
	var listen, fsync string
	if err := dbA.QueryRowContext(ctx, `SELECT current_setting('listen_addresses'), current_setting('fsync')`).Scan(&listen, &fsync); err != nil {
		t.Fatal(err)
	}
	if listen != "" || fsync != "off" {
		t.Errorf("listen_addresses %q, fsync %q; want none and off", listen, fsync)
	}
	mu.Lock()
	c := cluster
	mu.Unlock()
	uid := procUID(t, c.cmd.Process.Pid)
	if os.Geteuid() == 0 {
		cred, err := credentialOf("postgres")
		if err != nil {
			t.Fatal(err)
		}
		if uid != int(cred.Uid) {
			t.Errorf("postgres runs as uid %d, want the postgres user's %d", uid, cred.Uid)
		}
	} else if uid != os.Geteuid() {
		t.Errorf("postgres runs as uid %d, want ours %d", uid, os.Geteuid())
	}
}

// TestStopLeavesNothing starts a second cluster and stops it: the server
// is gone and so is its directory.
func TestStopLeavesNothing(t *testing.T) {
	bin, err := BinDir()
	if err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	c, err := Start(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.cmd.Process.Pid
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("postgres %d still runs after Stop", pid)
	}
	if _, err := os.Stat(c.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir left behind: %v", err)
	}
}

// TestServerDiesWithTheTestBinary runs a child test binary that starts a
// cluster, prints the server's pid, and is killed with SIGKILL (no cleanup
// runs): the parent-death signal stops the server.
func TestServerDiesWithTheTestBinary(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_CRASH_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 2 {
		t.Fatalf("child said %q", line)
	}
	pid, _ := strconv.Atoi(fields[0])
	dir := fields[1]
	t.Cleanup(func() { os.RemoveAll(dir) }) // no cleanup ran in the child
	if !alive(pid) {
		t.Fatalf("postgres %d not running before the kill", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGQUIT)
			t.Fatalf("postgres %d still runs 20 s after its test binary died", pid)
		}
		time.Sleep(20 * time.Millisecond) // polling the process table
	}
}

// crashChild starts a cluster, reports it and waits to be killed.
func crashChild() {
	bin, err := BinDir()
	if err != nil {
		os.Exit(2)
	}
	c, err := Start(context.Background(), bin)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	os.Stdout.WriteString(strconv.Itoa(c.cmd.Process.Pid) + " " + c.Dir() + "\n")
	select {}
}

func open(t *testing.T, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// alive reports whether pid runs (and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z'
	}
	return true
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no Uid in /proc status")
	return -1
}

// TestMissingBinariesSkipOrFail: without initdb and postgres a test skips
// with a message naming the Debian package, and fails under CI=true; a
// cluster that fails for another reason always fails the test.
func TestMissingBinariesSkipOrFail(t *testing.T) {
	_, err := binDirIn([]string{t.TempDir()})
	var missing *MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("binDirIn(empty dir) = %v, want a *MissingError", err)
	}
	skip, msg := verdict(err, false)
	if !skip || !strings.Contains(msg, "apt-get install postgresql") {
		t.Errorf("without CI: skip %v, %q", skip, msg)
	}
	if skip, msg := verdict(err, true); skip || !strings.Contains(msg, "CI=true") {
		t.Errorf("with CI=true: skip %v, %q", skip, msg)
	}
	if skip, _ := verdict(errors.New("initdb: exit status 1"), false); skip {
		t.Error("a failing initdb skips")
	}
}
