package fail2ban

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"bangui/lang"
)

// Defaults and limits of RegexRunner.
const (
	DefaultRegexPath    = "fail2ban-regex"
	DefaultRegexTimeout = 10 * time.Second
	MaxRegexLen         = 4096    // longest fail or ignore regex accepted
	MaxRegexLines       = 5000    // most log lines per test
	MaxRegexInput       = 1 << 20 // most bytes of log lines per test
)

// RegexRunner runs fail2ban-regex, fail2ban's own regex tester, so that
// patterns are matched with fail2ban's Python semantics (<HOST>, date
// detection, ignore regexes). The program is started directly with an
// argument list, never through a shell, and killed after Timeout. The zero
// value uses fail2ban-regex from PATH.
type RegexRunner struct {
	Path    string        // fail2ban-regex executable; default DefaultRegexPath
	Timeout time.Duration // limit per run; default DefaultRegexTimeout
}

// RegexTest is one run of the tester.
type RegexTest struct {
	FailRegex   string   // required, one line
	IgnoreRegex string   // optional, one line
	DatePattern string   // optional, fail2ban's -d
	Lines       []string // the log lines to test
}

// Line results of a regex test.
const (
	LineMatched = "matched" // a fail regex matched: this line counts as a failure
	LineMissed  = "missed"  // no fail regex matched
	LineIgnored = "ignored" // a fail regex matched, but so did the ignore regex
	LineSkipped = "skipped" // empty or a comment (#...): fail2ban-regex does not test it
)

// RegexLine is the outcome for one input line.
type RegexLine struct {
	Text   string
	Result string // one of the Line* constants
	Host   string // the address or host <HOST> matched, for matched lines
	Time   string // the time fail2ban read from the line (or the time of the test when it has none)
}

// RegexResult is what fail2ban-regex reported.
type RegexResult struct {
	Lines                    []RegexLine // one per input line, in order
	Matched, Missed, Ignored int
	// Unmapped is set when the hosts could not be tied to single lines
	// (for example multi-line matches); Hosts then lists them in order.
	Unmapped bool
	Hosts    []string
}

// RegexError is a regex or date pattern fail2ban-regex refused, with its
// message (for example "Unable to compile regular expression: missing ),
// unterminated subpattern at position 7").
type RegexError struct {
	Message lang.Message // fail2ban-regex's words (a Raw text), or BanGUI's when it said nothing usable
}

// Error is the message in English.
func (e *RegexError) Error() string { return e.Message.Error() }

// Fields of the regex tester's input, in its ValidationError.Field.
const (
	FieldFailRegex   = "failregex"
	FieldIgnoreRegex = "ignoreregex"
	FieldDatePattern = "datepattern"
	FieldLines       = "lines"
)

// filterNameRE is how fail2ban-regex recognises a filter name or file path
// in its REGEX argument (it then reads that file). A pattern that looks like
// one is prefixed with an empty group so it is always taken as a pattern.
var filterNameRE = regexp.MustCompile(`(?s)^/{0,3}[\w/_\-.]+(?:\[.*\])?$`)

