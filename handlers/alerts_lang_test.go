package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"bangui/models"
	"bangui/services/alerts"
	"bangui/services/alerts/alertstest"
	"bangui/services/alerts/rules"
)

// TestAlertsInGerman: what the alert pages get from the services reads in
// German for a German reader — a Send test a real receiver refuses, the
// delivery log's error and state, the channel checks of the service, the
// rules' summaries and channels — and in English for an English one.
func TestAlertsInGerman(t *testing.T) {
	f := newAPIFixture(t)
	admin := loginAs(t, f.a, f.users[models.RoleAdmin])
	admin.headers = map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	ctx := context.Background()

	recv := alertstest.NewWebhook(t, alerts.SignatureHeader, "")
	recv.Answer(http.StatusServiceUnavailable)
	ch := models.AlertChannel{Name: "ops", Kind: alerts.KindWebhook, Config: `{"url":"` + recv.URL + `"}`}
	if err := f.a.s.alerts.Store().SaveChannel(ctx, &ch); err != nil {
		t.Fatal(err)
	}
	res := parse(t, admin.postForm("/alerts/channels/"+itoa(ch.ID)+"/test", "/alerts", nil)).Find(`[data-testid="alert-test-result"]`).Text()
	if !strings.Contains(res, "Test von ops: der Empfänger antwortete 503 Service Unavailable") || strings.Contains(res, "receiver answered") {
		t.Errorf("failed Send test in German: %q", res)
	}

	// An SMTP server that is not there: BanGUI's words in German, the
	// operating system's as they are.
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	host, port, _ := strings.Cut(addr, ":")
	mail := models.AlertChannel{Name: "mail", Kind: alerts.KindEmail, Config: `{"host":"` + host + `","port":` + port +
		`,"security":"starttls","from":"a@example.org","to":["b@example.org"]}`}
	if err := f.a.s.alerts.Store().SaveChannel(ctx, &mail); err != nil {
		t.Fatal(err)
	}
	res = parse(t, admin.postForm("/alerts/channels/"+itoa(mail.ID)+"/test", "/alerts", nil)).Find(`[data-testid="alert-test-result"]`).Text()
	if !strings.Contains(res, "Test von mail: SMTP-Server "+addr+": ") || !strings.Contains(res, "connection refused") {
		t.Errorf("failed Send test by mail in German: %q", res)
	}

	// A queued alert the receiver refuses: the log says why in German.
	if err := f.a.s.alerts.Enqueue(ctx, alerts.Alert{RuleID: 1, RuleName: "r", GroupKey: "g", Subject: "s"}, []int64{ch.ID}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.a.s.alerts.Round(ctx); err != nil {
		t.Fatal(err)
	}
	row := parse(t, admin.get("/alerts/log")).Find(`[data-testid="alert-log"] tbody tr`).First().Text()
	if !strings.Contains(row, "der Empfänger antwortete 503 Service Unavailable") || !strings.Contains(row, "neuer Versuch") {
		t.Errorf("delivery log row in German: %q", row)
	}
	english := loginAs(t, f.a, f.users[models.RoleAdmin])
	english.headers = map[string]string{"Accept-Language": "en"}
	if row := parse(t, english.get("/alerts/log")).Find(`[data-testid="alert-log"] tbody tr`).First().Text(); !strings.Contains(row, "receiver answered 503 Service Unavailable") {
		t.Errorf("delivery log row in English: %q", row)
	}

	// The service's own checks of a channel (after the form's).
	rec := admin.postForm("/alerts/channels", "/alerts", url.Values{"name": {"mail"}, "kind": {"email"}, "host": {"smtp.example.org"},
		"port": {"70000"}, "security": {"starttls"}, "from": {"a@example.org"}, "to": {"b@example.org"}})
	if got := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, "Der SMTP-Port muss zwischen 1 und 65535 liegen") {
		t.Errorf("SMTP port refusal: %d", rec.Code)
	}

	// The rules list: summaries and channels in German.
	for _, r := range []rules.Rule{
		{Name: "spike", Kind: rules.KindSpike, Params: rules.Params{Bans: 5, Minutes: 10, Per: "jail"}, Channels: []int64{ch.ID, 999}, Enabled: true},
		{Name: "digest", Kind: rules.KindDigest, Params: rules.Params{Every: "weekly", At: "08:00"}, Enabled: true},
	} {
		if _, err := f.a.s.alertRules.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	page := parse(t, admin.get("/alerts/rules")).Text()
	for _, want := range []string{"mehr als 5 Sperren in 10 Minuten, pro Jail", "eine wöchentliche Zusammenfassung um 08:00", "ops, #999 (gelöscht)", "keine"} {
		if !strings.Contains(page, want) {
			t.Errorf("the rules page in German lacks %q", want)
		}
	}
	if page := parse(t, english.get("/alerts/rules")).Text(); !strings.Contains(page, "more than 5 bans in 10 minutes, per jail") {
		t.Error("the rules page in English lacks the spike rule's summary")
	}
	rec = admin.postForm("/alerts/rules", "/alerts/rules", url.Values{"name": {"r"}, "kind": {"spike"}, "bans": {"0"}, "minutes": {"10"}, "per": {"jail"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Die Zahl der Sperren muss zwischen 1 und") {
		t.Errorf("rule refusal in German: %d", rec.Code)
	}
}
