package allowlist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/configuration"
	"bangui/services/internal/servicetest"
)

// adminJailLocal is the administrator's own jail.local: a DEFAULT ignore
// list and a jail (beta) with its own, which hides DEFAULT's in fail2ban.
const adminJailLocal = "[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n\n[beta]\n# the partner's scanner\nignoreip = 203.0.113.9\n"

type fixture struct {
	al    *AllowList
	sb    *sandbox.Sandbox
	reg   *hosts.Registry
	audit *repo.AuditStore
}

// newFixture starts fail2ban with the jails alpha (whose ignore list comes
// from DEFAULT) and beta (with its own), the admin's jail.local, and the
// allow-list on a real SQLite database.
func newFixture(t *testing.T) fixture {
	t.Helper()
	sb := sandboxtest.Start(t,
		sandbox.Jail{Name: "alpha", Filter: "sshd", MaxRetry: 3},
		sandbox.Jail{Name: "beta", Filter: "sshd", MaxRetry: 3},
	)
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.local"), []byte(adminJailLocal), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, LogDirs: []string{sb.Dir}})
	probe := services.NewStatusProbe(reg)
	conf := configuration.New(reg, probe, configuration.Options{})
	if err := conf.ReloadAll(context.Background(), models.LocalHost); err != nil {
		t.Fatal(err)
	}
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	al := New(reg, conf, repo.NewAllowStore(db), services.NewJails(reg, probe, nil))
	audit := repo.NewAuditStore(db)
	al.Audit = audit
	return fixture{al: al, sb: sb, reg: reg, audit: audit}
}

func (f fixture) ignoreList(t *testing.T, jail string) []string {
	t.Helper()
	l, err := f.sb.Client().IgnoreIPs(context.Background(), jail)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (f fixture) file(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.sb.ConfigDir, File))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func (f fixture) banned(t *testing.T, jail string) []string {
	t.Helper()
	all, err := f.sb.Client().BannedAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return all[jail]
}

func mustAllow(t *testing.T, f fixture, reqs ...models.AllowRequest) []models.AddressResult {
	t.Helper()
	res, err := f.al.Allow(services.WithActor(context.Background(), "ann"), models.LocalHost, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.OK {
			t.Fatalf("Allow %s: %s", r.Address, r.Message.Error())
		}
	}
	return res
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond) // a poll interval, not a wait for an outcome
	}
}

// TestAllowHoldsAgainstBurstReloadAndRestart: an entry for every jail and
// one for a jail with its own ignore list both hold, live and in the file;
// an allow-listed address is not banned by a burst of failed logins; the
// entries survive a reload and a restart of fail2ban.
func TestAllowHoldsAgainstBurstReloadAndRestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mustAllow(t, f,
		models.AllowRequest{Address: "192.0.2.50", Note: "office"},
		models.AllowRequest{Address: "198.51.100.0/24", Jails: []string{"beta"}, Note: "partner"},
	)
	check := func(when string) {
		t.Helper()
		alpha, beta := f.ignoreList(t, "alpha"), f.ignoreList(t, "beta")
		if !slices.Contains(alpha, "192.0.2.50") || slices.Contains(alpha, "198.51.100.0/24") || !slices.Contains(alpha, "::1") {
			t.Errorf("%s: alpha's ignore list = %v", when, alpha)
		}
		for _, want := range []string{"192.0.2.50", "198.51.100.0/24", "203.0.113.9"} {
			if !slices.Contains(beta, want) {
				t.Errorf("%s: beta's ignore list %v lacks %s", when, beta, want)
			}
		}
	}
	check("after Allow")
	if !strings.Contains(f.file(t), "%(known/ignoreip)s") {
		t.Errorf("the file does not keep the jails' own lists:\n%s", f.file(t))
	}

	// A burst from the allow-listed address and from another one: the
	// other is banned, the allow-listed one is not.
	for _, ip := range []string{"192.0.2.50", "192.0.2.99"} {
		if err := f.sb.FailedLogins("alpha", ip, 6); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "the control address to be banned", func() bool { return slices.Contains(f.banned(t, "alpha"), "192.0.2.99") })
	if slices.Contains(f.banned(t, "alpha"), "192.0.2.50") {
		t.Fatal("the allow-listed address was banned")
	}

	h, _ := f.reg.Get(models.LocalHost)
	if _, err := h.Reload(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the jails after reload", func() bool {
		st, err := f.sb.Client().Status(ctx)
		return err == nil && len(st.Jails) == 2
	})
	check("after reload")
	if err := f.sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	check("after restart")

	list, err := f.al.List(ctx, models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	var mine, readOnly int
	for _, it := range list.Items {
		switch {
		case it.ID != 0:
			mine++
			if !it.Applied || it.AddedBy != "ann" {
				t.Errorf("entry %+v: not applied or wrong author", it)
			}
		case it.Address == "203.0.113.9":
			readOnly++
			if it.File != "jail.local" || it.Line != 6 || !slices.Equal(it.Jails, []string{"beta"}) || !it.ReadOnly() {
				t.Errorf("read-only entry = %+v, want jail.local line 6, beta", it)
			}
		}
	}
	if mine != 2 || readOnly != 1 {
		t.Fatalf("List = %+v", list.Items)
	}
}

