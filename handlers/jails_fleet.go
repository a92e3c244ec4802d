package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
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
		msg += " " + strconv.Itoa(failed) + " of " + strconv.Itoa(total) + " hosts did not."
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

// banOutcome is what a ban did on one host, for its line in the result.
func banOutcome(res services.BanResult, err error) string {
	switch {
	case err != nil:
		return hostFailure(err)
	case res.NewBans == 0:
		return "already banned in " + res.Jail
	}
	return fmt.Sprintf("banned in %s (%d new)", res.Jail, res.NewBans)
}

// unbanOutcome is what an unban did on one host, for its line in the result.
func unbanOutcome(n int, where string, err error) string {
	switch {
	case err != nil:
		return hostFailure(err)
	case n == 0:
		return "not banned in " + where + "; nothing changed"
	}
	return fmt.Sprintf("unbanned from %s (%d lifted)", where, n)
}

// hostFailure says why one host of several did not do what was asked.
func hostFailure(err error) string {
	var ce *fail2ban.CommandError
	switch {
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return "has no running jail by that name"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, fail2ban.ErrTimeout):
		return "did not answer in time"
	case fail2ban.IsUnreachable(err):
		return "did not answer: " + services.DescribeFail2banError(err)
	case errors.As(err, &ce):
		return "fail2ban refused: " + clipText(ce.Message, 200)
	}
	return "failed: " + clipText(err.Error(), 200)
}
