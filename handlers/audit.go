package handlers

import (
	"context"
	"strings"

	"bangui/lang"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
)

// AuditRecorder appends entries to the audit log: where handlers write
// (repo.AuditLog has it; tests may record in memory).
type AuditRecorder interface {
	Record(ctx context.Context, e models.AuditEntry) error
}

// audit writes one entry for a state change made by this request: the
// caller fills what and where (Action, Host, Jail, File, Target, Detail,
// Result); who, the role, the client address and the time come from the
// request. A failure to write is logged, never shown: the action itself is
// done.
func (s *Server) audit(c echo.Context, e models.AuditEntry) {
	if s.auditLog == nil {
		return
	}
	id := identityOf(c.Request().Context())
	if e.Actor == "" {
		e.Actor = id.Name
	}
	// What a request sent is kept, but not without bound.
	e.Host, e.Jail, e.File = clipText(e.Host, auditMaxField), clipText(e.Jail, auditMaxField), clipText(e.File, auditMaxField)
	e.Target, e.Detail, e.Result = clipText(e.Target, auditMaxText), clipText(e.Detail, auditMaxText), clipText(e.Result, auditMaxText)
	e.UserID, e.Token, e.Role = id.UserID, id.TokenID, id.Role
	e.Client = c.RealIP()
	e.At = s.now().Unix()
	if e.Result == "" {
		e.Result = "ok"
	}
	if err := s.auditLog.Record(context.WithoutCancel(c.Request().Context()), e); err != nil {
		s.log.Error("audit: write entry", "err", err, "action", e.Action, "request_id", requestID(c))
	}
}

// Bounds of an entry's text, in bytes: names and paths, and the free text
// (targets, detail, result).
const (
	auditMaxField = 1000
	auditMaxText  = 4000
)

// auditOutcome is the Result of an entry for an action that ended with
// err: "ok", or the message the user was shown for it (a refused field's
// message, or the error's as handleError words it).
func (s *Server) auditOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	if fe := formError(lang.Get("en"), err); fe != nil {
		return firstMessage(lang.Get("en"), fe)
	}
	if fe := configErrors(lang.Get("en"), err); fe != nil {
		return firstMessage(lang.Get("en"), fe)
	}
	if msg, ok := configFailMessage(lang.Get("en"), err); ok {
		return msg
	}
	return s.classify(err).Message
}

// auditTargets is the Target of an entry for several addresses.
func auditTargets(targets []string) string { return strings.Join(targets, ", ") }

// auditEveryHost fills the Host and Result of an entry for an action on
// every host: the hosts asked, and "ok" when each did it, else what each
// failed one said.
func auditEveryHost[T any](e models.AuditEntry, res []services.HostResult[T]) models.AuditEntry {
	var hosts, failed []string
	for _, r := range res {
		hosts = append(hosts, r.Host)
		if r.Err != nil {
			failed = append(failed, r.Host+": "+hostFailure(lang.Get("en"), r.Err))
		}
	}
	e.Host, e.Result = strings.Join(hosts, ","), "ok"
	if len(failed) > 0 {
		e.Result = strings.Join(failed, "; ")
	}
	return e
}

// auditOnEveryHost records an action asked of every host: res says how
// each host answered; err is set when the request was refused before any
// host was asked.
func auditOnEveryHost[T any](s *Server, c echo.Context, e models.AuditEntry, res []services.HostResult[T], err error) {
	if err != nil {
		e.Host, e.Result = strings.Join(s.scopeHostsOf(""), ","), s.auditOutcome(err)
	} else {
		e = auditEveryHost(e, res)
	}
	s.audit(c, e)
}
