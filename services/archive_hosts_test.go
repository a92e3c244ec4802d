package services_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/events"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// TestArchiveSyncKeepsEveryHostsEvents syncs two hosts — the local one and
// a recordingHost, each on its own fail2ban — into one archive: the same
// ban on both hosts is kept twice, each event names its host, a host
// filter sees only its own, the history service reads every host from the
// archive, and each sync that stored events is published on the broker.
func TestArchiveSyncKeepsEveryHostsEvents(t *testing.T) {
	first := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	second := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: first.SocketPath, ConfigDir: first.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	edge := newRecordingHost("edge", second)
	t.Cleanup(edge.close)
	if err := reg.Add(edge); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	sources := services.NewBanSources(reg, archive)
	sync := services.NewArchiveSync(sources, repo.NewSettingsStore(db))
	sync.Events = events.New()
	published, stop := context.WithCancel(ctx)
	defer stop()
	archived := sync.Events.Subscribe(published, events.TopicArchive)

	jails := services.NewJails(reg, nil, nil)
	if _, err := jails.Ban(ctx, models.LocalHost, "sshd", []string{"192.0.2.50", "192.0.2.51"}); err != nil {
		t.Fatal(err)
	}
	if _, err := jails.Ban(ctx, "edge", "sshd", []string{"192.0.2.50"}); err != nil {
		t.Fatal(err)
	}

	// fail2ban writes its database in the jail's thread: sync until both
	// hosts' rows are in (or 10 s pass).
	all := models.HistoryFilter{Action: repo.ActionBan}
	page := models.Page{Number: 1, Size: 10}
	var bans []models.BanRecord
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := sync.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if bans, _, err = archive.Bans(ctx, all, page); err != nil {
			t.Fatal(err)
		}
		if len(bans) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, b := range bans {
		got = append(got, b.Host+" "+b.IP)
	}
	slices.Sort(got)
	want := []string{"edge 192.0.2.50", "local 192.0.2.50", "local 192.0.2.51"}
	if !slices.Equal(got, want) {
		t.Fatalf("archive holds %q, want %q", got, want)
	}

	// A host filter sees its own events only.
	edgeOnly := all
	edgeOnly.Host = "edge"
	if bans, total, err := archive.Bans(ctx, edgeOnly, page); err != nil || total != 1 || bans[0].Host != "edge" {
		t.Fatalf("edge's events: %+v (%d), %v", bans, total, err)
	}

	// With two hosts, "every host" reads the archive; one host with a
	// database of its own may read it directly.
	h := services.NewHistory(sources, jails)
	everyHost, err := h.History(ctx, services.HistoryQuery{Range: models.Range24h, Source: services.SourceFail2ban, Page: page})
	if err != nil || everyHost.Source != services.SourceArchive || everyHost.Total != 3 {
		t.Fatalf("history of every host: source %q, %d events, %v; want the archive's 3", everyHost.Source, everyHost.Total, err)
	}
	edgeHistory, err := h.History(ctx, services.HistoryQuery{Host: "edge", Range: models.Range24h, Source: services.SourceFail2ban, Page: page})
	if err != nil || edgeHistory.Source != services.SourceArchive || edgeHistory.Total != 1 {
		t.Fatalf("history of edge: source %q, %d events, %v; want the archive's 1 (edge's database is not read directly)", edgeHistory.Source, edgeHistory.Total, err)
	}
	localHistory, err := h.History(ctx, services.HistoryQuery{Host: models.LocalHost, Range: models.Range24h, Source: services.SourceFail2ban, Page: page})
	if err != nil || localHistory.Source != services.SourceFail2ban || localHistory.Total != 2 {
		t.Fatalf("history of the local host: source %q, %d events, %v; want fail2ban's 2", localHistory.Source, localHistory.Total, err)
	}

	// Each host's sync that stored events was published, with its host.
	hostsSeen := map[string]int64{}
	for len(hostsSeen) < 2 {
		select {
		case e := <-archived:
			hostsSeen[e.Host] += e.Data.(events.ArchiveSynced).Inserted
		case <-time.After(5 * time.Second):
			t.Fatalf("archive events by host: %v, want local and edge", hostsSeen)
		}
	}
	if hostsSeen[models.LocalHost] != 2 || hostsSeen["edge"] != 1 {
		t.Errorf("published inserts by host = %v, want local 2 and edge 1", hostsSeen)
	}
	if !slices.Contains(edge.received(), "BanRows") {
		t.Error("the sync never asked the recording host for its rows")
	}
}

