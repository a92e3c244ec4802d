package services_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/configuration"
	"bangui/services/internal/servicetest"
)

// errNotInThisTest answers what the two-host test never asks.
var errNotInThisTest = errors.New("the recording host does not do this")

// recordingHost is a second, independent implementation of hosts.Host: it
// keeps its own socket client on a sandbox and reaches its configuration
// directory without hosts.Local, and it records the name of every method
// called on it.
type recordingHost struct {
	id string
	sb *sandbox.Sandbox
	c  *fail2ban.Client

	mu    sync.Mutex
	calls []string
	db    *repo.Fail2BanDBReader // opened by BanRows
}

var _ hosts.Host = (*recordingHost)(nil)

func newRecordingHost(id string, sb *sandbox.Sandbox) *recordingHost {
	return &recordingHost{id: id, sb: sb, c: fail2ban.NewClient(sb.SocketPath)}
}

func (h *recordingHost) saw(method string) {
	h.mu.Lock()
	h.calls = append(h.calls, method)
	h.mu.Unlock()
}

// received returns the names of the methods called so far, in order.
func (h *recordingHost) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

func (h *recordingHost) runner() fail2ban.Runner {
	return fail2ban.Runner{ClientPath: "fail2ban-client", Socket: h.sb.SocketPath, ConfigDir: h.sb.ConfigDir}
}

func (h *recordingHost) ID() string { h.saw("ID"); return h.id }

func (h *recordingHost) Ping(ctx context.Context) error { h.saw("Ping"); return h.c.Ping(ctx) }

func (h *recordingHost) Version(ctx context.Context) (string, error) {
	h.saw("Version")
	return h.c.Version(ctx)
}

func (h *recordingHost) Status(ctx context.Context) (fail2ban.ServerStatus, error) {
	h.saw("Status")
	return h.c.Status(ctx)
}

func (h *recordingHost) AllJailStatus(ctx context.Context) ([]fail2ban.JailStatus, error) {
	h.saw("AllJailStatus")
	return h.c.AllJailStatus(ctx)
}

func (h *recordingHost) LogLevel(ctx context.Context) (string, error) {
	h.saw("LogLevel")
	return h.c.LogLevel(ctx)
}

func (h *recordingHost) SetLogLevel(ctx context.Context, level string) (string, error) {
	h.saw("SetLogLevel")
	return h.c.SetLogLevel(ctx, level)
}

func (h *recordingHost) LogTarget(ctx context.Context) (string, error) {
	h.saw("LogTarget")
	return h.c.LogTarget(ctx)
}

func (h *recordingHost) SetLogTarget(ctx context.Context, target string) (string, error) {
	h.saw("SetLogTarget")
	return h.c.SetLogTarget(ctx, target)
}

func (h *recordingHost) SyslogSocket(ctx context.Context) (string, error) {
	h.saw("SyslogSocket")
	return h.c.SyslogSocket(ctx)
}

func (h *recordingHost) DBFile(ctx context.Context) (string, error) {
	h.saw("DBFile")
	return h.c.DBFile(ctx)
}

func (h *recordingHost) DBPurgeAge(ctx context.Context) (time.Duration, error) {
	h.saw("DBPurgeAge")
	return h.c.DBPurgeAge(ctx)
}

func (h *recordingHost) SetDBPurgeAge(ctx context.Context, value string) (time.Duration, error) {
	h.saw("SetDBPurgeAge")
	return h.c.SetDBPurgeAge(ctx, value)
}

func (h *recordingHost) DBMaxMatches(ctx context.Context) (int64, error) {
	h.saw("DBMaxMatches")
	return h.c.DBMaxMatches(ctx)
}

func (h *recordingHost) SetDBMaxMatches(ctx context.Context, n int64) (int64, error) {
	h.saw("SetDBMaxMatches")
	return h.c.SetDBMaxMatches(ctx, n)
}

