package configuration

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"bangui/lang"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
)

// Field names of the server form.
const (
	FieldLogLevel     = "loglevel"
	FieldLogTarget    = "logtarget"
	FieldDBPurgeAge   = "dbpurgeage"
	FieldDBMaxMatches = "dbmaxmatches"
)

// LogLevels are the log levels the server form offers.
var LogLevels = []string{"CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// ErrRestartNoAnswer means fail2ban did not answer in time after a restart.
var ErrRestartNoAnswer = errors.New("fail2ban did not answer after the restart")

// Server returns a host's fail2ban settings as the running server reports
// them.
func (c *Service) Server(ctx context.Context, host string) (models.ServerSettings, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ServerSettings{}, err
	}
	return c.server(ctx, h)
}

func (c *Service) server(ctx context.Context, cl hosts.Host) (models.ServerSettings, error) {
	var s models.ServerSettings
	var err error
	if s.Version, err = cl.Version(ctx); err != nil {
		return s, c.probe.Observe(cl.ID(), err)
	}
	if s.LogLevel, err = cl.LogLevel(ctx); err != nil {
		return s, err
	}
	if s.LogTarget, err = cl.LogTarget(ctx); err != nil {
		return s, err
	}
	if s.DBFile, err = cl.DBFile(ctx); err != nil {
		return s, err
	}
	if s.DBPurgeAge, err = cl.DBPurgeAge(ctx); err != nil {
		return s, err
	}
	if s.DBMaxMatches, err = cl.DBMaxMatches(ctx); err != nil {
		return s, err
	}
	if v, err := cl.SyslogSocket(ctx); err == nil {
		s.SyslogSocket = v
	}
	return s, nil
}

// ServerFormOf fills the server form from the current settings.
func ServerFormOf(s models.ServerSettings) models.ServerForm {
	return models.ServerForm{LogLevel: s.LogLevel, LogTarget: s.LogTarget,
		DBPurgeAge: formatSpec(s.DBPurgeAge), DBMaxMatches: strconv.FormatInt(s.DBMaxMatches, 10)}
}

// checkLogTarget accepts STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or an
// absolute file path without white space.
func checkLogTarget(v string) (string, error) {
	switch u := strings.ToUpper(v); u {
	case "STDOUT", "STDERR", "SYSLOG", "SYSTEMD-JOURNAL":
		return u, nil
	}
	if !filepath.IsAbs(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) || len(v) > 1024 {
		return "", lang.M("cfg.log_target")
	}
	return filepath.Clean(v), nil
}

