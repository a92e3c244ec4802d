package configuration

import (
	"bangui/lang"
	"context"
	"errors"
	"fmt"
	"strings"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
)

// Field names of the regex tester.
const (
	FieldRegexLines   = "lines"
	FieldRegexLogFile = "logfile"
	FieldRegexLogN    = "loglines"
)

// TestRegex runs a host's regex tester on pasted lines or the last lines
// of a log file in the host's allowed folders.
func (c *Service) TestRegex(ctx context.Context, host string, f models.RegexForm) (models.RegexReport, error) {
	var rep models.RegexReport
	h, err := c.hosts.Get(host)
	if err != nil {
		return rep, err
	}
	var lines []string
	if p := strings.TrimSpace(f.LogFile); p != "" {
		tail, err := h.TailLog(ctx, p, ParseLineCount(f.LogLines, 100), "")
		var pathErr *hosts.LogPathError
		switch {
		case errors.As(err, &pathErr):
			return rep, services.Invalid(FieldRegexLogFile, lang.Of(err))
		case err != nil:
			return rep, services.Invalid(FieldRegexLogFile, lang.Raw("The file cannot be read: "+err.Error()))
		}
		lines = tail.Lines
		// A log file may hold NUL bytes (a crash, a binary write); fail2ban
		// reads past them, so the tester shows them instead of refusing.
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(l, "\x00", "\uFFFD")
		}
		rep.Source = fmt.Sprintf("the last %d lines of %s", len(lines), p)
		if len(lines) == 0 {
			return rep, services.Invalid(FieldRegexLogFile, lang.Raw("The file is empty."))
		}
	} else {
		text := strings.ReplaceAll(f.Lines, "\r\n", "\n")
		lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
		if strings.TrimSpace(text) == "" {
			return rep, services.Invalid(FieldRegexLines, lang.Raw("Paste some log lines, or name a log file."))
		}
		rep.Source = "the pasted lines"
	}
	start := c.now()
	res, err := h.TestRegex(ctx, fail2ban.RegexTest{
		FailRegex: strings.TrimSpace(f.FailRegex), IgnoreRegex: strings.TrimSpace(f.IgnoreRegex),
		DatePattern: strings.TrimSpace(f.DatePattern), Lines: lines,
	})
	rep.Took = c.now().Sub(start)
	var ve *fail2ban.ValidationError
	var rx *fail2ban.RegexError
	switch {
	case errors.As(err, &ve):
		field := FieldFailRegex
		switch {
		case strings.Contains(ve.Message.Error(), "ignore regex"):
			field = FieldIgnoreRegex
		case strings.Contains(ve.Message.Error(), "date pattern"):
			field = FieldDatePattern
		case strings.Contains(ve.Message.Error(), "line"):
			field = FieldRegexLines
		}
		return rep, services.Invalid(field, ve.Message)
	case errors.As(err, &rx):
		return rep, services.Invalid(FieldFailRegex, lang.Raw("fail2ban-regex refused it: "+rx.Message))
	case errors.Is(err, fail2ban.ErrTimeout):
		return rep, services.Invalid(FieldFailRegex, lang.Raw("fail2ban-regex did not finish within its time limit; the regex may backtrack too much."))
	case err != nil:
		return rep, err
	}
	rep.Matched, rep.Missed, rep.Ignored = res.Matched, res.Missed, res.Ignored
	if res.Unmapped {
		rep.Hosts = res.Hosts
	}
	for i, l := range res.Lines {
		rep.Lines = append(rep.Lines, models.RegexLine{Number: i + 1, Text: l.Text, Result: l.Result, Host: l.Host, Time: l.Time})
	}
	return rep, nil
}