func (h *recordingHost) FlushLogs(ctx context.Context) (string, error) {
	h.saw("FlushLogs")
	return h.c.FlushLogs(ctx)
}

func (h *recordingHost) RequireJail(ctx context.Context, name string) error {
	h.saw("RequireJail")
	return h.c.RequireJail(ctx, name)
}

func (h *recordingHost) JailStatus(ctx context.Context, jail string) (fail2ban.JailStatus, error) {
	h.saw("JailStatus")
	return h.c.JailStatus(ctx, jail)
}

func (h *recordingHost) JailStatusShort(ctx context.Context, jail string) (fail2ban.JailStatus, error) {
	h.saw("JailStatusShort")
	return h.c.JailStatusShort(ctx, jail)
}

func (h *recordingHost) JailBasics(ctx context.Context, jail string) (fail2ban.JailBasics, error) {
	h.saw("JailBasics")
	return h.c.JailBasics(ctx, jail)
}

func (h *recordingHost) JailSettings(ctx context.Context, jail string) (fail2ban.JailSettings, error) {
	h.saw("JailSettings")
	return h.c.JailSettings(ctx, jail)
}

func (h *recordingHost) BanTime(ctx context.Context, jail string) (time.Duration, error) {
	h.saw("BanTime")
	return h.c.BanTime(ctx, jail)
}

func (h *recordingHost) FindTime(ctx context.Context, jail string) (time.Duration, error) {
	h.saw("FindTime")
	return h.c.FindTime(ctx, jail)
}

func (h *recordingHost) MaxRetry(ctx context.Context, jail string) (int64, error) {
	h.saw("MaxRetry")
	return h.c.MaxRetry(ctx, jail)
}

func (h *recordingHost) StartJail(ctx context.Context, jail string) error {
	h.saw("StartJail")
	return h.c.StartJail(ctx, jail)
}

func (h *recordingHost) StopJail(ctx context.Context, jail string) error {
	h.saw("StopJail")
	return h.c.StopJail(ctx, jail)
}

func (h *recordingHost) SetIdle(ctx context.Context, jail string, on bool) error {
	h.saw("SetIdle")
	return h.c.SetIdle(ctx, jail, on)
}

func (h *recordingHost) IgnoreIPs(ctx context.Context, jail string) ([]string, error) {
	h.saw("IgnoreIPs")
	return h.c.IgnoreIPs(ctx, jail)
}

func (h *recordingHost) AddIgnoreIP(ctx context.Context, jail string, ips ...string) ([]string, error) {
	h.saw("AddIgnoreIP")
	return h.c.AddIgnoreIP(ctx, jail, ips...)
}

func (h *recordingHost) DelIgnoreIP(ctx context.Context, jail, ip string) ([]string, error) {
	h.saw("DelIgnoreIP")
	return h.c.DelIgnoreIP(ctx, jail, ip)
}

func (h *recordingHost) SetIgnoreSelf(ctx context.Context, jail string, on bool) (bool, error) {
	h.saw("SetIgnoreSelf")
	return h.c.SetIgnoreSelf(ctx, jail, on)
}

func (h *recordingHost) BannedWithTime(ctx context.Context, jail string, loc *time.Location) ([]fail2ban.BanEntry, error) {
	h.saw("BannedWithTime")
	return h.c.BannedWithTime(ctx, jail, loc)
}

func (h *recordingHost) BannedAll(ctx context.Context) (map[string][]string, error) {
	h.saw("BannedAll")
	return h.c.BannedAll(ctx)
}

func (h *recordingHost) JailsOf(ctx context.Context, ips ...string) ([][]string, error) {
	h.saw("JailsOf")
	return h.c.JailsOf(ctx, ips...)
}

func (h *recordingHost) Ban(ctx context.Context, jail string, ips ...string) (int, error) {
	h.saw("Ban")
	return h.c.Ban(ctx, jail, ips...)
}