// TestAllowUnbansAndRemoveReverses: allow-listing a banned address unbans
// it and says so; removing takes it off the file and the running jails but
// leaves what the admin's files list.
func TestAllowUnbansAndRemoveReverses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.sb.Client().Ban(ctx, "alpha", "192.0.2.70"); err != nil {
		t.Fatal(err)
	}
	res := mustAllow(t, f, models.AllowRequest{Address: "192.0.2.64/28", Jails: []string{"alpha"}},
		models.AllowRequest{Address: "203.0.113.9"})
	if !strings.Contains(res[0].Message.Error(), "unbanned, in alpha") {
		t.Errorf("message = %q, want it to say the address was unbanned in alpha", res[0].Message.Error())
	}
	if slices.Contains(f.banned(t, "alpha"), "192.0.2.70") {
		t.Fatal("still banned")
	}
	list, _ := f.al.List(ctx, models.LocalHost)
	var ids []int64
	for _, it := range list.Items {
		if it.ID != 0 {
			ids = append(ids, it.ID)
		}
	}
	out, err := f.al.Remove(ctx, models.LocalHost, append(ids, 99999))
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].OK || !out[1].OK || out[2].OK || out[2].Message.Error() == "" {
		t.Fatalf("Remove = %+v", out)
	}
	if l := f.ignoreList(t, "alpha"); slices.Contains(l, "192.0.2.64/28") || slices.Contains(l, "203.0.113.9") {
		t.Errorf("alpha still holds removed entries: %v", l)
	}
	// beta's own list (jail.local) still has its entry.
	if l := f.ignoreList(t, "beta"); !slices.Contains(l, "203.0.113.9") {
		t.Errorf("beta lost the entry of jail.local: %v", l)
	}
	if strings.Contains(f.file(t), "203.0.113.9") || strings.Contains(f.file(t), "192.0.2.64") {
		t.Errorf("the file still lists removed entries:\n%s", f.file(t))
	}
}

// TestExpiryRemovesOnTime: an entry with a five-second expiry leaves the
// file and the running jails once it ends (and not before), also after a
// restart of fail2ban and of the panel (a new AllowList on the same
// database) in between, and the audit log records it.
func TestExpiryRemovesOnTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	end := time.Now().Add(5 * time.Second)
	mustAllow(t, f, models.AllowRequest{Address: "192.0.2.80", Expires: end})
	if err := f.sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := New(f.reg, f.al.config, f.al.store, f.al.jails)
	restarted.Audit = f.audit
	f.al = restarted
	if n, err := f.al.ExpireDue(ctx); n != 0 || err != nil {
		t.Fatalf("ExpireDue before the end = %d, %v", n, err)
	}
	gone := func() bool {
		return !strings.Contains(f.file(t), "192.0.2.80") && !slices.Contains(f.ignoreList(t, "alpha"), "192.0.2.80") &&
			!slices.Contains(f.ignoreList(t, "beta"), "192.0.2.80")
	}
	if gone() {
		t.Fatal("the entry is not in place before its end")
	}
	deadline := end.Add(3 * time.Second)
	for !gone() {
		if time.Now().After(deadline) {
			t.Fatalf("the entry was still in place 3 s after its end:\n%s", f.file(t))
		}
		if _, err := f.al.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(end) && gone() {
			t.Fatal("removed before its end")
		}
		time.Sleep(100 * time.Millisecond) // the job's interval in this test
	}
	entries, _, err := f.audit.List(ctx, models.AuditFilter{Action: models.AuditAllowExpire}, models.Page{Number: 1, Size: 10})
	if err != nil || len(entries) != 1 || entries[0].Actor != ExpiryActor || entries[0].Target != "192.0.2.80" || entries[0].Result != "ok" {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
}

