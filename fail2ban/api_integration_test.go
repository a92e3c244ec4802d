package fail2ban_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// twoJails is the sandbox used by most integration tests.
func twoJails(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	return sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "recidive", BanTime: "1w"})
}

// eventually polls check every 20ms until it returns true or 10s pass.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func isValidation(err error) bool {
	var ve *fail2ban.ValidationError
	return errors.As(err, &ve)
}

func isCommandError(err error, class string) bool {
	var ce *fail2ban.CommandError
	return errors.As(err, &ce) && ce.Class == class
}

func TestAPIRealServer(t *testing.T) {
	t.Parallel()
	sb := twoJails(t)
	c := fail2ban.NewClient(sb.SocketPath)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	check := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	banned := func(t *testing.T, jail string) []string {
		t.Helper()
		st, err := c.JailStatus(ctx, jail)
		check(t, err)
		return st.Banned
	}

	t.Run("status", func(t *testing.T) {
		st, err := c.Status(ctx)
		check(t, err)
		if !reflect.DeepEqual(st.Jails, []string{"recidive", "sshd"}) {
			t.Errorf("Jails = %q", st.Jails)
		}
		js, err := c.JailStatus(ctx, "sshd")
		check(t, err)
		want := fail2ban.JailStatus{Name: "sshd", Files: []string{sb.LogPath("sshd")}, Banned: []string{}}
		if !reflect.DeepEqual(js, want) {
			t.Errorf("JailStatus = %+v, want %+v", js, want)
		}
		short, err := c.JailStatusShort(ctx, "sshd")
		check(t, err)
		want.Banned = nil
		if !reflect.DeepEqual(short, want) {
			t.Errorf("JailStatusShort = %+v, want %+v", short, want)
		}
		all, err := c.AllJailStatus(ctx)
		check(t, err)
		if len(all) != 2 || all[0].Name != "recidive" || !reflect.DeepEqual(all[1], want) {
			t.Errorf("AllJailStatus = %+v", all)
		}
		// Again, now without trying "status --all" first.
		again, err := c.AllJailStatus(ctx)
		if err != nil || !reflect.DeepEqual(again, all) {
			t.Errorf("second AllJailStatus = %+v, %v", again, err)
		}
		check(t, c.RequireJail(ctx, "sshd"))
	})

	t.Run("unknown jail", func(t *testing.T) {
		const j = "nosuch"
		errs := map[string]error{}
		_, errs["JailStatus"] = c.JailStatus(ctx, j)
		_, errs["JailStatusShort"] = c.JailStatusShort(ctx, j)
		_, errs["BannedWithTime"] = c.BannedWithTime(ctx, j, time.Local)
		_, errs["Ban"] = c.Ban(ctx, j, "192.0.2.1")
		_, errs["Unban"] = c.Unban(ctx, j, "192.0.2.1")
		_, errs["BanTime"] = c.BanTime(ctx, j)
		_, errs["FindTime"] = c.FindTime(ctx, j)
		_, errs["MaxRetry"] = c.MaxRetry(ctx, j)
		_, errs["SetBanTime"] = c.SetBanTime(ctx, j, "10m")
		_, errs["SetFindTime"] = c.SetFindTime(ctx, j, "10m")
		_, errs["SetMaxRetry"] = c.SetMaxRetry(ctx, j, 3)
		_, errs["IgnoreIPs"] = c.IgnoreIPs(ctx, j)
		_, errs["AddIgnoreIP"] = c.AddIgnoreIP(ctx, j, "192.0.2.1")
		_, errs["DelIgnoreIP"] = c.DelIgnoreIP(ctx, j, "192.0.2.1")
		_, errs["IgnoreSelf"] = c.IgnoreSelf(ctx, j)
		_, errs["SetIgnoreSelf"] = c.SetIgnoreSelf(ctx, j, true)
		errs["SetIdle"] = c.SetIdle(ctx, j, true)
		_, errs["Idle"] = c.Idle(ctx, j)
		errs["StartJail"] = c.StartJail(ctx, j)
		_, errs["LogPaths"] = c.LogPaths(ctx, j)
		_, errs["AddLogPath"] = c.AddLogPath(ctx, j, sb.LogPath("sshd"), false)
		_, errs["DelLogPath"] = c.DelLogPath(ctx, j, sb.LogPath("sshd"))
		_, errs["BanTimeIncrement"] = c.BanTimeIncrement(ctx, j)
		_, errs["FailRegex"] = c.FailRegex(ctx, j)
		_, errs["IgnoreRegex"] = c.IgnoreRegex(ctx, j)
		_, errs["Actions"] = c.Actions(ctx, j)
		_, errs["JailSettings"] = c.JailSettings(ctx, j)
		_, errs["JailBasics"] = c.JailBasics(ctx, j)
		errs["RequireJail"] = c.RequireJail(ctx, j)
		for name, err := range errs {
			if !errors.Is(err, fail2ban.ErrUnknownJail) {
				t.Errorf("%s(%s): err = %v, want ErrUnknownJail", name, j, err)
			}
		}
		if err := c.StopJail(ctx, j); err != nil {
			t.Errorf("StopJail(%s) = %v, want nil (idempotent)", j, err)
		}
	})

	t.Run("ban and list", func(t *testing.T) {
		before := time.Now().Add(-2 * time.Second).Truncate(time.Second)
		n, err := c.Ban(ctx, "sshd", "192.0.2.1", "2001:DB8::1", "198.51.100.77/24", "192.0.2.1")
		check(t, err)
		if n != 3 {
			t.Errorf("Ban = %d, want 3", n)
		}
		if n, err := c.Ban(ctx, "sshd", "192.0.2.1"); err != nil || n != 0 {
			t.Errorf("Ban again = %d, %v; want 0", n, err)
		}
		if got := banned(t, "sshd"); !sameSet(got, []string{"192.0.2.1", "2001:db8::1", "198.51.100.0/24"}) {
			t.Errorf("banned = %q", got)
		}
		entries, err := c.BannedWithTime(ctx, "sshd", time.Local)
		check(t, err)
		if len(entries) != 3 {
			t.Fatalf("BannedWithTime = %+v", entries)
		}
		for _, e := range entries {
			// fail2ban prints start and end at one-second resolution from a
			// fractional ban time, so the end may lie a second past start + ban time.
			late := e.End.Sub(e.Start.Add(e.BanTime))
			if e.Permanent || e.BanTime != 10*time.Minute || e.Start.Before(before) || e.Start.After(time.Now()) || late < 0 || late > time.Second {
				t.Errorf("entry %+v: want a 10m ban starting now", e)
			}
		}
		if n, err := c.Ban(ctx, "recidive", "203.0.113.50"); err != nil || n != 1 {
			t.Errorf("Ban recidive = %d, %v", n, err)
		}
		all, err := c.BannedWithTimeAll(ctx, time.Local)
		check(t, err)
		if len(all) != 2 || len(all["sshd"]) != 3 || len(all["recidive"]) != 1 || all["recidive"][0].BanTime != 7*24*time.Hour {
			t.Errorf("BannedWithTimeAll = %+v", all)
		}
		byJail, err := c.BannedAll(ctx)
		check(t, err)
		if !sameSet(byJail["sshd"], []string{"192.0.2.1", "2001:db8::1", "198.51.100.0/24"}) || !slices.Equal(byJail["recidive"], []string{"203.0.113.50"}) {
			t.Errorf("BannedAll = %q", byJail)
		}
		where, err := c.JailsOf(ctx, "192.0.2.1", "203.0.113.50", "2001:db8:0::1", "203.0.113.99")
		check(t, err)
		want := [][]string{{"sshd"}, {"recidive"}, {"sshd"}, {}}
		if !reflect.DeepEqual(where, want) {
			t.Errorf("JailsOf = %q, want %q", where, want)
		}
	})

	t.Run("invalid IP sends nothing", func(t *testing.T) {
		before := banned(t, "sshd")
		for _, ips := range [][]string{
			{"10.0.0.999"},
			{"192.0.2.200", "not-an-ip"}, // the valid one is not banned either
			{"fe80::1%eth0"},
			{"192.0.2.0/33"},
			{"--report-absent"},
		} {
			if _, err := c.Ban(ctx, "sshd", ips...); !isValidation(err) {
				t.Errorf("Ban(%q) err = %v, want ValidationError", ips, err)
			}
		}
		if _, err := c.Unban(ctx, "sshd", "192.0.2.1", "1.2.3"); !isValidation(err) {
			t.Errorf("Unban err = %v", err)
		}
		if _, err := c.UnbanEverywhere(ctx, "--all"); !isValidation(err) {
			t.Errorf("UnbanEverywhere(--all) err = %v", err)
		}
		if _, err := c.AddIgnoreIP(ctx, "sshd", "192.0.2.300"); !isValidation(err) {
			t.Errorf("AddIgnoreIP err = %v", err)
		}
		if after := banned(t, "sshd"); !slices.Equal(after, before) {
			t.Errorf("banned list changed from %q to %q", before, after)
		}
		if ign, err := c.IgnoreIPs(ctx, "sshd"); err != nil || slices.Contains(ign, "192.0.2.300") {
			t.Errorf("ignore list %q, %v", ign, err)
		}
		log, err := os.ReadFile(sb.LogFile)
		check(t, err)
		for _, s := range []string{"10.0.0.999", "not-an-ip", "192.0.2.200", "fe80::1%eth0"} {
			if strings.Contains(string(log), s) {
				t.Errorf("fail2ban's log mentions %q", s)
			}
		}
	})

	t.Run("unban", func(t *testing.T) {
		if n, err := c.Unban(ctx, "sshd", "192.0.2.1", "192.0.2.250"); err != nil || n != 1 {
			t.Errorf("Unban = %d, %v; want 1", n, err)
		}
		if n, err := c.UnbanEverywhere(ctx, "2001:db8::1", "203.0.113.50"); err != nil || n != 2 {
			t.Errorf("UnbanEverywhere = %d, %v; want 2", n, err)
		}
		if got := banned(t, "sshd"); !slices.Equal(got, []string{"198.51.100.0/24"}) {
			t.Errorf("banned = %q", got)
		}
		_, err := c.Ban(ctx, "recidive", "203.0.113.51", "203.0.113.52")
		check(t, err)
		if n, err := c.UnbanAll(ctx); err != nil || n != 3 {
			t.Errorf("UnbanAll = %d, %v; want 3", n, err)
		}
		byJail, err := c.BannedAll(ctx)
		check(t, err)
		if len(byJail["sshd"])+len(byJail["recidive"]) != 0 {
			t.Errorf("after UnbanAll: %q", byJail)
		}
		if n, err := c.UnbanAll(ctx); err != nil || n != 0 {
			t.Errorf("UnbanAll again = %d, %v", n, err)
		}
	})

	t.Run("permanent ban", func(t *testing.T) {
		if d, err := c.SetBanTime(ctx, "sshd", "-1"); err != nil || d != -time.Second {
			t.Fatalf("SetBanTime(-1) = %v, %v", d, err)
		}
		_, err := c.Ban(ctx, "sshd", "203.0.113.9")
		check(t, err)
		entries, err := c.BannedWithTime(ctx, "sshd", time.Local)
		check(t, err)
		if len(entries) != 1 || !entries[0].Permanent || !entries[0].End.IsZero() || entries[0].IP != "203.0.113.9" {
			t.Errorf("BannedWithTime = %+v, want one permanent ban", entries)
		}
		if d, err := c.SetBanTime(ctx, "sshd", "10m"); err != nil || d != 10*time.Minute {
			t.Errorf("SetBanTime(10m) = %v, %v", d, err)
		}
		_, err = c.UnbanAll(ctx)
		check(t, err)
	})

	t.Run("times and retries", func(t *testing.T) {
		if d, err := c.BanTime(ctx, "recidive"); err != nil || d != 7*24*time.Hour {
			t.Errorf("BanTime = %v, %v", d, err)
		}
		if d, err := c.FindTime(ctx, "sshd"); err != nil || d != 10*time.Minute {
			t.Errorf("FindTime = %v, %v", d, err)
		}
		if n, err := c.MaxRetry(ctx, "sshd"); err != nil || n != 5 {
			t.Errorf("MaxRetry = %v, %v", n, err)
		}
		if d, err := c.SetFindTime(ctx, "sshd", "1h 30m"); err != nil || d != 90*time.Minute {
			t.Errorf("SetFindTime = %v, %v", d, err)
		}
		if n, err := c.SetMaxRetry(ctx, "sshd", 7); err != nil || n != 7 {
			t.Errorf("SetMaxRetry = %v, %v", n, err)
		}
		if d, err := c.SetBanTime(ctx, "sshd", "2d"); err != nil || d != 48*time.Hour {
			t.Errorf("SetBanTime = %v, %v", d, err)
		}
		b, err := c.JailBasics(ctx, "sshd")
		want := fail2ban.JailBasics{BanTime: 48 * time.Hour, FindTime: 90 * time.Minute, MaxRetry: 7}
		if err != nil || b != want {
			t.Errorf("JailBasics = %+v, %v; want %+v", b, err, want)
		}
	})

	t.Run("idle", func(t *testing.T) {
		check(t, c.SetIdle(ctx, "sshd", true))
		// fail2ban 1.0 cannot report the flag: Idle says false.
		idle, err := c.Idle(ctx, "sshd")
		check(t, err)
		if v, _ := c.Version(ctx); strings.HasPrefix(v, "1.0.") && idle {
			t.Errorf("Idle = true on %s", v)
		}
		// Starting a running jail clears idle mode and is not an error.
		check(t, c.StartJail(ctx, "sshd"))
		check(t, c.SetIdle(ctx, "sshd", false))
	})

	t.Run("ignore list", func(t *testing.T) {
		before, err := c.IgnoreIPs(ctx, "sshd")
		check(t, err)
		list, err := c.AddIgnoreIP(ctx, "sshd", "192.0.2.0/24", " 198.51.100.1", "2001:DB8::5")
		check(t, err)
		want := append(slices.Clone(before), "192.0.2.0/24", "198.51.100.1", "2001:db8::5")
		if !sameSet(list, want) {
			t.Errorf("AddIgnoreIP = %q, want %q", list, want)
		}
		list, err = c.DelIgnoreIP(ctx, "sshd", "198.51.100.1")
		check(t, err)
		if slices.Contains(list, "198.51.100.1") || !slices.Contains(list, "192.0.2.0/24") {
			t.Errorf("DelIgnoreIP = %q", list)
		}
		if _, err := c.DelIgnoreIP(ctx, "sshd", "203.0.113.99"); !isCommandError(err, "builtins.ValueError") {
			t.Errorf("DelIgnoreIP(absent) err = %v, want ValueError", err)
		}
		if got, err := c.IgnoreIPs(ctx, "sshd"); err != nil || !slices.Equal(got, list) {
			t.Errorf("IgnoreIPs = %q, %v; want %q", got, err, list)
		}
		if on, err := c.IgnoreSelf(ctx, "sshd"); err != nil || !on {
			t.Errorf("IgnoreSelf = %v, %v", on, err)
		}
		if on, err := c.SetIgnoreSelf(ctx, "sshd", false); err != nil || on {
			t.Errorf("SetIgnoreSelf(false) = %v, %v", on, err)
		}
		if on, err := c.SetIgnoreSelf(ctx, "sshd", true); err != nil || !on {
			t.Errorf("SetIgnoreSelf(true) = %v, %v", on, err)
		}
	})

	t.Run("log paths", func(t *testing.T) {
		paths, err := c.LogPaths(ctx, "sshd")
		check(t, err)
		if !slices.Equal(paths, []string{sb.LogPath("sshd")}) {
			t.Errorf("LogPaths = %q", paths)
		}
		extra := filepath.Join(sb.Dir, "log", "extra.log")
		check(t, os.WriteFile(extra, nil, 0o644))
		paths, err = c.AddLogPath(ctx, "sshd", extra, true)
		check(t, err)
		if !sameSet(paths, []string{sb.LogPath("sshd"), extra}) {
			t.Errorf("AddLogPath = %q", paths)
		}
		paths, err = c.DelLogPath(ctx, "sshd", extra)
		check(t, err)
		if !slices.Equal(paths, []string{sb.LogPath("sshd")}) {
			t.Errorf("DelLogPath = %q", paths)
		}
		if _, err := c.AddLogPath(ctx, "sshd", filepath.Join(sb.Dir, "missing.log"), false); !isCommandError(err, "builtins.FileNotFoundError") {
			t.Errorf("AddLogPath(missing) err = %v", err)
		}
	})

	t.Run("filter and actions", func(t *testing.T) {
		re, err := c.FailRegex(ctx, "sshd")
		check(t, err)
		if len(re) < 5 {
			t.Errorf("FailRegex = %q", re)
		}
		if re, err := c.IgnoreRegex(ctx, "sshd"); err != nil || len(re) != 0 || re == nil {
			t.Errorf("IgnoreRegex = %#v, %v", re, err)
		}
		if a, err := c.Actions(ctx, "sshd"); err != nil || !slices.Equal(a, []string{"dummy"}) {
			t.Errorf("Actions = %q, %v", a, err)
		}
		inc, err := c.BanTimeIncrement(ctx, "sshd")
		if err != nil || inc != (fail2ban.BanTimeIncrement{}) {
			t.Errorf("BanTimeIncrement = %+v, %v; want all off", inc, err)
		}
		for _, kv := range [][2]string{{"increment", "true"}, {"factor", "2"}, {"maxtime", "5w"}, {"overalljails", "true"}, {"multipliers", "1 2 4 8"}} {
			_, err := c.Call(ctx, "set", "sshd", "bantime."+kv[0], kv[1])
			check(t, err)
		}
		inc, err = c.BanTimeIncrement(ctx, "sshd")
		want := fail2ban.BanTimeIncrement{Enabled: true, Factor: "2", Multipliers: "1 2 4 8", MaxTime: "3024000", OverallJails: true}
		if err != nil || inc != want {
			t.Errorf("BanTimeIncrement = %+v, %v; want %+v", inc, err, want)
		}

		set, err := c.JailSettings(ctx, "sshd")
		check(t, err)
		basics, err := c.JailBasics(ctx, "sshd")
		check(t, err)
		ign, err := c.IgnoreIPs(ctx, "sshd")
		check(t, err)
		wantSet := fail2ban.JailSettings{
			JailBasics:  basics,
			DatePattern: "Default Detectors", LogEncoding: "UTF-8", Backend: "",
			Actions: []string{"dummy"}, LogPaths: []string{sb.LogPath("sshd")}, FailRegex: re, IgnoreRegex: []string{},
			IgnoreIPs: ign, IgnoreSelf: true, Increment: want,
		}
		if !reflect.DeepEqual(set, wantSet) {
			t.Errorf("JailSettings =\n %+v\nwant\n %+v", set, wantSet)
		}
	})

	t.Run("server settings", func(t *testing.T) {
		if l, err := c.LogLevel(ctx); err != nil || l != "INFO" {
			t.Errorf("LogLevel = %q, %v", l, err)
		}
		for _, lvl := range []string{"debug", "NOTICE", "INFO"} {
			if l, err := c.SetLogLevel(ctx, lvl); err != nil || l != strings.ToUpper(lvl) {
				t.Errorf("SetLogLevel(%s) = %q, %v", lvl, l, err)
			}
		}
		if tg, err := c.LogTarget(ctx); err != nil || tg != sb.LogFile {
			t.Errorf("LogTarget = %q, %v", tg, err)
		}
		other := filepath.Join(sb.Dir, "other.log")
		if tg, err := c.SetLogTarget(ctx, other); err != nil || tg != other {
			t.Errorf("SetLogTarget = %q, %v", tg, err)
		}
		if tg, err := c.SetLogTarget(ctx, sb.LogFile); err != nil || tg != sb.LogFile {
			t.Errorf("SetLogTarget back = %q, %v", tg, err)
		}
		if s, err := c.FlushLogs(ctx); err != nil || (s != "rolled over" && s != "flushed") {
			t.Errorf("FlushLogs = %q, %v", s, err)
		}
		if f, err := c.DBFile(ctx); err != nil || f != sb.DBFile {
			t.Errorf("DBFile = %q, %v", f, err)
		}
		if d, err := c.DBPurgeAge(ctx); err != nil || d != 24*time.Hour {
			t.Errorf("DBPurgeAge = %v, %v", d, err)
		}
		if d, err := c.SetDBPurgeAge(ctx, "2d"); err != nil || d != 48*time.Hour {
			t.Errorf("SetDBPurgeAge = %v, %v", d, err)
		}
		if n, err := c.DBMaxMatches(ctx); err != nil || n != 10 {
			t.Errorf("DBMaxMatches = %v, %v", n, err)
		}
		if n, err := c.SetDBMaxMatches(ctx, 20); err != nil || n != 20 {
			t.Errorf("SetDBMaxMatches = %v, %v", n, err)
		}
	})

	t.Run("call many", func(t *testing.T) {
		cmds := [][]string{{"ping"}, {"status", "nosuch"}, {"get", "sshd", "maxretry"}, {"no-such-command"}, {"echo", "grüße"}, {"get", "recidive", "bantime"}}
		res, err := c.CallMany(ctx, cmds)
		check(t, err)
		for i, cmd := range cmds {
			v, err := c.Call(ctx, cmd...)
			if !reflect.DeepEqual(res[i].Value, v) || (err == nil) != (res[i].Err == nil) || (err != nil && err.Error() != res[i].Err.Error()) {
				t.Errorf("%q: CallMany gave %#v, %v; Call gives %#v, %v", cmd, res[i].Value, res[i].Err, v, err)
			}
		}
	})

	t.Run("stop and start", func(t *testing.T) {
		check(t, c.StopJail(ctx, "recidive"))
		check(t, c.StopJail(ctx, "recidive")) // idempotent
		st, err := c.Status(ctx)
		check(t, err)
		if !slices.Equal(st.Jails, []string{"sshd"}) {
			t.Errorf("after stop: %q", st.Jails)
		}
		if err := c.RequireJail(ctx, "recidive"); !errors.Is(err, fail2ban.ErrUnknownJail) {
			t.Errorf("RequireJail(stopped) = %v", err)
		}
		// A stopped jail is unloaded: start cannot bring it back...
		if err := c.StartJail(ctx, "recidive"); !errors.Is(err, fail2ban.ErrUnknownJail) {
			t.Errorf("StartJail(stopped) = %v, want ErrUnknownJail", err)
		}
		// ...a reload through fail2ban-client does.
		r := fail2ban.Runner{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, Timeout: 30 * time.Second}
		out, err := r.Reload(ctx, "recidive")
		if err != nil {
			t.Fatalf("Reload: %v", err)
		}
		t.Logf("reload output: %q", out)
		eventually(t, "recidive to run again", func() bool { return c.RequireJail(ctx, "recidive") == nil })
	})
}

