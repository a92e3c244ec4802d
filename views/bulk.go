package views

import (
	"context"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// BulkSelect makes a ban table's rows selectable for bulk actions: each
// row gets a checkbox that belongs to the bulk form (form=), so the
// table need not sit inside it and works without JavaScript.
type BulkSelect struct {
	Form     string   // id of the bulk form
	Scope    string   // whose filter "all matching" means: "dashboard", "history", "jail", "map"
	Filter   string   // the table's query string: the filter it shows
	Matching int64    // rows matching the filter
	Rows     []string // this page's rows (BulkRow values), for "all on this page"
	Back     string   // the page to come back to
	Host     string   // the host of rows that carry none (a host's current bans)
	CanAllow bool     // the allow-list action runs on this panel
	CanBan   bool     // the timed-ban action runs on this panel
}

// BulkRow is the value of one row's checkbox: its host, jail and address.
// Neither a host id, a jail name nor an address holds a "|".
func BulkRow(host, jail, ip string) string { return host + "|" + jail + "|" + ip }

// ParseBulkRow splits a BulkRow value; ok is false when it has not three parts.
func ParseBulkRow(v string) (host, jail, ip string, ok bool) {
	parts := strings.Split(v, "|")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// BulkSelection is a selection carried from one step to the next: rows
// picked by hand, or every row matching a table's filter.
type BulkSelection struct {
	Scope    string
	Filter   string
	Matching bool // every row matching Filter, resolved again at each step
	Rows     []string
	Back     string
}

// BulkConfirmPage asks before a bulk action runs.
type BulkConfirmPage struct {
	Action    models.BulkAction
	Selection BulkSelection
	Count     int      // addresses selected now
	Hosts     []string // host ids
	Jails     []string
	Sample    []string // the first few addresses
	Errors    map[string][]string
	// The action's fields, as entered.
	Note, Expires, Duration, Custom string
	EveryJail                       bool
}

// bulkVerb is how the pages name an action.
func bulkVerb(ctx context.Context, a models.BulkAction) string {
	switch a {
	case models.BulkUnban:
		return lang.T(ctx, "bulk.verb_unban")
	case models.BulkAllow:
		return lang.T(ctx, "bulk.verb_allow")
	case models.BulkBan:
		return lang.T(ctx, "bulk.verb_ban")
	}
	return string(a)
}

// BulkJobPage follows one bulk job.
type BulkJobPage struct {
	Job    models.BulkJob
	Failed []models.BulkResult // the rows that were not done, at most bulkShownFailures
	Back   string
}

// BulkShownFailures is how many failed rows the job page lists; the CSV
// of the results holds them all.
const BulkShownFailures = 500

// bulkHostNames names hosts for a sentence.
func bulkHostNames(ctx context.Context, ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = HostName(ctx, id)
	}
	return strings.Join(names, ", ")
}

// bulkHost is the host of rows that carry none; "" without a selection.
func bulkHost(b *BulkSelect) string {
	if b == nil {
		return ""
	}
	return b.Host
}

// bulkFormAction is where a bulk form posts: the confirmation for those
// who may act, the export (their only action) for viewers.
func bulkFormAction(ctx context.Context) string {
	if Can(ctx, models.RoleOperator) {
		return "/bulk/confirm"
	}
	return "/bulk/export"
}
