package configuration

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
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
		v.Error = lang.M("cfg.log_target_unknown", "Error", err)
		if fail2ban.IsUnreachable(err) {
			v.Error = lang.M("cfg.log_offline")
		}
		return v, nil
	}
	v.Target = target
	switch strings.ToUpper(target) {
	case "STDOUT", "STDERR", "SYSLOG", "SYSOUT", "SYSTEMD-JOURNAL":
		v.Error = lang.M("cfg.log_not_file", "Target", target)
		return v, nil
	}
	tail, err := h.TailLog(ctx, target, n, filter)
	if err != nil {
		v.Error = logFileError(h, target, err)
		if !isLogPathError(err) {
			v.Path = target
		}
		return v, nil
	}
	v.Path, v.Truncated = target, tail.Truncated
	for _, l := range tail.Lines {
		v.Lines = append(v.Lines, models.LogLine{Text: l, Level: logLevel(l)})
	}
	return v, nil
}

func isLogPathError(err error) bool {
	var pathErr *hosts.LogPathError
	return errors.As(err, &pathErr)
}

// logFileError says why the log file path of host h cannot be read: a file
// outside the folders BanGUI may read, or the system's reason.
func logFileError(h hosts.Host, path string, err error) lang.Message {
	if isLogPathError(err) {
		if errors.Is(err, hosts.ErrLogNotAllowed) {
			return lang.M("cfg.log_not_allowed", "File", path, "Dirs", strings.Join(h.LogDirs(), ", "))
		}
		return lang.M("cfg.log_path_refused", "File", path, "Error", err)
	}
	return lang.M("cfg.log_unreadable", "Error", err)
}