// Test validates t and runs it. Input problems are *ValidationError; a
// pattern fail2ban refuses is *RegexError; a run that takes too long is a
// *RunError matching ErrTimeout.
func (r RegexRunner) Test(ctx context.Context, t RegexTest) (RegexResult, error) {
	if err := validRegex(FieldFailRegex, lang.M("cfg.regex_what_fail"), t.FailRegex, true); err != nil {
		return RegexResult{}, err
	}
	if err := validRegex(FieldIgnoreRegex, lang.M("cfg.regex_what_ignore"), t.IgnoreRegex, false); err != nil {
		return RegexResult{}, err
	}
	if err := validRegex(FieldDatePattern, lang.M("cfg.regex_what_date"), t.DatePattern, false); err != nil {
		return RegexResult{}, err
	}
	if len(t.Lines) == 0 {
		return RegexResult{}, invalid(FieldLines, "cfg.regex_no_lines")
	}
	if len(t.Lines) > MaxRegexLines {
		return RegexResult{}, invalid(FieldLines, "cfg.regex_too_many_lines", "Max", MaxRegexLines)
	}
	size := 0
	lines := make([]string, len(t.Lines))
	for i, l := range t.Lines {
		l = strings.ToValidUTF8(strings.TrimRight(l, "\r\n"), "\uFFFD")
		if strings.ContainsAny(l, "\x00\r\n") {
			return RegexResult{}, invalid(FieldLines, "cfg.regex_line_control", "Line", i+1)
		}
		size += len(l) + 1
		lines[i] = l
	}
	if size > MaxRegexInput {
		return RegexResult{}, invalid(FieldLines, "cfg.regex_lines_too_large", "KB", MaxRegexInput>>10)
	}

	f, err := os.CreateTemp("", "bangui-regex-*.log")
	if err != nil {
		return RegexResult{}, fmt.Errorf("fail2ban-regex: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return RegexResult{}, fmt.Errorf("fail2ban-regex: %w", werr)
	}

	fail := t.FailRegex
	if filterNameRE.MatchString(fail) {
		fail = "(?:)" + fail
	}
	args := []string{"-r", "-v", "--print-all-matched", "--print-all-missed", "--print-all-ignored", "-e", "UTF-8"}
	if t.DatePattern != "" {
		args = append(args, "-d", t.DatePattern)
	}
	args = append(args, "--", f.Name(), fail)
	if t.IgnoreRegex != "" {
		args = append(args, t.IgnoreRegex)
	}
	out, err := r.run(ctx, args)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) && !re.TimedOut {
			if msg := regexErrorMessage(out); msg != "" {
				return RegexResult{}, &RegexError{Message: lang.Raw(msg)}
			}
		}
		return RegexResult{}, err
	}
	return parseRegexOutput(out, lines)
}

// validRegex checks a one-line pattern argument: the input field and
// what the field is called in a message.
func validRegex(field string, what lang.Message, v string, required bool) error {
	switch {
	case v == "" && required:
		return invalid(field, "cfg.regex_enter", "What", what)
	case len(v) > MaxRegexLen:
		return invalid(field, "cfg.regex_too_long", "What", what, "Max", MaxRegexLen)
	case !utf8.ValidString(v):
		return invalid(field, "cfg.regex_not_text", "What", what)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }):
		return invalid(field, "cfg.regex_one_line", "What", what)
	}
	return nil
}

func (r RegexRunner) run(ctx context.Context, args []string) (string, error) {
	path := r.Path
	if path == "" {
		path = DefaultRegexPath
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultRegexTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8", "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	var buf limitedBuffer
	buf.limit = 8 << 20
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	out := buf.String()
	if err == nil {
		return out, nil
	}
	re := &RunError{Args: append([]string{path}, args...), Output: strings.TrimSpace(out), Err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		re.Err = fmt.Errorf("%w (%v)", ctxErr, err)
		re.TimedOut = errors.Is(ctxErr, context.DeadlineExceeded)
	}
	return out, re
}

// regexErrorMessage turns fail2ban-regex's "ERROR: ..." report into one
// sentence. For "Unable to compile regular expression '<expanded>':\n<why>"
// the long expanded pattern is left out.
func regexErrorMessage(out string) string {
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	for i, l := range lines {
		msg, ok := strings.CutPrefix(strings.TrimSpace(l), "ERROR:")
		if !ok {
			continue
		}
		msg = strings.TrimSpace(msg)
		if q := strings.Index(msg, " '"); q >= 0 && strings.HasSuffix(msg, "':") {
			msg = msg[:q]
			if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				msg += ": " + strings.TrimSpace(lines[i+1])
			}
		}
		return clip(msg, 300)
	}
	return ""
}

var (
	linesSummaryRE = regexp.MustCompile(`^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`)
	hostEntryRE    = regexp.MustCompile(`^\|\s{6}(\S+)\s{2}(.+?)(?: \(multiple regex matched\))?$`)
)

