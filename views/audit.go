package views

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// AuditTable is one page of audit entries.
type AuditTable struct {
	Entries []models.AuditEntry
	Pager   Pager
	Empty   string
}

// AuditFilterForm is the audit page's filter form as submitted (Host is
// the host selector's choice).
type AuditFilterForm struct {
	User, Action, Host, Jail, File, Target, From, To string
}

// AuditPage is the audit page's data.
type AuditPage struct {
	Table   AuditTable
	Filter  AuditFilterForm
	AllUser bool     // the viewer sees every user's entries (admin) and may filter by user
	Actions []Option // the action filter's choices
	CSVURL  string
	// Retention is the retention form, for admins; nil for others.
	Retention *RetentionForm
}

// RetentionForm is the audit retention form.
type RetentionForm struct {
	Days   string
	Errors []string
}

// AuditTrail is a short list of the audit entries about one thing (an
// address, a file) on that thing's page, with a link to all of them.
type AuditTrail struct {
	Title   string
	Entries []models.AuditEntry
	Total   int64
	MoreURL string // in-app URL of the audit page filtered to the thing
}

// AuditURL is the in-app URL of the audit page filtered by key=value
// pairs (e.g. "target", "203.0.113.7").
func AuditURL(pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	return withQuery("/audit", q)
}

// auditWho names who did an entry: the user, and the token when one was used.
func auditWho(ctx context.Context, e models.AuditEntry) string {
	who := e.Actor
	if who == "" {
		who = lang.T(ctx, "audit.not_logged_in")
	}
	if e.Token != 0 {
		who += " " + lang.T(ctx, "audit.token", "ID", strconv.FormatInt(e.Token, 10))
	}
	return who
}

// auditWhere names where an entry acted: hosts, jail, file.
func auditWhere(ctx context.Context, e models.AuditEntry) string {
	var parts []string
	if e.Host != "" {
		var names []string
		for _, h := range strings.Split(e.Host, ",") {
			names = append(names, HostName(ctx, h))
		}
		parts = append(parts, strings.Join(names, ", "))
	}
	if e.Jail != "" {
		parts = append(parts, lang.T(ctx, "audit.jail", "Jail", e.Jail))
	}
	if e.File != "" {
		parts = append(parts, e.File)
	}
	return strings.Join(parts, " · ")
}

func auditOK(e models.AuditEntry) bool { return e.Result == "ok" }
