package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"bangui/models"
)

// AuditRecorder appends entries to the audit log.
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
