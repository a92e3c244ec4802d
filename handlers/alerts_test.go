package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"bangui/models"
	"bangui/services/alerts"
)

// TestAlertPages adds a webhook channel through the page, sends a test to
// a local receiver that checks the signature and shows its answer, edits
// the channel keeping the secret (shown masked only), refuses bad URLs,
// pages the delivery log and deletes the channel; viewers are refused.
func TestAlertPages(t *testing.T) {
	f := newAPIFixture(t)
	admin := loginAs(t, f.a, f.users[models.RoleAdmin])
	got := make(chan string, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(alerts.SignatureHeader) != alerts.Sign([]byte("hmac-secret-9876"), body) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		select {
		case got <- string(body):
		default: // the log's deliveries: only the test message is checked
		}
		_, _ = io.WriteString(w, "thanks from the receiver")
	}))
	defer recv.Close()

	rec := admin.postForm("/alerts/channels", "/alerts", url.Values{"name": {"ops"}, "kind": {"webhook"}, "url": {"ftp://nope"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "http:// or https://") {
		t.Fatalf("bad URL: %d", rec.Code)
	}
	rec = admin.postForm("/alerts/channels", "/alerts", url.Values{"name": {"ops"}, "kind": {"webhook"}, "url": {recv.URL},
		"headers": {"X-Team: ops"}, "secret": {"hmac-secret-9876"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	chs, err := f.a.s.alerts.Store().Channels(context.Background())
	if err != nil || len(chs) != 1 || chs[0].Secret != "hmac-secret-9876" {
		t.Fatalf("stored: %+v %v", chs, err)
	}
	id := "/alerts/channels/" + itoa(chs[0].ID)
	page := admin.get("/alerts").Body.String()
	if strings.Contains(page, "hmac-secret-9876") || !strings.Contains(page, "••••9876") {
		t.Error("the secret is shown, or not masked")
	}

	rec = admin.postForm(id+"/test", "/alerts", nil)
	doc := parse(t, rec)
	res := doc.Find(`[data-testid="alert-test-result"]`).Text()
	if !strings.Contains(res, "delivered") || !strings.Contains(res, "200 OK") || !strings.Contains(res, "thanks from the receiver") {
		t.Fatalf("test result: %q", res)
	}
	select {
	case b := <-got:
		if !strings.Contains(b, "BanGUI test message") {
			t.Errorf("test body %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver got nothing")
	}

	// Edit without a secret keeps it; the edit form shows it masked only.
	if page := admin.get(id).Body.String(); strings.Contains(page, "hmac-secret-9876") || !strings.Contains(page, "••••9876") {
		t.Error("edit form shows the secret")
	}
	rec = admin.postForm(id, "/alerts", url.Values{"name": {"ops2"}, "kind": {"webhook"}, "url": {recv.URL}})
	if ch, _ := f.a.s.alerts.Store().Channel(context.Background(), chs[0].ID); rec.Code != http.StatusSeeOther || ch.Name != "ops2" || ch.Secret != "hmac-secret-9876" {
		t.Fatalf("edit: %d %+v", rec.Code, ch)
	}

	// The log pages with htmx.
	ctx := context.Background()
	for i := range 60 {
		if err := f.a.s.alerts.Enqueue(ctx, alerts.Alert{RuleID: 1, RuleName: "r", GroupKey: "g" + itoa(int64(i)), Subject: "s"}, []int64{chs[0].ID}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.a.s.alerts.Round(ctx); err != nil {
		t.Fatal(err)
	}
	doc = parse(t, admin.get("/alerts/log"))
	if n := doc.Find(`[data-testid="alert-log"] tbody tr`).Length(); n != 51 { // 50 and the Older row
		t.Fatalf("log rows: %d", n)
	}
	older, ok := doc.Find(`#alert-log-more a`).Attr("hx-get")
	if !ok {
		t.Fatal("no Older link")
	}
	doc = parse(t, admin.get(older))
	if n := doc.Find(`[data-testid="alert-log"] tbody tr`).Length(); n != 10 {
		t.Fatalf("second page rows: %d", n)
	}

	viewer := loginAs(t, f.a, f.users[models.RoleViewer])
	if rec := viewer.get("/alerts"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer: %d", rec.Code)
	}
	if parse(t, viewer.get("/")).Find(`[data-testid=user-menu] a[href="/alerts"]`).Length() != 0 ||
		parse(t, admin.get("/")).Find(`[data-testid=user-menu] a[href="/alerts"]`).Length() != 1 {
		t.Error("the Alerts link is not for admins only")
	}
	if rec := admin.postForm(id+"/delete", "/alerts", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if chs, _ := f.a.s.alerts.Store().Channels(ctx); len(chs) != 0 {
		t.Error("not deleted")
	}
}

// TestSendTestToHangingReceiver: Send test to a receiver that never
// answers ends at the sender's timeout with a clear message, and other
// pages answer meanwhile.
func TestSendTestToHangingReceiver(t *testing.T) {
	f := newAPIFixture(t)
	f.a.s.alerts = alerts.NewDelivery(f.a.s.alerts.Store(), alerts.Options{Sender: alerts.NewSender(4 * time.Second)})
	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	defer hung.Close()
	defer close(hang) // before Close, which waits for the handler
	ch := models.AlertChannel{Name: "hung", Kind: alerts.KindWebhook, Config: `{"url":"` + hung.URL + `"}`}
	if err := f.a.s.alerts.Store().SaveChannel(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	tester, other := loginAs(t, f.a, f.users[models.RoleAdmin]), loginAs(t, f.a, f.users[models.RoleAdmin])
	start := time.Now()
	done := make(chan string, 1)
	go func() {
		rec := tester.postForm("/alerts/channels/"+itoa(ch.ID)+"/test", "/alerts", nil)
		done <- parse(t, rec).Find(`[data-testid="alert-test-result"]`).Text()
	}()
	for _, path := range []string{"/alerts", "/alerts/log", "/"} {
		if rec := other.get(path); rec.Code != http.StatusOK {
			t.Errorf("%s answered %d while a test hangs", path, rec.Code)
		}
	}
	select {
	case <-done:
		t.Errorf("the other pages answered only after the hanging test ended (%v)", time.Since(start))
	default:
	}
	select {
	case res := <-done:
		if !strings.Contains(res, "Test of hung: ") || !strings.Contains(res, "no answer in time") {
			t.Errorf("the result of a hanging receiver reads %q", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send test to a hanging receiver did not end within 10 s")
	}
}
