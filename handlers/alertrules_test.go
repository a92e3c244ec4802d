package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"bangui/models"
)

// TestAlertRulesPage adds, refuses, edits, turns off and deletes alert
// rules through /alerts/rules as an admin: each change is stored and
// audited once, absurd thresholds are refused with their message, and a
// viewer may not see the page.
func TestAlertRulesPage(t *testing.T) {
	f := newAPIFixture(t)
	b := loginAs(t, f.a, f.users[models.RoleAdmin])
	ctx := context.Background()
	audited := func() []models.AuditEntry {
		t.Helper()
		es, _, err := f.a.s.audits.List(ctx, models.AuditFilter{Action: models.AuditAlertRuleChange}, models.Page{Number: 1, Size: 50})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if rec := b.get("/alerts/rules"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "No rules yet.") {
		t.Fatalf("empty page: %d", rec.Code)
	}
	spike := url.Values{"id": {"0"}, "name": {"storm"}, "kind": {"spike"}, "bans": {"0"}, "minutes": {"10"}, "per": {"jail"},
		"channels": {"1, 2"}, "wait": {"60"}, "enabled": {"on"}}
	rec := b.postForm("/alerts/rules", "/alerts/rules", spike)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "The number of bans must be between 1 and") {
		t.Fatalf("zero bans: %d %s", rec.Code, rec.Body)
	}
	spike.Set("bans", "lots")
	if rec := b.postForm("/alerts/rules", "/alerts/rules", spike); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "must be a whole number") {
		t.Fatalf("bans not a number: %d", rec.Code)
	}
	spike.Set("bans", "50")
	if rec := b.postForm("/alerts/rules", "/alerts/rules", spike); rec.Code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	list, err := f.a.s.alertRules.List(ctx)
	if err != nil || len(list) != 1 || list[0].Params.Bans != 50 || !list[0].Enabled || len(list[0].Channels) != 2 {
		t.Fatalf("stored %+v, %v", list, err)
	}
	id := list[0].ID
	idText := strconv.FormatInt(id, 10)
	if rec := b.get("/alerts/rules"); !strings.Contains(rec.Body.String(), `data-rule="`+idText+`"`) || !strings.Contains(rec.Body.String(), "more than 50 bans in 10 minutes, per jail") {
		t.Fatalf("the list does not show the rule: %s", rec.Body)
	}
	if rec := b.get("/alerts/rules?edit=" + idText); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Edit the rule storm") {
		t.Fatalf("edit form: %d", rec.Code)
	}
	spike.Set("id", idText)
	spike.Set("per", "all")
	if rec := b.postForm("/alerts/rules", "/alerts/rules", spike); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d", rec.Code)
	}
	if rec := b.postForm("/alerts/rules/"+idText+"/enable", "/alerts/rules", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("turn off: %d", rec.Code)
	}
	if rec := b.get("/alerts/rules?done=off"); !strings.Contains(rec.Body.String(), "The rule is off.") {
		t.Fatal("no word of the rule turned off")
	}
	r, err := f.a.s.alertRules.Get(ctx, id)
	if err != nil || r.Enabled || r.Params.Per != "all" {
		t.Fatalf("after edit and turning off: %+v, %v", r, err)
	}
	if rec := b.postForm("/alerts/rules/"+idText+"/delete", "/alerts/rules", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec := b.postForm("/alerts/rules/"+idText+"/delete", "/alerts/rules", url.Values{}); rec.Code != http.StatusNotFound {
		t.Fatalf("delete again: %d", rec.Code)
	}
	var details []string
	for _, e := range audited() {
		details = append(details, strings.SplitN(e.Detail, ":", 2)[0])
	}
	if strings.Join(details, ",") != "delete,off,edit,add" {
		t.Fatalf("audited %q, want add, edit, off, delete", details)
	}
	viewer := loginAs(t, f.a, f.users[models.RoleViewer])
	if rec := viewer.get("/alerts/rules"); rec.Code != http.StatusForbidden {
		t.Fatalf("a viewer got the rules page: %d", rec.Code)
	}
}

// TestAlertRuleChannelsByName: the rule form offers the channels by name
// as checkboxes; the ticked ones are stored and the list names them (a
// deleted one as such).
func TestAlertRuleChannelsByName(t *testing.T) {
	f := newAPIFixture(t)
	b := loginAs(t, f.a, f.users[models.RoleAdmin])
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"ops hook", "on-call mail"} {
		ch := models.AlertChannel{Name: name, Kind: "webhook", Config: `{"url":"http://127.0.0.1:1/"}`}
		if err := f.a.s.alerts.Store().SaveChannel(ctx, &ch); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strconv.FormatInt(ch.ID, 10))
	}
	doc := parse(t, b.get("/alerts/rules"))
	for i, name := range []string{"ops hook (webhook)", "on-call mail (webhook)"} {
		box := doc.Find(`[data-testid=rule-channels] input[type=checkbox][name=channels][value="` + ids[i] + `"]`)
		id, _ := box.Attr("id")
		if box.Length() != 1 || strings.TrimSpace(doc.Find(`label[for="`+id+`"]`).Text()) != name {
			t.Fatalf("no checkbox labelled %q for channel %s", name, ids[i])
		}
	}
	form := url.Values{"id": {"0"}, "name": {"down"}, "kind": {"down"}, "channels": {ids[0], ids[1]}, "wait": {"0"}, "enabled": {"on"}}
	if rec := b.postForm("/alerts/rules", "/alerts/rules", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	id, _ := strconv.ParseInt(ids[1], 10, 64)
	if err := f.a.s.alerts.Store().DeleteChannel(ctx, id); err != nil {
		t.Fatal(err)
	}
	doc = parse(t, b.get("/alerts/rules"))
	if got := strings.TrimSpace(doc.Find(`tr[data-rule] td[data-label=Channels]`).Text()); got != "ops hook, #"+ids[1]+" (deleted)" {
		t.Fatalf("the rule's channels read %q", got)
	}
	list, err := f.a.s.alertRules.List(ctx)
	if err != nil || len(list) != 1 || len(list[0].Channels) != 2 {
		t.Fatalf("stored %+v, %v", list, err)
	}
	if doc.Find(`[data-testid=rule-channels] input[value="`+ids[0]+`"][checked]`).Length() != 0 {
		t.Error("a new rule's form comes with a channel ticked")
	}
	edit := parse(t, b.get("/alerts/rules?edit="+strconv.FormatInt(list[0].ID, 10)))
	if edit.Find(`[data-testid=rule-channels] input[value="`+ids[0]+`"][checked]`).Length() != 1 {
		t.Error("the edit form does not tick the rule's channel")
	}
}