// parseRegexOutput reads the verbose report: the hosts and times listed
// under the fail regex, and the matched, ignored and missed lines.
func parseRegexOutput(out string, input []string) (RegexResult, error) {
	var res RegexResult
	type hostAt struct{ host, time string }
	var hosts []hostAt
	lists := map[string][]string{}
	section, list := "", ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	summary := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Failregex:"):
			section = "fail"
			continue
		case strings.HasPrefix(l, "Ignoreregex:"), strings.HasPrefix(l, "Date template hits:"), strings.HasPrefix(l, "Prefregex:"):
			section = ""
			continue
		case strings.HasPrefix(l, "|- Matched line(s):"):
			list = LineMatched
			continue
		case strings.HasPrefix(l, "|- Missed line(s):"):
			list = LineMissed
			continue
		case strings.HasPrefix(l, "|- Ignored line(s):"):
			list = LineIgnored
			continue
		case l == "`-":
			section, list = "", ""
			continue
		}
		if m := linesSummaryRE.FindStringSubmatch(l); m != nil {
			summary = true
			res.Ignored, _ = strconv.Atoi(m[2])
			res.Matched, _ = strconv.Atoi(m[3])
			res.Missed, _ = strconv.Atoi(m[4])
			continue
		}
		if list != "" {
			if text, ok := strings.CutPrefix(l, "|  "); ok {
				lists[list] = append(lists[list], text)
			}
			continue
		}
		if section == "fail" {
			if m := hostEntryRE.FindStringSubmatch(l); m != nil {
				hosts = append(hosts, hostAt{m[1], m[2]})
			}
		}
	}
	if !summary {
		return res, &RegexError{Message: lang.M("cfg.regex_no_result", "Output", lang.Raw(clip(strings.TrimSpace(out), 300)))}
	}
	// Tie the listed lines to the input, in order: each list keeps the
	// order of the input, and equal lines always get the same result.
	idx := map[string]int{}
	hostI := 0
	res.Unmapped = len(hosts) != res.Matched
	for _, h := range hosts {
		res.Hosts = append(res.Hosts, h.host)
	}
	for _, text := range input {
		line := RegexLine{Text: text, Result: LineSkipped}
		trimmed := strings.TrimRightFunc(text, unicode.IsSpace)
		if text != "" && !strings.HasPrefix(text, "#") {
			line.Result = LineMissed
			for _, kind := range []string{LineMatched, LineIgnored, LineMissed} {
				l := lists[kind]
				if i := idx[kind]; i < len(l) && l[i] == trimmed {
					idx[kind]++
					line.Result = kind
					break
				}
			}
			if line.Result == LineMatched && !res.Unmapped && hostI < len(hosts) {
				line.Host, line.Time = hosts[hostI].host, hosts[hostI].time
				hostI++
			}
		}
		res.Lines = append(res.Lines, line)
	}
	return res, nil
}

// filterArgRE is a filter name CheckFilter accepts.
var filterArgRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+\-]{0,63}$`)

// CheckFilter loads the named filter of configDir as fail2ban does
// (filter.d/NAME.conf, NAME.local and their includes) and compiles its
// patterns against an empty log. A filter fail2ban cannot use yields a
// *RegexError with fail2ban's message.
func (r RegexRunner) CheckFilter(ctx context.Context, configDir, name string) error {
	if !filterArgRE.MatchString(name) || strings.Contains(name, "..") {
		return invalid(FieldValue, "cfg.regex_not_filter_name", "Name", quoteInput(name))
	}
	if err := validPath(configDir); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "bangui-filter-*.log")
	if err != nil {
		return fmt.Errorf("fail2ban-regex: %w", err)
	}
	f.Close()
	defer os.Remove(f.Name())
	out, err := r.run(ctx, []string{"-c", configDir, "-r", "--", f.Name(), name})
	if err != nil {
		var re *RunError
		if errors.As(err, &re) && !re.TimedOut {
			if msg := regexErrorMessage(out); msg != "" {
				return &RegexError{Message: lang.Raw(msg)}
			}
		}
		return err
	}
	if !strings.Contains(out, "filter file : "+name) {
		return &RegexError{Message: lang.M("cfg.regex_filter_not_found", "Name", name)}
	}
	return nil
}