// TestAllowRefusesBadInput: malformed addresses, unknown jails, an expiry
// in the past and oversized lists get a message each; markup in a note is
// kept as text; a refused batch writes nothing.
func TestAllowRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.al.Allow(ctx, models.LocalHost, []models.AllowRequest{
		{Address: "192.0.2.300"},
		{Address: "0.0.0.0/0"},
		{Address: "a;b"},
		{Address: "192.0.2.5", Expires: time.Now().Add(-time.Minute)},
		{Address: "192.0.2.6", Jails: []string{"nosuch"}},
		{Address: "192.0.2.7", Note: strings.Repeat("x", MaxNote+1)},
		{Address: "192.0.2.8", Note: "<script>alert(1)</script>"},
		{Address: "192.0.2.8"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"is not an IP address", "covers every address", "not an IP address, CIDR range or DNS name",
		"in the past", "No jail of this host is called nosuch", "at most 500", "", "listed twice"} {
		if want == "" {
			if !res[i].OK {
				t.Errorf("%d: %+v", i, res[i])
			}
			continue
		}
		if res[i].OK || !strings.Contains(res[i].Message.Error(), want) {
			t.Errorf("%d: %+v, want a refusal saying %q", i, res[i], want)
		}
	}
	list, _ := f.al.List(ctx, models.LocalHost)
	if i := slices.IndexFunc(list.Items, func(it models.AllowItem) bool { return it.Address == "192.0.2.8" }); i < 0 || list.Items[i].Note != "<script>alert(1)</script>" {
		t.Fatalf("the note with markup was not kept as text: %+v", list.Items)
	}

	before := f.file(t)
	var big []models.AllowRequest
	for i := range MaxEntries + 1 {
		big = append(big, models.AllowRequest{Address: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)})
	}
	if _, err := f.al.Allow(ctx, models.LocalHost, big); !errors.Is(err, ErrTooMany) {
		t.Fatalf("%d entries: %v, want ErrTooMany", len(big), err)
	}
	// Together with the entry there already, 10,000 more are too many too.
	if _, err := f.al.Allow(ctx, models.LocalHost, big[:MaxEntries]); !errors.Is(err, ErrTooMany) {
		t.Fatalf("%d more entries: %v, want ErrTooMany", MaxEntries, err)
	}
	if f.file(t) != before {
		t.Fatal("a refused batch changed the file")
	}
}

// TestTenThousandEntriesWork: a list of 10,000 entries is written, tested
// and applied in one change.
func TestTenThousandEntriesWork(t *testing.T) {
	f := newFixture(t)
	var big []models.AllowRequest
	for i := range MaxEntries {
		big = append(big, models.AllowRequest{Address: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)})
	}
	start := time.Now()
	res := mustAllow(t, f, big...)
	t.Logf("10,000 entries allowed in %s", time.Since(start))
	if len(res) != MaxEntries {
		t.Fatal(len(res))
	}
	if l := f.ignoreList(t, "alpha"); len(l) < MaxEntries {
		t.Fatalf("alpha holds %d entries", len(l))
	}
	start = time.Now()
	list, err := f.al.List(context.Background(), models.LocalHost)
	if err != nil || len(list.Items) < MaxEntries {
		t.Fatalf("List: %d items, %v", len(list.Items), err)
	}
	for _, it := range list.Items {
		if it.ID != 0 && !it.Applied {
			t.Fatalf("not applied: %+v", it)
		}
	}
	t.Logf("a list of 10,000 entries read in %s", time.Since(start))
}

// TestConcurrentChangesAreSerialized: two changes at once both land, and
// the one that waited says so.
func TestConcurrentChangesAreSerialized(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	msgs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.al.Allow(context.Background(), models.LocalHost, []models.AllowRequest{{Address: fmt.Sprintf("192.0.2.%d", 10+i)}})
			if err != nil || !res[0].OK {
				t.Errorf("Allow %d: %+v, %v", i, res, err)
				return
			}
			msgs[i] = res[0].Message.Error()
		}()
	}
	wg.Wait()
	if !strings.Contains(f.file(t), "192.0.2.10") || !strings.Contains(f.file(t), "192.0.2.11") {
		t.Fatalf("one change was lost:\n%s", f.file(t))
	}
	if !strings.Contains(msgs[0]+msgs[1], BusyNote.Error()) {
		t.Errorf("neither message says it waited: %q", msgs)
	}
}

// TestAllowDNSNameReloadsItsJails: fail2ban's socket takes addresses only,
// so a DNS name reaches the running jails by reloading those it covers.
func TestAllowDNSNameReloadsItsJails(t *testing.T) {
	f := newFixture(t)
	res := mustAllow(t, f, models.AllowRequest{Address: "Monitor.Example.", Jails: []string{"alpha"}})
	if !strings.Contains(res[0].Message.Error(), "reloading alpha") {
		t.Errorf("message = %q, want it to say alpha was reloaded", res[0].Message.Error())
	}
	if l := f.ignoreList(t, "alpha"); !slices.Contains(l, "monitor.example") {
		t.Fatalf("alpha's ignore list = %v", l)
	}
	if l := f.ignoreList(t, "beta"); slices.Contains(l, "monitor.example") {
		t.Fatalf("beta's ignore list = %v", l)
	}
}
