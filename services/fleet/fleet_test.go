package fleet_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/fleet"
	"bangui/services/internal/servicetest"
)

// panel is the part of a panel the fleet service works in: a real SQLite
// database, a registry with a local host and the status probe.
type panel struct {
	db     *bun.DB
	store  *repo.HostStore
	reg    *hosts.Registry
	status *services.StatusProbe
	fleet  *fleet.Service
}

func newPanel(t *testing.T) *panel {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: filepath.Join(t.TempDir(), "none.sock"), ConfigDir: t.TempDir()})
	t.Cleanup(func() { reg.Close() })
	p := &panel{db: db, store: repo.NewHostStore(db), reg: reg, status: services.NewStatusProbe(reg)}
	p.fleet = fleet.New(p.store, reg, p.status, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return p
}

// deadURL is an https address where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "https://" + ln.Addr().String()
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Web 1":                        "web-1",
		"  Mail--Server #2 ":           "mail-server-2",
		"Ünïcode":                      "n-code",
		"!!!":                          "",
		strings.Repeat("ab", 30):       strings.Repeat("ab", 16),
		"a" + strings.Repeat(" b", 20): "a" + strings.Repeat("-b", 15),
	} {
		if got := fleet.Slug(in); got != want || len(got) > fleet.MaxIDLen {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// A stored host whose agent is gone can still be disabled, enabled and
// removed: removal says the credential could not be revoked, and the host
// leaves the table, the registry and the probe.
func TestManageHostWithDeadAgent(t *testing.T) {
	p := newPanel(t)
	ctx := context.Background()
	fp := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	h := models.RemoteHost{ID: "web-1", Name: "Web 1", URL: deadURL(t), Fingerprint: fp, Credential: "c", Enabled: true}
	if err := p.store.Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := p.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := p.fleet.List(ctx)
	if err != nil || len(list) != 2 || !list[0].Local || list[1].ID != "web-1" || !list[1].Enabled {
		t.Fatalf("list %+v, %v", list, err)
	}
	if _, err := p.reg.Get("web-1"); err != nil || !list[1].Problem.IsZero() {
		t.Fatalf("web-1 not registered: %v; problem %q", err, list[1].Problem)
	}

	if _, err := p.fleet.Rename(ctx, "web-1", "Web\x00"); err == nil {
		t.Error("a name with a control character was taken")
	}
	if got, err := p.fleet.Rename(ctx, "web-1", "Front web"); err != nil || got.Name != "Front web" {
		t.Fatalf("rename: %+v, %v", got, err)
	}
	if got, err := p.fleet.Disable(ctx, "web-1"); err != nil || got.Enabled {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	if _, err := p.reg.Get("web-1"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("a disabled host is still registered: %v", err)
	}
	if _, err := p.fleet.Enable(ctx, "web-1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := p.fleet.List(ctx); !list[1].Enabled || list[1].Name != "Front web" {
		t.Fatalf("after enable: %+v", list[1])
	} else if st := list[1].Status; !list[1].Problem.IsZero() || st.Online || !strings.HasPrefix(st.Error.Error(), "The agent at https://") || !strings.Contains(st.Error.Error(), "does not answer") {
		t.Fatalf("a dead agent's status: %+v", st)
	}

	r, err := p.fleet.Remove(ctx, "web-1")
	if err != nil || r.RevokeError.IsZero() || r.Host.ID != "web-1" {
		t.Fatalf("remove: %+v, %v (want a revoke error: nothing listens)", r, err)
	}
	if _, err := p.store.Get(ctx, "web-1"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("removed host still stored: %v", err)
	}
	if _, err := p.reg.Get("web-1"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("removed host still registered: %v", err)
	}
	if _, err := p.fleet.Remove(ctx, "web-1"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

// Probe checks the whole form before it dials, and says where an address
// does not answer.
func TestProbeRefusesBadInput(t *testing.T) {
	p := newPanel(t)
	ctx := context.Background()
	if err := p.store.Create(ctx, models.RemoteHost{ID: "mail", Name: "Mail", URL: "https://192.0.2.7:9443", Fingerprint: "AA", Credential: "c", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var verr *services.ValidationError
	_, err := p.fleet.Probe(ctx, fleet.EnrollInput{ID: "mail", URL: "https://192.0.2.7:9443/", Token: "T"})
	if !errors.As(err, &verr) || !strings.Contains(verr.Fields["id"][0].Error(), "exists already") || !strings.Contains(verr.Fields["url"][0].Error(), "enrolled already, as the host mail") {
		t.Fatalf("duplicate id and url: %v", err)
	}
	dead := deadURL(t)
	in, err := p.fleet.Probe(ctx, fleet.EnrollInput{Name: "Web 1", URL: strings.ToUpper(dead[:5]) + dead[5:] + "/", Token: " ABCDE-FGHIJ \n KLMNO "})
	if !errors.As(err, &verr) || len(verr.Fields) != 1 || !strings.Contains(verr.Fields["url"][0].Error(), "could not reach an agent at "+dead) {
		t.Fatalf("dead agent: %v", err)
	}
	if in.ID != "web-1" || in.URL != dead || in.Token != "ABCDE-FGHIJKLMNO" {
		t.Fatalf("cleaned input %+v", in)
	}
}

// A stored host the panel cannot set up (its pinned fingerprint is not
// one) stays listed with the reason and is not asked.
func TestHostThatCannotBeSetUpIsListedWithWhy(t *testing.T) {
	p := newPanel(t)
	ctx := context.Background()
	if err := p.store.Create(ctx, models.RemoteHost{ID: "broken", Name: "Broken", URL: deadURL(t), Fingerprint: "not-a-fingerprint", Credential: "c", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := p.fleet.List(ctx)
	if err != nil || len(list) != 2 || !strings.HasPrefix(list[1].Problem.Error(), "The panel could not set up this host: ") {
		t.Fatalf("list %+v, %v", list, err)
	}
	if why := list[1].Problem.In(lang.Get("de")); why != `Das Panel konnte diesen Host nicht einrichten: "not-a-fingerprint" ist kein SHA-256-Fingerabdruck (64 Hexadezimalziffern)` {
		t.Errorf("the reason in German: %q", why)
	}
	if _, err := p.reg.Get("broken"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("a host that could not be set up is registered: %v", err)
	}
}

// Two panel processes on one database: what one changes in the hosts
// table, the other's registry follows at its next Sync.
func TestSyncFollowsAnotherPanel(t *testing.T) {
	a := newPanel(t)
	b := &panel{store: a.store, reg: newPanel(t).reg}
	b.status = services.NewStatusProbe(b.reg)
	b.fleet = fleet.New(b.store, b.reg, b.status, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	fp := strings.TrimSuffix(strings.Repeat("CD:", 32), ":")
	if err := a.store.Create(ctx, models.RemoteHost{ID: "web-2", Name: "Web 2", URL: deadURL(t), Fingerprint: fp, Credential: "c", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	sync := func() {
		t.Helper()
		if err := b.fleet.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	first, err := b.reg.Get("web-2")
	if err != nil || b.reg.Name("web-2") != "Web 2" {
		t.Fatalf("added elsewhere: %v, name %q", err, b.reg.Name("web-2"))
	}
	if _, err := a.fleet.Rename(ctx, "web-2", "Web two"); err != nil {
		t.Fatal(err)
	}
	sync()
	if h, _ := b.reg.Get("web-2"); h != first || b.reg.Name("web-2") != "Web two" {
		t.Fatalf("a rename set the host up again or was missed: name %q", b.reg.Name("web-2"))
	}
	if err := a.store.SetFingerprint(ctx, "web-2", strings.TrimSuffix(strings.Repeat("EF:", 32), ":")); err != nil {
		t.Fatal(err)
	}
	sync()
	if h, _ := b.reg.Get("web-2"); h == first {
		t.Fatal("a new fingerprint did not set the host up again")
	}
	if _, err := a.fleet.Disable(ctx, "web-2"); err != nil {
		t.Fatal(err)
	}
	sync()
	if _, err := b.reg.Get("web-2"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("disabled elsewhere, still registered: %v", err)
	}
	if _, err := a.fleet.Enable(ctx, "web-2"); err != nil {
		t.Fatal(err)
	}
	sync()
	if _, err := b.reg.Get("web-2"); err != nil {
		t.Fatalf("enabled elsewhere, not registered: %v", err)
	}
	if _, err := a.fleet.Remove(ctx, "web-2"); err != nil {
		t.Fatal(err)
	}
	sync()
	if _, err := b.reg.Get("web-2"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("removed elsewhere, still registered: %v", err)
	}
}