func (h *recordingHost) Unban(ctx context.Context, jail string, ips ...string) (int, error) {
	h.saw("Unban")
	return h.c.Unban(ctx, jail, ips...)
}

func (h *recordingHost) UnbanEverywhere(ctx context.Context, ips ...string) (int, error) {
	h.saw("UnbanEverywhere")
	return h.c.UnbanEverywhere(ctx, ips...)
}

func (h *recordingHost) UnbanAll(ctx context.Context) (int, error) {
	h.saw("UnbanAll")
	return h.c.UnbanAll(ctx)
}

func (h *recordingHost) Reload(ctx context.Context, jail string) (string, error) {
	h.saw("Reload")
	return h.runner().Reload(ctx, jail)
}

func (h *recordingHost) Restart(context.Context) (string, error) {
	h.saw("Restart")
	return "", errNotInThisTest
}

func (h *recordingHost) TestConfig(ctx context.Context) (string, error) {
	h.saw("TestConfig")
	return h.runner().TestConfig(ctx)
}

func (h *recordingHost) ConfigDir() string { h.saw("ConfigDir"); return h.sb.ConfigDir }

func (h *recordingHost) LoadConfig(_ context.Context, stack string, overlay map[string][]byte) (*f2bconf.Set, error) {
	h.saw("LoadConfig")
	return f2bconf.Load(h.sb.ConfigDir, stack, f2bconf.Options{Overlay: overlay})
}

func (h *recordingHost) ConfigItems(_ context.Context, folder string) ([]hosts.ConfigItem, error) {
	h.saw("ConfigItems")
	names, err := f2bconf.Names(h.sb.ConfigDir, folder)
	var items []hosts.ConfigItem
	for _, n := range names {
		items = append(items, hosts.ConfigItem{Name: n})
	}
	return items, err
}

func (h *recordingHost) EditableFiles(context.Context) ([]hosts.ConfigFile, error) {
	h.saw("EditableFiles")
	return nil, errNotInThisTest
}

func (h *recordingHost) ReadConfigFile(_ context.Context, name string) (hosts.ConfigFile, error) {
	h.saw("ReadConfigFile")
	b, err := os.ReadFile(filepath.Join(h.sb.ConfigDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return hosts.ConfigFile{Name: name}, nil
	}
	return hosts.ConfigFile{Name: name, Exists: err == nil, Size: int64(len(b)), Data: b}, err
}

func (h *recordingHost) WriteConfigFile(_ context.Context, name string, data []byte) (hosts.Replaced, error) {
	h.saw("WriteConfigFile")
	prev, err := f2bconf.WriteAtomic(filepath.Join(h.sb.ConfigDir, name), data, false)
	return hosts.Replaced{Existed: prev.Existed, Restore: func(context.Context) error { return f2bconf.Restore(prev) }}, err
}

func (h *recordingHost) CreateConfigFile(context.Context, string, []byte) (bool, error) {
	h.saw("CreateConfigFile")
	return false, errNotInThisTest
}

func (h *recordingHost) LockConfig(ctx context.Context) (func(), error) {
	h.saw("LockConfig")
	return f2bconf.Lock(ctx, h.sb.ConfigDir)
}

func (h *recordingHost) TestRegex(ctx context.Context, t fail2ban.RegexTest) (fail2ban.RegexResult, error) {
	h.saw("TestRegex")
	return fail2ban.RegexRunner{}.Test(ctx, t)
}

func (h *recordingHost) CheckFilter(ctx context.Context, name string) error {
	h.saw("CheckFilter")
	return fail2ban.RegexRunner{}.CheckFilter(ctx, h.sb.ConfigDir, name)
}

func (h *recordingHost) LogDirs() []string { h.saw("LogDirs"); return []string{h.sb.Dir} }

func (h *recordingHost) TailLog(context.Context, string, int, string) (hosts.LogTail, error) {
	h.saw("TailLog")
	return hosts.LogTail{}, errNotInThisTest
}

// BanRows opens the sandbox's database on its own (closed with the test's sandbox).
func (h *recordingHost) BanRows(ctx context.Context) (repo.BanRowSource, error) {
	h.saw("BanRows")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.db == nil {
		db, err := repo.OpenFail2BanDB(ctx, h.sb.DBFile)
		if err != nil {
			return nil, err
		}
		h.db = db
	}
	return h.db, nil
}

// close closes what BanRows opened.
func (h *recordingHost) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.db != nil {
		h.db.Close()
	}
}