// SaveServer writes changed server settings to fail2ban.local, tests the
// configuration and sets them on the running server, checking each; on
// failure the file and the old values come back.
func (c *Service) SaveServer(ctx context.Context, host string, f models.ServerForm) (models.ApplyResult, error) {
	cl, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	cur, err := c.server(ctx, cl)
	if err != nil {
		return models.ApplyResult{}, err
	}
	old := ServerFormOf(cur)
	verr := &services.ValidationError{}
	var changes []f2bconf.Change
	var set, undo []func(context.Context) error
	if lv := strings.ToUpper(strings.TrimSpace(f.LogLevel)); lv != strings.ToUpper(old.LogLevel) {
		valid := false
		for _, l := range LogLevels {
			valid = valid || l == lv
		}
		if !valid {
			verr.Add(FieldLogLevel, lang.M("cfg.log_level", "Levels", strings.Join(LogLevels, ", ")))
		} else {
			changes = append(changes, f2bconf.Change{Section: "Definition", Option: FieldLogLevel, Lines: []string{lv}})
			set = append(set, func(ctx context.Context) error { _, err := cl.SetLogLevel(ctx, lv); return err })
			undo = append(undo, func(ctx context.Context) error { _, err := cl.SetLogLevel(ctx, cur.LogLevel); return err })
		}
	}
	if lt := strings.TrimSpace(f.LogTarget); lt != old.LogTarget {
		t, err := checkLogTarget(lt)
		if err != nil {
			verr.Add(FieldLogTarget, messageOf(err))
		} else {
			changes = append(changes, f2bconf.Change{Section: "Definition", Option: FieldLogTarget, Lines: []string{strings.ReplaceAll(t, "%", "%%")}})
			set = append(set, func(ctx context.Context) error { _, err := cl.SetLogTarget(ctx, t); return err })
			undo = append(undo, func(ctx context.Context) error { _, err := cl.SetLogTarget(ctx, cur.LogTarget); return err })
		}
	}
	if pa := strings.TrimSpace(f.DBPurgeAge); pa != old.DBPurgeAge {
		lines, err := checkField("time", pa)
		if err != nil {
			verr.Add(FieldDBPurgeAge, messageOf(err))
		} else {
			changes = append(changes, f2bconf.Change{Section: "Definition", Option: FieldDBPurgeAge, Lines: lines})
			set = append(set, func(ctx context.Context) error { _, err := cl.SetDBPurgeAge(ctx, lines[0]); return err })
			undo = append(undo, func(ctx context.Context) error {
				_, err := cl.SetDBPurgeAge(ctx, formatSpec(cur.DBPurgeAge))
				return err
			})
		}
	}
	if mm := strings.TrimSpace(f.DBMaxMatches); mm != old.DBMaxMatches {
		n, err := strconv.ParseInt(mm, 10, 64)
		if err != nil || n < 0 || n > 100000 {
			verr.Add(FieldDBMaxMatches, lang.M("cfg.max_matches"))
		} else {
			changes = append(changes, f2bconf.Change{Section: "Definition", Option: FieldDBMaxMatches, Lines: []string{strconv.FormatInt(n, 10)}})
			set = append(set, func(ctx context.Context) error { _, err := cl.SetDBMaxMatches(ctx, n); return err })
			undo = append(undo, func(ctx context.Context) error { _, err := cl.SetDBMaxMatches(ctx, cur.DBMaxMatches); return err })
		}
	}
	if !verr.Empty() {
		return models.ApplyResult{}, verr
	}
	const file = "fail2ban.local"
	if len(changes) == 0 {
		return models.ApplyResult{File: file}, nil
	}
	return c.apply(ctx, cl, change{
		file:     file,
		edit:     func(old []byte) ([]byte, error) { return f2bconf.Edit(file, old, changes) },
		stack:    "fail2ban",
		precheck: itemPrecheck(file, changes),
		apply: func(ctx context.Context) error {
			for _, fn := range set {
				if err := fn(ctx); err != nil {
					return err
				}
			}
			return nil
		},
		undo: func(ctx context.Context) error {
			var errs []error
			for _, fn := range undo {
				errs = append(errs, fn(ctx))
			}
			return errors.Join(errs...)
		},
		verify: func(ctx context.Context) error {
			now, err := c.server(ctx, cl)
			if err != nil {
				return err
			}
			want := ServerFormOf(now)
			for _, ch := range changes {
				got := map[string]string{FieldLogLevel: want.LogLevel, FieldLogTarget: want.LogTarget,
					FieldDBPurgeAge: want.DBPurgeAge, FieldDBMaxMatches: want.DBMaxMatches}[ch.Option]
				exp := strings.ReplaceAll(ch.Lines[0], "%%", "%")
				if ch.Option == FieldDBPurgeAge {
					d, _ := fail2ban.ParseTimeSpec(exp)
					exp = formatSpec(d)
				}
				if !strings.EqualFold(got, exp) {
					return lang.M("cfg.verify_server", "Option", ch.Option, "Got", got, "Want", exp)
				}
			}
			return nil
		},
	})
}

// FlushLogs makes a host's fail2ban reopen its log file.
func (c *Service) FlushLogs(ctx context.Context, host string) (string, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return "", err
	}
	return h.FlushLogs(ctx)
}

// ReloadAll reloads a host's whole fail2ban configuration, waiting for edits
// in progress to finish first.
func (c *Service) ReloadAll(ctx context.Context, host string) error {
	h, err := c.hosts.Get(host)
	if err != nil {
		return err
	}
	unlock, err := c.lock(ctx, h)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := h.Reload(ctx, ""); err != nil {
		said := failureReason(err)
		return &messageError{msg: lang.M("cfg.reload_all_failed", "Reason", said), said: rawText(said), errs: []error{err}}
	}
	c.probe.RefreshHost(ctx, host)
	return nil
}

// Restart restarts a host's fail2ban with its restart command (see
// hosts.Control) and waits up to RestartWait for it to answer ping. It
// returns how long fail2ban took to answer.
func (c *Service) Restart(ctx context.Context, host string) (time.Duration, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return 0, err
	}
	unlock, err := c.lock(ctx, h)
	if err != nil {
		return 0, err
	}
	defer unlock()
	start := c.now()
	if _, err := h.Restart(ctx); err != nil {
		var cmdErr *hosts.RestartCommandError
		if errors.As(err, &cmdErr) { // which command failed and what it printed
			return 0, &messageError{msg: lang.M("cfg.restart_command_failed", "Command", strings.Join(cmdErr.Command, " "),
				"Output", lang.Raw(cmdErr.Output), "Error", lang.Raw(cmdErr.Err.Error())), errs: []error{err}}
		}
		said := failureReason(err)
		return 0, &messageError{msg: lang.M("cfg.restart_failed", "Reason", said), said: rawText(said), errs: []error{err}}
	}
	deadline := time.NewTimer(c.opts.RestartWait)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := h.Ping(pctx)
		cancel()
		if err == nil {
			c.probe.RefreshHost(ctx, host)
			return c.now().Sub(start), nil
		}
		select {
		case <-deadline.C:
			c.probe.RefreshHost(ctx, host)
			return 0, &messageError{msg: lang.M("cfg.restart_no_answer", "Wait", c.opts.RestartWait.String()), errs: []error{ErrRestartNoAnswer}}
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}
