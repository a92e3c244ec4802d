package configuration

import (
	"context"
	"errors"
	"strings"

	"bangui/lang"

	"bangui/fail2ban"
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
		if err != nil {
			return rep, services.Invalid(FieldRegexLogFile, logFileError(h, p, err))
		}
		lines = tail.Lines
		// A log file may hold NUL bytes (a crash, a binary write); fail2ban
		// reads past them, so the tester shows them instead of refusing.
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(l, "\x00", "\uFFFD")
		}
		rep.Source = lang.MN("cfg.regex_source_file", len(lines), "File", p)
		if len(lines) == 0 {
			return rep, services.Invalid(FieldRegexLogFile, lang.M("cfg.regex_file_empty"))
		}
	} else {
		text := strings.ReplaceAll(f.Lines, "\r\n", "\n")
		lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
		if strings.TrimSpace(text) == "" {
			return rep, services.Invalid(FieldRegexLines, lang.M("cfg.regex_paste_or_file"))
		}
		rep.Source = lang.M("cfg.regex_source_pasted")
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
		switch ve.Field {
		case fail2ban.FieldIgnoreRegex:
			field = FieldIgnoreRegex
		case fail2ban.FieldDatePattern:
			field = FieldDatePattern
		case fail2ban.FieldLines:
			field = FieldRegexLines
		}
		return rep, services.Invalid(field, ve.Message)
	case errors.As(err, &rx):
		return rep, services.Invalid(FieldFailRegex, lang.M("cfg.regex_refused", "Reason", rx.Message))
	case errors.Is(err, fail2ban.ErrTimeout):
		return rep, services.Invalid(FieldFailRegex, lang.M("cfg.regex_timeout"))
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