// The status probe publishes a host's status when it changes, not on
// every check.
func TestStatusProbePublishesChanges(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	probe := services.NewStatusProbe(reg)
	probe.Events = events.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := probe.Events.Subscribe(ctx, events.TopicStatus)
	next := func() (models.ServerStatus, bool) {
		select {
		case e := <-ch:
			return e.Data.(models.ServerStatus), true
		case <-time.After(300 * time.Millisecond):
			return models.ServerStatus{}, false
		}
	}

	probe.Refresh(ctx)
	if st, ok := next(); !ok || !st.Online || st.ActiveJails != 1 {
		t.Fatalf("first refresh published %+v (%v), want online with one jail", st, ok)
	}
	probe.Refresh(ctx)
	if st, ok := next(); ok {
		t.Fatalf("an unchanged refresh published %+v", st)
	}
	if _, err := reg.Local().Ban(ctx, "sshd", "192.0.2.60"); err != nil {
		t.Fatal(err)
	}
	probe.Refresh(ctx)
	if st, ok := next(); !ok || st.Banned != 1 {
		t.Fatalf("refresh after a ban published %+v (%v), want 1 banned", st, ok)
	}
}

// A host's last contact is the last check that found it online; a failed
// check keeps it and says why.
func TestStatusProbeKeepsLastContact(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	probe := services.NewStatusProbe(reg)
	ctx := context.Background()

	online := probe.RefreshHost(ctx, models.LocalHost)
	if !online.Online || online.LastContact.IsZero() || !online.LastContact.Equal(online.CheckedAt) {
		t.Fatalf("online status %+v: want last contact = checked at", online)
	}
	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	offline := probe.RefreshHost(ctx, models.LocalHost)
	if offline.Online || offline.Error.IsZero() || !offline.LastContact.Equal(online.LastContact) || !offline.CheckedAt.After(online.CheckedAt) {
		t.Fatalf("offline status %+v: want the last contact of %+v kept and an error", offline, online)
	}
	probe.Forget(models.LocalHost)
	if st := probe.Current(models.LocalHost); st.Error.Error() != "not checked yet" {
		t.Fatalf("after Forget: %+v", st)
	}
}

// TestArchiveSyncGoesOnWhenAHostIsDown: a host whose fail2ban is gone fails
// its own sync only. The other host's bans are archived in the same run,
// the upkeep after the sync (merge, purge, AfterSync) still runs, and the
// error names the host that failed.
func TestArchiveSyncGoesOnWhenAHostIsDown(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	gone := hosts.NewLocal(hosts.LocalOptions{ID: "gone", Socket: t.TempDir() + "/missing.sock", ConfigDir: t.TempDir()})
	if err := reg.Add(gone); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	sync := services.NewArchiveSync(services.NewBanSources(reg, archive), repo.NewSettingsStore(db))
	upkeep := 0
	sync.AfterSync = func(context.Context) { upkeep++ }

	if _, err := services.NewJails(reg, nil, nil).Ban(ctx, models.LocalHost, "sshd", []string{"192.0.2.60"}); err != nil {
		t.Fatal(err)
	}
	var inserted int64
	for deadline := time.Now().Add(10 * time.Second); inserted == 0 && time.Now().Before(deadline); {
		res, err := sync.Run(ctx)
		if err == nil || !strings.Contains(err.Error(), "gone") {
			t.Fatalf("sync with a dead host: err %v, want one naming the host gone", err)
		}
		inserted += res.Inserted
		if inserted == 0 {
			time.Sleep(50 * time.Millisecond) // fail2ban writes its row in the jail's thread
		}
	}
	if inserted == 0 {
		t.Fatal("the live host's ban was not archived while another host was down")
	}
	if upkeep == 0 {
		t.Fatal("the upkeep after the sync did not run while a host was down")
	}
}
