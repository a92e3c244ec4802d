package rules_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/uptrace/bun"

	"bangui/events"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/alerts"
	"bangui/services/alerts/alertstest"
	"bangui/services/alerts/rules"
	"bangui/services/internal/servicetest"
)

// panel is the part of a panel process that alerts: the archive tail and
// the status probe on a real fail2ban, the rules' evaluator and the
// delivery queue on a real SQLite file. The delivery's clock is a fake the
// test moves (waits and backoffs of minutes take no time); the test runs
// its rounds.
type panel struct {
	db       *bun.DB
	bus      *events.Broker
	reg      *hosts.Registry
	probe    *services.StatusProbe
	delivery *alerts.Delivery
	eval     *rules.Evaluator
	stop     func()
}

func startPanel(t *testing.T, dir string, sb *sandbox.Sandbox, clock clockwork.Clock, sender *alerts.Sender) *panel {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p := &panel{db: db, bus: events.New()}
	p.reg = servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, LogDirs: []string{sb.Dir}})
	p.probe = services.NewStatusProbe(p.reg)
	p.probe.Events = p.bus
	tail := services.NewArchiveSync(services.NewBanSources(p.reg, repo.NewHistoryArchive(db)), repo.NewSettingsStore(db))
	tail.Events = p.bus
	p.delivery = alerts.NewDelivery(repo.NewAlertStore(db), alerts.Options{Clock: clock, Sender: sender})
	p.eval = &rules.Evaluator{Store: repo.NewAlertRuleStore(db), Events: p.bus, Sink: p.delivery, State: repo.NewSettingsStore(db),
		Failures: rules.HostLogs{Hosts: p.reg}, FailEvery: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := p.eval.Start(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { tail.Tail(ctx, services.DefaultTailEvery) })
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			wg.Wait()
			p.reg.Close()
			db.Close()
		})
	}
	t.Cleanup(p.stop)
	return p
}

// queued polls until the queue holds n alerts (one row per channel), for
// up to 60 s.
func (p *panel) queued(t *testing.T, n int) {
	t.Helper()
	store := repo.NewAlertStore(p.db)
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := store.QueuedAlerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("%d alerts queued, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond) // polling, not waiting for an outcome
	}
}

