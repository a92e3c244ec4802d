package handlers

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/services"
)

// What the jails pages say about each host of a fleet-wide ban or unban.

// flashHosts queues one message with a line per host: success when every
// host did it, an error when none did, a warning otherwise.
func (s *Server) flashHosts(c echo.Context, msg string, items []string, failed, total int) {
	kind := "success"
	switch {
	case failed == total:
		kind = "error"
	case failed > 0:
		kind = "warning"
		msg += " " + tr(c, "bans.hosts_did_not", "Failed", failed, "Total", total)
	}
	s.flashItems(c, kind, msg, items)
}

// failures counts the hosts whose call failed, and all hosts.
func failures[T any](res []services.HostResult[T]) (failed, total int) {
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	return failed, len(res)
}

// banOutcome is what a ban did on one host, for its line in the result,
// in l.
func banOutcome(l *lang.Lang, res services.BanResult, err error) string {
	switch {
	case err != nil:
		return hostFailure(l, err)
	case res.NewBans == 0:
		return l.T("bans.host_already_banned", "Jail", res.Jail)
	}
	return l.T("bans.host_banned_in", "Jail", res.Jail, "New", res.NewBans)
}

// unbanOutcome is what an unban did on one host, for its line in the
// result, in l.
func unbanOutcome(l *lang.Lang, n int, where string, err error) string {
	switch {
	case err != nil:
		return hostFailure(l, err)
	case n == 0:
		return l.T("bans.host_not_banned", "Where", where)
	}
	return l.T("bans.host_unbanned", "Where", where, "N", n)
}

// hostFailure says in l why one host of several did not do what was asked.
func hostFailure(l *lang.Lang, err error) string {
	var ce *fail2ban.CommandError
	switch {
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return l.T("bans.host_no_jail")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, fail2ban.ErrTimeout):
		return l.T("bans.host_no_answer_in_time")
	case fail2ban.IsUnreachable(err):
		return l.T("bans.host_no_answer", "Reason", services.Fail2banProblem(err).In(l))
	case errors.As(err, &ce):
		return l.T("bans.host_refused", "Reason", clipText(ce.Message, 200))
	}
	return l.T("bans.host_failed", "Reason", clipText(lang.Of(err).In(l), 200))
}
