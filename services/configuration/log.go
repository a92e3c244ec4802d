package configuration

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
func (c *Service) Log(ctx context.Context, host string, n int, filter string) (models.LogView, error) {
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