// sameSet reports whether a and b hold the same strings in any order.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && reflect.DeepEqual(sorted(a), sorted(b))
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// fail2ban goes away mid-test and comes back on the same socket.
func TestUnreachableAndRecovery(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	c := fail2ban.NewClient(sb.SocketPath, fail2ban.WithTimeout(2*time.Second))
	if _, err := c.Ban(ctx, "sshd", "192.0.2.33"); err != nil {
		t.Fatal(err)
	}
	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	errs := map[string]error{}
	_, errs["Status"] = c.Status(ctx)
	_, errs["AllJailStatus"] = c.AllJailStatus(ctx)
	_, errs["JailSettings"] = c.JailSettings(ctx, "sshd")
	_, errs["CallMany"] = c.CallMany(ctx, [][]string{{"ping"}, {"ping"}})
	_, errs["Ban"] = c.Ban(ctx, "sshd", "192.0.2.34")
	errs["RequireJail"] = c.RequireJail(ctx, "sshd")
	for name, err := range errs {
		if !fail2ban.IsUnreachable(err) || !errors.Is(err, fail2ban.ErrUnreachable) || !strings.Contains(err.Error(), sb.SocketPath) {
			t.Errorf("%s while stopped: err = %v, want ErrUnreachable naming the socket", name, err)
		}
	}
	// Validation still comes first.
	if _, err := c.Ban(ctx, "sshd", "bogus"); !isValidation(err) {
		t.Errorf("Ban(bogus) while stopped = %v, want ValidationError", err)
	}

	if err := sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// The same client works again, and the ban came back from the database.
	st, err := c.Status(ctx)
	if err != nil || !slices.Equal(st.Jails, []string{"sshd"}) {
		t.Fatalf("Status after restart = %+v, %v", st, err)
	}
	eventually(t, "the ban to be restored", func() bool {
		all, err := c.BannedAll(ctx)
		return err == nil && slices.Equal(all["sshd"], []string{"192.0.2.33"})
	})
	if _, err := c.AllJailStatus(ctx); err != nil {
		t.Errorf("AllJailStatus after restart: %v", err)
	}
}
