package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// same fails unless the remote and the local host gave equal results and
// errors of the same type with the same message.
func same[T any](t *testing.T, what string, remote T, rerr error, local T, lerr error) {
	t.Helper()
	if (rerr == nil) != (lerr == nil) || rerr != nil && rerr.Error() != lerr.Error() {
		t.Errorf("%s: remote error %v, local error %v", what, rerr, lerr)
		return
	}
	if rerr != nil && reflect.TypeOf(errors.Unwrap(rerr)) != nil && reflect.TypeOf(rerr) != reflect.TypeOf(lerr) {
		// remote errors keep the message and wrap the local type
		if !sameKind(rerr, lerr) {
			t.Errorf("%s: remote error %T, local error %T", what, rerr, lerr)
		}
	}
	if !reflect.DeepEqual(remote, local) {
		t.Errorf("%s: remote %+v, local %+v", what, remote, local)
	}
}

// sameKind reports whether both errors hold the same typed error.
func sameKind(a, b error) bool {
	var (
		ve  *fail2ban.ValidationError
		pe  *f2bconf.PathError
		lpe *hosts.LogPathError
		ce  *fail2ban.CommandError
	)
	switch {
	case errors.As(b, &ve):
		return errors.As(a, &ve)
	case errors.As(b, &pe):
		return errors.As(a, &pe)
	case errors.As(b, &lpe):
		return errors.As(a, &lpe)
	case errors.As(b, &ce):
		return errors.As(a, &ce)
	}
	return true
}

