package services

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// Limits of the log viewer and the regex tester.
const (
	DefaultLogLines = 200
	MaxLogLines     = 5000
)

// Field names of the regex tester.
const (
	FieldRegexLines   = "lines"
	FieldRegexLogFile = "logfile"
	FieldRegexLogN    = "loglines"
)

var levelRE = regexp.MustCompile(`\b(CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG|HEAVYDEBUG|TRACEDEBUG)\b`)

func logLevel(line string) string {
	switch levelRE.FindString(line) {
	case "CRITICAL", "ERROR":
		return "error"
	case "WARNING":
		return "warning"
	case "NOTICE":
		return "notice"
	case "INFO":
		return "info"
	case "DEBUG", "HEAVYDEBUG", "TRACEDEBUG":
		return "debug"
	}
	return ""
}

// ParseLineCount reads a "last N lines" value: def when empty or wrong,
// at most MaxLogLines.
func ParseLineCount(v string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return def
	}
	return min(n, MaxLogLines)
}

// Log returns the last n lines of a host's fail2ban log file (its log
// target) that contain filter. What goes wrong with fail2ban or the file is
// in the view; the error is only for an unknown host.
func (c *Configuration) Log(ctx context.Context, host string, n int, filter string) (models.LogView, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.LogView{N: n, Filter: filter}, err
	}
	v := models.LogView{N: n, Filter: filter, AllowedIn: h.LogDirs()}
	target, err := h.LogTarget(ctx)
	if err != nil {
		c.probe.Observe(host, err)
		v.Error = "fail2ban did not say where it logs: " + err.Error()
		if fail2ban.IsUnreachable(err) {
			v.Error = "fail2ban is not answering, so its log file is unknown."
		}
		return v, nil
	}
	v.Target = target
	switch strings.ToUpper(target) {
	case "STDOUT", "STDERR", "SYSLOG", "SYSOUT", "SYSTEMD-JOURNAL":
		v.Error = "fail2ban logs to " + target + ", not to a file; read it with your system's tools (for example journalctl -u fail2ban)."
		return v, nil
	}
	tail, err := h.TailLog(ctx, target, n, filter)
	var pathErr *hosts.LogPathError
	switch {
	case errors.As(err, &pathErr):
		v.Error = fmt.Sprintf("BanGUI may not read %s: %v. Allow its folder with --log-dirs.", target, err)
		return v, nil
	case err != nil:
		v.Path = target
		v.Error = "The log file cannot be read: " + err.Error()
		return v, nil
	}
	v.Path, v.Truncated = target, tail.Truncated
	for _, l := range tail.Lines {
		v.Lines = append(v.Lines, models.LogLine{Text: l, Level: logLevel(l)})
	}
	return v, nil
}

// TestRegex runs a host's regex tester on pasted lines or the last lines
// of a log file in the host's allowed folders.
func (c *Configuration) TestRegex(ctx context.Context, host string, f models.RegexForm) (models.RegexReport, error) {
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
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLogFile: {err.Error()}}}
		case err != nil:
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLogFile: {"The file cannot be read: " + err.Error()}}}
		}
		lines = tail.Lines
		// A log file may hold NUL bytes (a crash, a binary write); fail2ban
		// reads past them, so the tester shows them instead of refusing.
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(l, "\x00", "\uFFFD")
		}
		rep.Source = fmt.Sprintf("the last %d lines of %s", len(lines), p)
		if len(lines) == 0 {
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLogFile: {"The file is empty."}}}
		}
	} else {
		text := strings.ReplaceAll(f.Lines, "\r\n", "\n")
		lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
		if strings.TrimSpace(text) == "" {
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLines: {"Paste some log lines, or name a log file."}}}
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
		case strings.Contains(ve.Message, "ignore regex"):
			field = FieldIgnoreRegex
		case strings.Contains(ve.Message, "date pattern"):
			field = FieldDatePattern
		case strings.Contains(ve.Message, "line"):
			field = FieldRegexLines
		}
		return rep, &ValidationError{Fields: map[string][]string{field: {ve.Message}}}
	case errors.As(err, &rx):
		return rep, &ValidationError{Fields: map[string][]string{FieldFailRegex: {"fail2ban-regex refused it: " + rx.Message}}}
	case errors.Is(err, fail2ban.ErrTimeout):
		return rep, &ValidationError{Fields: map[string][]string{FieldFailRegex: {"fail2ban-regex did not finish within its time limit; the regex may backtrack too much."}}}
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