// jailsOf asks a sandbox directly where ip is banned.
func jailsOf(t *testing.T, sb *sandbox.Sandbox, ip string) []string {
	t.Helper()
	where, err := sb.Client().JailsOf(context.Background(), ip)
	if err != nil {
		t.Fatal(err)
	}
	return where[0]
}

// TestSecondHostDrivesTheSameServices runs the jails, status and
// configuration use cases on a registry with two hosts: the local one on
// one fail2ban sandbox and a recordingHost on another. What is asked of
// the second host happens in the second fail2ban only, and reaches it
// through the Host interface.
func TestSecondHostDrivesTheSameServices(t *testing.T) {
	first := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	second := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5}, sandbox.Jail{Name: "web", Filter: "sshd", MaxRetry: 7})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: first.SocketPath, ConfigDir: first.ConfigDir, LogDirs: []string{first.Dir}})
	edge := newRecordingHost("edge", second)
	if err := reg.Add(edge); err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(newRecordingHost("edge", second)); err == nil {
		t.Fatal("a second host with the same id was registered")
	}
	probe := services.NewStatusProbe(reg)
	jails := services.NewJails(reg, probe, nil)
	conf := configuration.New(reg, probe, configuration.Options{})
	ctx := context.Background()
	page := models.Page{Number: 1, Size: 50}
	const local = models.LocalHost

	// Ban on the second host: only the second fail2ban bans.
	res, err := jails.Ban(ctx, "edge", "web", []string{"192.0.2.7", "198.51.100.0/24"})
	if err != nil || res.NewBans != 2 {
		t.Fatalf("ban on edge: %+v, %v", res, err)
	}
	if got := jailsOf(t, second, "192.0.2.7"); !slices.Equal(got, []string{"web"}) {
		t.Fatalf("the second fail2ban bans 192.0.2.7 in %v, want [web]", got)
	}
	if got := jailsOf(t, first, "192.0.2.7"); len(got) != 0 {
		t.Fatalf("the local fail2ban bans 192.0.2.7 in %v, want nowhere", got)
	}
	bans, total, err := jails.ActiveBans(ctx, "edge", "", page)
	if err != nil || total != 2 || len(bans) != 2 || bans[0].Jail != "web" {
		t.Fatalf("active bans on edge: %+v (%d), %v", bans, total, err)
	}
	if _, total, err := jails.ActiveBans(ctx, local, "", page); err != nil || total != 0 {
		t.Fatalf("active bans on the local host: %d, %v", total, err)
	}
	list, err := jails.List(ctx, "edge")
	if err != nil || len(list) != 2 || list[1].Name != "web" || list[1].CurrentlyBanned != 2 || list[1].MaxRetry != 7 {
		t.Fatalf("jails of edge: %+v, %v", list, err)
	}
	if list, err := jails.List(ctx, local); err != nil || len(list) != 1 || list[0].Name != "sshd" {
		t.Fatalf("jails of the local host: %+v, %v", list, err)
	}

	// The status probe reports both hosts.
	probe.Refresh(ctx)
	if st := probe.Current("edge"); !st.Online || st.ActiveJails != 2 || st.Banned != 2 {
		t.Fatalf("status of edge: %+v", st)
	}
	if st := probe.Current(local); !st.Online || st.ActiveJails != 1 || st.Banned != 0 {
		t.Fatalf("status of the local host: %+v", st)
	}

	// Ignore list and jail detail of the second host.
	ignores, err := jails.AddIgnore(ctx, "edge", "web", []string{"203.0.113.9"})
	if err != nil || !slices.Contains(ignores, "203.0.113.9") {
		t.Fatalf("add ignore on edge: %v, %v", ignores, err)
	}
	d, err := jails.Detail(ctx, "edge", "web")
	if err != nil || !slices.Contains(d.IgnoreIPs, "203.0.113.9") || d.CurrentlyBanned != 2 || d.MaxRetry != 7 {
		t.Fatalf("detail of web on edge: %+v, %v", d, err)
	}
	if _, err := jails.Detail(ctx, local, "web"); !errors.Is(err, fail2ban.ErrUnknownJail) {
		t.Fatalf("detail of web on the local host: %v, want ErrUnknownJail", err)
	}
	if l, err := first.Client().IgnoreIPs(ctx, "sshd"); err != nil || slices.Contains(l, "203.0.113.9") {
		t.Fatalf("the local fail2ban's ignore list: %v, %v", l, err)
	}

	// Unban everywhere on the second host.
	if n, err := jails.Unban(ctx, "edge", "", []string{"192.0.2.7"}); err != nil || n != 1 {
		t.Fatalf("unban on edge: %d, %v", n, err)
	}
	if got := jailsOf(t, second, "192.0.2.7"); len(got) != 0 {
		t.Fatalf("the second fail2ban still bans 192.0.2.7 in %v", got)
	}

	// The configuration comes from the second host's directory, and an
	// edit there changes only the second fail2ban.
	jc, err := conf.Jail(ctx, "edge", "web")
	if err != nil || jc.Form.MaxRetry != "7" || !jc.Running {
		t.Fatalf("configuration of web on edge: %+v, %v", jc, err)
	}
	if _, err := conf.Jail(ctx, local, "web"); !errors.Is(err, configuration.ErrNotFound) {
		t.Fatalf("configuration of web on the local host: %v, want configuration.ErrNotFound", err)
	}
	form := jc.Form
	form.MaxRetry = "9"
	applied, err := conf.SaveJail(ctx, "edge", "web", form)
	if err != nil || !applied.OK {
		t.Fatalf("save web on edge: %+v, %v", applied, err)
	}
	if n, err := second.Client().MaxRetry(ctx, "web"); err != nil || n != 9 {
		t.Fatalf("the second fail2ban runs web with maxretry %d, %v; want 9", n, err)
	}
	if _, err := os.Stat(filepath.Join(first.ConfigDir, "jail.d", "web.local")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the local configuration directory got web.local: %v", err)
	}

	// An id the registry does not know.
	if _, err := jails.List(ctx, "nowhere"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("jails of an unknown host: %v", err)
	}
	if _, err := jails.Ban(ctx, "nowhere", "sshd", []string{"192.0.2.8"}); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("ban on an unknown host: %v", err)
	}
	if _, err := conf.Jails(ctx, "nowhere"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("configuration of an unknown host: %v", err)
	}
	if st := probe.RefreshHost(ctx, "nowhere"); st.Online {
		t.Fatalf("status of an unknown host: %+v", st)
	}

	// Everything reached the second fail2ban through the recording host.
	got := edge.received()
	for _, want := range []string{"RequireJail", "Ban", "AllJailStatus", "BannedWithTime", "JailBasics", "Version",
		"AddIgnoreIP", "JailSettings", "JailsOf", "UnbanEverywhere", "LoadConfig", "LockConfig", "ReadConfigFile",
		"WriteConfigFile", "TestConfig", "Reload", "MaxRetry"} {
		if !slices.Contains(got, want) {
			t.Errorf("the recording host never received %s; it received %v", want, got)
		}
	}
}