// TestRemoteBehavesLikeLocal: a host reached through the built agent
// answers as the local host on the same fail2ban: commands, bans, ignore
// lists, configuration read/write/rollback and lock, the regex tester, log
// tails and fail2ban's rows, errors included.
func TestRemoteBehavesLikeLocal(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "manual", Manual: true})
	logDir := filepath.Join(sb.Dir, "log")
	local := hosts.NewLocal(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, ClientPath: "fail2ban-client", LogDirs: []string{logDir}})
	defer local.Close()
	p := startAgent(t, agentOptions{sb: sb})
	r := enroll(t, p)
	ctx := context.Background()

	info, err := r.Info(ctx)
	if err != nil || info.ConfigDir != sb.ConfigDir || !slices.Equal(info.LogDirs, []string{logDir}) || info.Version == "" {
		t.Fatalf("info: %+v, %v", info, err)
	}
	if r.ConfigDir() != sb.ConfigDir || !slices.Equal(r.LogDirs(), local.LogDirs()) {
		t.Fatalf("ConfigDir %q, LogDirs %v", r.ConfigDir(), r.LogDirs())
	}
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	{
		rv, re := r.Version(ctx)
		lv, le := local.Version(ctx)
		same(t, "version", rv, re, lv, le)
		rs, re := r.Status(ctx)
		ls, le := local.Status(ctx)
		same(t, "status", rs, re, ls, le)
		rj, re := r.JailSettings(ctx, "sshd")
		lj, le := local.JailSettings(ctx, "sshd")
		same(t, "jail settings", rj, re, lj, le)
	}

	// Errors: the same type and message on both.
	{
		_, re := r.JailStatus(ctx, "nope")
		_, le := local.JailStatus(ctx, "nope")
		same(t, "unknown jail", 0, re, 0, le)
		if !errors.Is(re, fail2ban.ErrUnknownJail) {
			t.Errorf("unknown jail through the agent: %v, want ErrUnknownJail", re)
		}
		_, re = r.Ban(ctx, "sshd", "not-an-address")
		_, le = local.Ban(ctx, "sshd", "not-an-address")
		same(t, "invalid address", 0, re, 0, le)
		var ve *fail2ban.ValidationError
		if !errors.As(re, &ve) || ve.Field != fail2ban.FieldIP {
			t.Errorf("invalid address through the agent: %#v", re)
		}
		_, re = r.Ban(ctx, "bad jail/..", "192.0.2.1")
		_, le = local.Ban(ctx, "bad jail/..", "192.0.2.1")
		same(t, "invalid jail", 0, re, 0, le)
	}

	// Bans and unbans.
	if n, err := r.Ban(ctx, "manual", "192.0.2.10", "198.51.100.0/24"); err != nil || n != 2 {
		t.Fatalf("ban: %d, %v", n, err)
	}
	{
		rb, re := r.BannedWithTime(ctx, "manual", time.UTC)
		lb, le := local.BannedWithTime(ctx, "manual", time.UTC)
		same(t, "banned with time", rb, re, lb, le)
		if len(rb) != 2 || rb[0].Start.Location() != time.UTC {
			t.Errorf("bans: %+v", rb)
		}
		ro, re := r.JailsOf(ctx, "192.0.2.10", "203.0.113.9")
		lo, le := local.JailsOf(ctx, "192.0.2.10", "203.0.113.9")
		same(t, "jails of", ro, re, lo, le)
		ra, re := r.BannedAll(ctx)
		la, le := local.BannedAll(ctx)
		same(t, "banned all", ra, re, la, le)
		rs, re := r.AllJailStatus(ctx)
		ls, le := local.AllJailStatus(ctx)
		same(t, "all jail status", rs, re, ls, le)
	}
	if n, err := r.Unban(ctx, "manual", "192.0.2.10"); err != nil || n != 1 {
		t.Fatalf("unban: %d, %v", n, err)
	}

	// Ignore lists.
	if got, err := r.AddIgnoreIP(ctx, "sshd", "203.0.113.7"); err != nil || !slices.Contains(got, "203.0.113.7") {
		t.Fatalf("add ignore: %v, %v", got, err)
	}
	{
		ri, re := r.IgnoreIPs(ctx, "sshd")
		li, le := local.IgnoreIPs(ctx, "sshd")
		same(t, "ignore list", ri, re, li, le)
	}
	if got, err := r.DelIgnoreIP(ctx, "sshd", "203.0.113.7"); err != nil || slices.Contains(got, "203.0.113.7") {
		t.Fatalf("del ignore: %v, %v", got, err)
	}

	// Configuration: read, write, restore, errors, merged stacks.
	{
		rs, re := r.LoadConfig(ctx, "jail", nil)
		ls, le := local.LoadConfig(ctx, "jail", nil)
		same(t, "load jail", rs, re, ls, le)
		ov := map[string][]byte{"jail.d/new.local": []byte("[sshd]\nmaxretry = 7\n")}
		rs, re = r.LoadConfig(ctx, "jail", ov)
		ls, le = local.LoadConfig(ctx, "jail", ov)
		same(t, "load jail with an overlay", rs, re, ls, le)
		if v, err := rs.Get("sshd", "maxretry"); err != nil || v != "7" {
			t.Errorf("overlay value: %q, %v", v, err)
		}
		ri, re := r.ConfigItems(ctx, "filter.d")
		li, le := local.ConfigItems(ctx, "filter.d")
		same(t, "filters", ri, re, li, le)
		_, re = r.ConfigItems(ctx, "../etc")
		_, le = local.ConfigItems(ctx, "../etc")
		same(t, "folder outside", 0, re, 0, le)
		for _, name := range []string{"../passwd", "/etc/passwd", "filter.d/sshd.conf", "jail.d/../../x.local"} {
			rf, re := r.ReadConfigFile(ctx, name)
			lf, le := local.ReadConfigFile(ctx, name)
			same(t, "read "+name, rf, re, lf, le)
			var pe *f2bconf.PathError
			if !errors.As(re, &pe) {
				t.Errorf("read %s through the agent: %v, want a PathError", name, re)
			}
		}
	}
	name := "jail.d/agent.local"
	if rep, err := r.WriteConfigFile(ctx, name, []byte("[sshd]\nmaxretry = 4\n")); err != nil || rep.Existed {
		t.Fatalf("write a new file: %+v, %v", rep, err)
	}
	rep, err := r.WriteConfigFile(ctx, name, []byte("[sshd]\nmaxretry = 5\n"))
	if err != nil || !rep.Existed {
		t.Fatalf("write again: %+v, %v", rep, err)
	}
	{
		rf, re := r.ReadConfigFile(ctx, name)
		lf, le := local.ReadConfigFile(ctx, name)
		same(t, "read back", rf, re, lf, le)
		if string(rf.Data) != "[sshd]\nmaxretry = 5\n" || !rf.Backup {
			t.Errorf("read back: %+v", rf)
		}
		re2, re := r.EditableFiles(ctx)
		le2, le := local.EditableFiles(ctx)
		same(t, "editable files", re2, re, le2, le)
	}
	if err := rep.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sb.ConfigDir, name)); string(b) != "[sshd]\nmaxretry = 4\n" {
		t.Fatalf("after the rollback: %q", b)
	}
	if err := rep.Restore(ctx); err == nil {
		t.Fatal("a version was restored twice")
	}
	if wrote, err := r.CreateConfigFile(ctx, name, []byte("x")); err != nil || wrote {
		t.Fatalf("create over a file: %v, %v", wrote, err)
	}
	if out, err := r.TestConfig(ctx); err != nil {
		t.Fatalf("-t through the agent: %q, %v", out, err)
	}
	if out, err := r.Reload(ctx, "sshd"); err != nil {
		t.Fatalf("reload through the agent: %q, %v", out, err)
	}
	if n, err := r.MaxRetry(ctx, "sshd"); err != nil || n != 4 {
		t.Fatalf("maxretry after the reload: %d, %v", n, err)
	}

	// The agent's lock is the host's lock.
	unlock, err := r.LockConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := local.LockConfig(short); !errors.Is(err, f2bconf.ErrEditRunning) {
		t.Errorf("the local lock while the agent holds it: %v", err)
	}
	cancel()
	short, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := r.LockConfig(short); !errors.Is(err, f2bconf.ErrEditRunning) {
		t.Errorf("a second lock through the agent: %v, want ErrEditRunning", err)
	}
	cancel()
	unlock()
	lu, err := local.LockConfig(ctx)
	if err != nil {
		t.Fatalf("the lock after unlock: %v", err)
	}
	lu()

	// The regex tester.
	test := fail2ban.RegexTest{FailRegex: `^Failed password for \S+ from <HOST>`, Lines: []string{
		"Failed password for root from 192.0.2.44 port 22 ssh2", "Accepted password for bob from 192.0.2.45"}}
	{
		rr, re := r.TestRegex(ctx, test)
		lr, le := local.TestRegex(ctx, test)
		if re != nil || le != nil || rr.Matched != 1 || rr.Matched != lr.Matched || rr.Missed != lr.Missed || len(rr.Lines) != 2 || rr.Lines[0].Host != "192.0.2.44" {
			t.Errorf("regex: remote %+v, %v; local %+v, %v", rr, re, lr, le)
		}
		bad := fail2ban.RegexTest{FailRegex: `(unclosed <HOST>`, Lines: []string{"x"}}
		_, re = r.TestRegex(ctx, bad)
		_, le = local.TestRegex(ctx, bad)
		same(t, "bad regex", 0, re, 0, le)
		var rx *fail2ban.RegexError
		if !errors.As(re, &rx) {
			t.Errorf("bad regex through the agent: %v, want a RegexError", re)
		}
		same(t, "check filter", 0, r.CheckFilter(ctx, "sshd"), 0, local.CheckFilter(ctx, "sshd"))
	}

	// Log tails, confined like the local host's.
	logFile := filepath.Join(logDir, "app.log")
	if err := os.WriteFile(logFile, []byte("one INFO\ntwo ERROR\nthree INFO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.log")
	if err := os.WriteFile(outside, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(logDir, "link.log")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		n    int
	}{{logFile, 2}, {outside, 5}, {filepath.Join(logDir, "link.log"), 5}, {logDir + "/../../etc/passwd", 5}, {"app.log", 5}} {
		rt, re := r.TailLog(ctx, c.path, c.n, "")
		lt, le := local.TailLog(ctx, c.path, c.n, "")
		same(t, "tail "+c.path, rt, re, lt, le)
	}
	if _, err := r.TailLog(ctx, outside, 5, ""); !errors.Is(err, hosts.ErrLogNotAllowed) {
		t.Errorf("a file outside the log folders: %v, want ErrLogNotAllowed", err)
	}

	// fail2ban's rows after a rowid.
	lsrc, err := local.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rsrc, err := r.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	{
		rm, re := rsrc.MaxRowID(ctx)
		lm, le := lsrc.MaxRowID(ctx)
		same(t, "max rowid", rm, re, lm, le)
		if rm < 2 {
			t.Fatalf("max rowid %d after two bans", rm)
		}
		rr, re := rsrc.NewRowsSince(ctx, 0, 100)
		lr, le := lsrc.NewRowsSince(ctx, 0, 100)
		same(t, "rows since 0", rr, re, lr, le)
		rr, re = rsrc.NewRowsSince(ctx, 1, 100)
		lr, le = lsrc.NewRowsSince(ctx, 1, 100)
		same(t, "rows since 1", rr, re, lr, le)
		rr, re = rsrc.RowsAtOrAfter(ctx, 0, 0, rm, 1)
		lr, le = lsrc.RowsAtOrAfter(ctx, 0, 0, lm, 1)
		same(t, "rows at or after", rr, re, lr, le)
		row, found, re := rsrc.RowByID(ctx, 1)
		lrow, lfound, le := lsrc.RowByID(ctx, 1)
		same(t, "row 1", [2]any{row, found}, re, [2]any{lrow, lfound}, le)
		row, found, re = rsrc.LastRowAtOrBelow(ctx, 1000)
		lrow, lfound, le = lsrc.LastRowAtOrBelow(ctx, 1000)
		same(t, "last row", [2]any{row, found}, re, [2]any{lrow, lfound}, le)
	}
}