// rounds moves the clock by step and runs a delivery round, n times.
func (p *panel) rounds(t *testing.T, clock *clockwork.FakeClock, step time.Duration, n int) {
	t.Helper()
	for range n {
		clock.Advance(step)
		if err := p.delivery.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// subjects are the subjects each receiver got, in order: the webhook's
// (whose signatures were all right) and the e-mails'.
func subjects(t *testing.T, hook *alertstest.Webhook, mail *alertstest.SMTP) (web, smtp []string) {
	t.Helper()
	if n := hook.BadSignatures(); n != 0 {
		t.Fatalf("%d webhook requests with a wrong signature", n)
	}
	for _, b := range hook.Bodies() {
		web = append(web, fmt.Sprint(b["subject"]))
	}
	for _, m := range mail.Mails() {
		_, after, _ := strings.Cut(m.Data, "\r\nSubject: ")
		subject, _, _ := strings.Cut(after, "\r\n")
		smtp = append(smtp, subject)
	}
	return web, smtp
}

// TestAlertsEndToEnd runs the alerts of a panel on a real fail2ban to a
// real webhook receiver (HMAC checked) and a real SMTP server (STARTTLS,
// AUTH): a burst of 500 bans is one message per rule and channel after the
// wait; failures of a watched address alert; a receiver down for 30 s
// gets its message once after it returns; fail2ban stopped and started
// sends a down and an up message with the outage; a panel restarted with
// queued alerts delivers them once and does not tell the spike again.
func TestAlertsEndToEnd(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "web", Filter: "sshd"})
	ctx := context.Background()
	dir := t.TempDir()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	cert, pool := alertstest.SelfSigned(t)
	hook := alertstest.NewWebhook(t, alerts.SignatureHeader, "hook-key-0123456789")
	mail := alertstest.StartSMTP(t, cert, false, "alerts", "mail-pass-42")
	sender := alerts.NewSender(3 * time.Second)
	sender.TLS = &tls.Config{RootCAs: pool}
	p := startPanel(t, dir, sb, clock, sender)
	if st := p.probe.RefreshHost(ctx, "local"); !st.Online {
		t.Fatalf("status %+v, want online", st)
	}

	store := repo.NewAlertStore(p.db)
	var channels []int64
	for _, c := range []struct {
		name, kind, secret string
		cfg                alerts.Config
	}{
		{"hook", alerts.KindWebhook, "hook-key-0123456789", alerts.Config{URL: hook.URL + "/bangui"}},
		{"mail", alerts.KindEmail, "mail-pass-42", alerts.Config{Host: "127.0.0.1", Port: mail.Port, Security: alerts.SMTPStartTLS,
			Username: "alerts", From: "bangui@example.org", To: []string{"ops@example.org"}}},
	} {
		b, _ := json.Marshal(c.cfg)
		ch := models.AlertChannel{Name: c.name, Kind: c.kind, Config: string(b), Secret: c.secret}
		if err := store.SaveChannel(ctx, &ch); err != nil {
			t.Fatal(err)
		}
		channels = append(channels, ch.ID)
	}
	svc := rules.NewService(repo.NewAlertRuleStore(p.db))
	for _, r := range []rules.Rule{
		{Name: "storm", Kind: rules.KindSpike, Params: rules.Params{Bans: 450, Minutes: 10, Per: "all"}},
		{Name: "watched", Kind: rules.KindWatch, Params: rules.Params{Addresses: []string{"198.51.100.0/23"}}},
		{Name: "fail2ban", Kind: rules.KindDown},
	} {
		r.Channels, r.Enabled, r.Wait = channels, true, time.Minute
		if r.Kind == rules.KindDown {
			r.Wait = 0
		}
		if _, err := svc.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	// A burst of 500 bans in two jails, all inside the watched range.
	for jail, third := range map[string]int{"sshd": 100, "web": 101} {
		ips := make([]string, 250)
		for i := range ips {
			ips[i] = fmt.Sprintf("198.51.%d.%d", third, i+1)
		}
		for batch := range slices.Chunk(ips, 25) { // one command each: a loaded machine answers within the client's timeout
			if _, err := sb.Client().Ban(ctx, jail, batch...); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.queued(t, 2*(1+500)) // the spike once and each watched ban, for each channel
	p.rounds(t, clock, 59*time.Second, 1)
	if web, smtp := subjects(t, hook, mail); len(web)+len(smtp) != 0 {
		t.Fatalf("sent within the wait: %q, %q", web, smtp)
	}
	p.rounds(t, clock, 2*time.Second, 2)
	web, smtp := subjects(t, hook, mail)
	slices.Sort(web)
	slices.Sort(smtp)
	want := []string{"500 alerts: watched", "Ban spike: 451 bans in 10 minutes in all"}
	if len(web) != 2 || web[0] != want[0] || !strings.HasPrefix(web[1], "Ban spike: ") || !strings.HasSuffix(web[1], " bans in 10 minutes in all") ||
		!slices.Equal(smtp, web) {
		t.Fatalf("after the burst the webhook got %q and the mail %q, want one each of %q", web, smtp, want)
	}
	if b := hook.Bodies(); b[0]["alerts"] != float64(500) && b[1]["alerts"] != float64(500) {
		t.Errorf("the grouped message %v does not count 500 alerts", b)
	}

	// The webhook goes down; failures of a watched address are found in
	// the jail's log; the mail gets the alert, the webhook once it is back
	// after 30 s.
	hook.Stop()
	f, err := os.OpenFile(sb.LogPath("sshd"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from 198.51.101.251 port %d ssh2\n", time.Now().Format(time.Stamp), 4000+i, 50000+i)
	}
	f.Close()
	p.queued(t, 2)
	p.rounds(t, clock, 61*time.Second, 1)
	p.rounds(t, clock, 10*time.Second, 3) // 30 s down: retried, refused
	web, smtp = subjects(t, hook, mail)
	failing := "Watched address 198.51.101.251 failing"
	if len(web) != 2 || len(smtp) != 3 || smtp[2] != failing {
		t.Fatalf("with the webhook down: webhook %q, mail %q; want the failure by mail only", web, smtp)
	}
	if err := hook.Start(); err != nil {
		t.Fatal(err)
	}
	p.rounds(t, clock, 10*time.Second, 30)
	if web, _ = subjects(t, hook, mail); len(web) != 3 || web[2] != failing {
		t.Fatalf("after the webhook came back it got %q, want the failure once", web)
	}

	// fail2ban stops and starts again.
	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.probe.RefreshHost(ctx, "local"); st.Online {
		t.Fatalf("status %+v after stop, want offline", st)
	}
	p.queued(t, 2)
	p.rounds(t, clock, time.Second, 1)
	if err := sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.probe.RefreshHost(ctx, "local"); !st.Online {
		t.Fatalf("status %+v after restart, want online", st)
	}
	p.queued(t, 2)
	p.rounds(t, clock, time.Second, 1)
	web, smtp = subjects(t, hook, mail)
	if len(web) != 5 || !slices.Equal(web[3:], smtp[3:]) || web[3] != "fail2ban down on local" ||
		!strings.HasPrefix(web[4], "fail2ban back up on local after ") {
		t.Fatalf("after fail2ban stopped and started: webhook %q, mail %q", web, smtp)
	}
	if b := hook.Bodies()[4]; !strings.Contains(fmt.Sprint(b["body"]), "it was down for ") {
		t.Errorf("the up message %v does not say how long fail2ban was down", b)
	}

	// A watched address is banned; the panel stops before the wait ends
	// and starts again: the ban is told once, the spike not again.
	if _, err := sb.Client().Ban(ctx, "sshd", "198.51.101.252"); err != nil {
		t.Fatal(err)
	}
	p.queued(t, 2)
	p.stop()
	p = startPanel(t, dir, sb, clock, sender)
	p.eval.Handle(ctx, events.Event{Topic: events.TopicArchive}) // the spike's 500 bans are still within its window
	p.rounds(t, clock, time.Minute, 3)
	web, smtp = subjects(t, hook, mail)
	banned := "Watched address 198.51.101.252 banned"
	if len(web) != 6 || len(smtp) != 6 || web[5] != banned || smtp[5] != banned {
		var times []int64
		_ = p.db.NewSelect().TableExpr("history_archive").Column("timeofban").Where("ip = ?", "198.51.101.252").Scan(ctx, &times)
		checked, _ := repo.NewSettingsStore(p.db).Get(ctx, "alerts.archive_checked")
		t.Fatalf("after the restart: webhook %q, mail %q; want the ban once each; last: %v; ban times %v, checked %s", web, smtp, hook.Bodies()[len(web)-1], times, checked)
	}
	if n, _ := repo.NewAlertStore(p.db).QueuedAlerts(ctx); n != 0 {
		t.Errorf("%d alerts queued after the restart, want none (no spike told again)", n)
	}
}
