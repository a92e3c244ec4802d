package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"bangui/fail2ban"
	"bangui/models"
)

// Limits of the log viewer and the regex tester.
const (
	DefaultLogLines = 200
	MaxLogLines     = 5000
	logWindow       = 4 << 20 // bytes read from the end of a log file
)

// Field names of the regex tester.
const (
	FieldRegexLines   = "lines"
	FieldRegexLogFile = "logfile"
	FieldRegexLogN    = "loglines"
)

// ErrLogNotAllowed means a log file lies outside the allowed folders.
var ErrLogNotAllowed = errors.New("the file is not inside the folders BanGUI may read")

// allowedFile resolves p (following links) and checks that it is a regular
// file inside one of the allowed folders.
func (c *Configuration) allowedFile(p string) (string, error) {
	if !filepath.IsAbs(p) || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%w: use an absolute path", ErrLogNotAllowed)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("%s cannot be read: %w", p, err)
	}
	for _, d := range c.opts.LogDirs {
		rd, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if real == rd || strings.HasPrefix(real, strings.TrimSuffix(rd, string(filepath.Separator))+string(filepath.Separator)) {
			fi, err := os.Stat(real)
			if err != nil {
				return "", err
			}
			if !fi.Mode().IsRegular() {
				return "", fmt.Errorf("%s is not a regular file", p)
			}
			return real, nil
		}
	}
	return "", fmt.Errorf("%w (%s)", ErrLogNotAllowed, strings.Join(c.opts.LogDirs, ", "))
}

// tailLines returns the last n lines of a file that contain filter (case
// insensitive; all lines when empty) and whether there were more.
func tailLines(path string, n int, filter string) ([]string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	off := max(fi.Size()-logWindow, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, false, err
	}
	text := strings.ToValidUTF8(string(buf), "\uFFFD")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	cut := off > 0
	if cut && len(lines) > 0 {
		lines = lines[1:] // a partial first line
	}
	if text == "" {
		lines = nil
	}
	var out []string
	f2 := strings.ToLower(filter)
	for _, l := range lines {
		l = strings.TrimRight(l, "\r")
		if f2 == "" || strings.Contains(strings.ToLower(l), f2) {
			out = append(out, l)
		}
	}
	truncated := cut
	if len(out) > n {
		out = out[len(out)-n:]
		truncated = true
	}
	return out, truncated, nil
}

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

// Log returns the last n lines of fail2ban's own log file (its log target)
// that contain filter.
func (c *Configuration) Log(ctx context.Context, n int, filter string) models.LogView {
	v := models.LogView{N: n, Filter: filter, AllowedIn: c.LogDirs()}
	target, err := c.f2b.Client().LogTarget(ctx)
	if err != nil {
		if c.probe != nil {
			c.probe.Observe(err)
		}
		v.Error = "fail2ban did not say where it logs: " + err.Error()
		if fail2ban.IsUnreachable(err) {
			v.Error = "fail2ban is not answering, so its log file is unknown."
		}
		return v
	}
	v.Target = target
	switch strings.ToUpper(target) {
	case "STDOUT", "STDERR", "SYSLOG", "SYSOUT", "SYSTEMD-JOURNAL":
		v.Error = "fail2ban logs to " + target + ", not to a file; read it with your system's tools (for example journalctl -u fail2ban)."
		return v
	}
	p, err := c.allowedFile(target)
	if err != nil {
		v.Error = fmt.Sprintf("BanGUI may not read %s: %v. Allow its folder with --log-dirs.", target, err)
		return v
	}
	v.Path = target
	lines, truncated, err := tailLines(p, n, filter)
	if err != nil {
		v.Error = "The log file cannot be read: " + err.Error()
		return v
	}
	v.Truncated = truncated
	for _, l := range lines {
		v.Lines = append(v.Lines, models.LogLine{Text: l, Level: logLevel(l)})
	}
	return v
}

// TestRegex runs the regex tester on pasted lines or the last lines of a
// log file in the allowed folders.
func (c *Configuration) TestRegex(ctx context.Context, f models.RegexForm) (models.RegexReport, error) {
	var rep models.RegexReport
	var lines []string
	if p := strings.TrimSpace(f.LogFile); p != "" {
		real, err := c.allowedFile(p)
		if err != nil {
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLogFile: {err.Error()}}}
		}
		n := ParseLineCount(f.LogLines, 100)
		lines, _, err = tailLines(real, n, "")
		if err != nil {
			return rep, &ValidationError{Fields: map[string][]string{FieldRegexLogFile: {"The file cannot be read: " + err.Error()}}}
		}
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
	res, err := fail2ban.RegexRunner{Path: c.opts.RegexPath}.Test(ctx, fail2ban.RegexTest{
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