// TestRemoteBanRowsPages: the archive sync's reads of a large fail2ban
// database cross the agent in pages and come back whole and in order.
func TestRemoteBanRowsPages(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fail2ban.sqlite3")
	if err := f2bgen.Generate(context.Background(), db, f2bgen.Options{Rows: 2500, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	p := startAgent(t, agentOptions{extra: []string{"--fail2ban-db", db}})
	r := enroll(t, p)
	local := hosts.NewLocal(hosts.LocalOptions{Socket: filepath.Join(t.TempDir(), "none.sock"), DBPath: db})
	defer local.Close()
	ctx := context.Background()
	rsrc, err := r.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lsrc, err := local.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after int64
		limit int
	}{{0, repo.SyncBatch}, {0, 1500}, {1234, 1000}, {2400, 5000}, {2500, 10}} {
		rr, re := rsrc.NewRowsSince(ctx, c.after, c.limit)
		lr, le := lsrc.NewRowsSince(ctx, c.after, c.limit)
		same(t, fmt.Sprintf("rows after %d, %d", c.after, c.limit), rr, re, lr, le)
	}
	max, _ := lsrc.MaxRowID(ctx)
	first, _, _ := lsrc.RowByID(ctx, 1)
	rr, re := rsrc.RowsAtOrAfter(ctx, first.TimeOfBan, 10, max, repo.SyncBatch)
	lr, le := lsrc.RowsAtOrAfter(ctx, first.TimeOfBan, 10, max, repo.SyncBatch)
	same(t, "rows at or after", rr, re, lr, le)
	if len(rr) < 2000 {
		t.Errorf("rows at or after: %d", len(rr))
	}
}

// TestRemoteUnreachable: a stopped agent and one that accepts connections
// but never answers both come back as fail2ban not answering, the second
// within the call's deadline.
func TestRemoteUnreachable(t *testing.T) {
	p := startAgent(t, agentOptions{})
	r := enroll(t, p)
	stop(t, p)
	ctx := context.Background()
	err := r.Ping(ctx)
	var ue *hosts.UnreachableError
	if !fail2ban.IsUnreachable(err) || !errors.As(err, &ue) || !strings.Contains(err.Error(), p.URL) {
		t.Fatalf("a stopped agent: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	hung, err := hosts.NewRemote(hosts.RemoteOptions{ID: "hung", URL: "https://" + ln.Addr().String(), Fingerprint: p.Fingerprint, Credential: "x", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = hung.Status(ctx)
	if !errors.Is(err, fail2ban.ErrTimeout) || !fail2ban.IsUnreachable(err) {
		t.Fatalf("a hung agent: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a hung agent held the call for %v", d)
	}
}
