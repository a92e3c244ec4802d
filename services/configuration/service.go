// Package configuration is the use case behind the configuration pages: a
// host's fail2ban configuration read with fail2ban's merge rules, edited
// through .local files only (jails, filters and actions, raw files, server
// settings) and applied with a test, a reload and a rollback, plus the log
// viewer and the regex tester.
package configuration

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
)

// ErrNotFound is returned for a jail, filter or action that the
// configuration does not define.
var ErrNotFound = errors.New("not defined in the configuration")

// ErrNameUnsupported matches a *JailNameError.
var ErrNameUnsupported = errors.New("cannot be edited by form")

// JailNameError is returned for a jail the configuration defines under a
// name BanGUI does not put in a file name (it writes a jail's changes to
// jail.d/<name>.local), so the forms cannot edit it. Its message is meant
// for the page.
type JailNameError struct{ Name string }

func (e *JailNameError) Error() string { return e.Message().Error() }

// Message is the error for a person, in any language.
func (e *JailNameError) Message() lang.Message {
	return lang.M("cfg.jail_name_unsupported", "Name", strconv.Quote(e.Name))
}

// As lets lang.Of find the error's Message.
func (e *JailNameError) As(target any) bool { return lang.As(target, e.Message()) }

// Is makes errors.Is(err, ErrNameUnsupported) true.
func (e *JailNameError) Is(target error) bool { return target == ErrNameUnsupported }

// jailNameError explains why BanGUI does not edit the jail name: unknown,
// or defined under a name it does not write (err is ValidJailName's).
func (c *Service) jailNameError(ctx context.Context, h hosts.Host, name string, err error) error {
	if s, lerr := c.load(ctx, h, "jail", nil); lerr == nil && s.HasSection(name) {
		return &JailNameError{Name: name}
	}
	return fmt.Errorf("%w: %v", ErrNotFound, err)
}

// ErrUnreadable means fail2ban's configuration directory could not
// be read at all (missing, not a directory, no permission).
var ErrUnreadable = errors.New("fail2ban's configuration directory cannot be read")

// messageError is a failure worded for a person (msg) that wraps the
// errors it stands for, so errors.Is and errors.As still find them.
type messageError struct {
	msg  lang.Message
	said string // the part of msg in fail2ban's own words, if any
	errs []error
}

// Fail2banWords is the part of err's message in fail2ban's own words (its
// output, quoted in BanGUI's message), "" when there is none.
func Fail2banWords(err error) string {
	var me *messageError
	if errors.As(err, &me) {
		return me.said
	}
	return ""
}

// messageOf is err as a message for a person: a refusal of package
// fail2ban's own message, else the Message err holds or its words.
func messageOf(err error) lang.Message {
	var ve *fail2ban.ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	return lang.Of(err)
}

// rawText is m's text when it is a Raw text (words from outside the
// panel), else "".
func rawText(m lang.Message) string {
	if m.ID() != "" {
		return ""
	}
	return m.Error()
}

func (e *messageError) Error() string { return e.msg.Error() }

// Unwrap returns the errors the message stands for.
func (e *messageError) Unwrap() []error { return e.errs }

// As lets lang.Of find the message.
func (e *messageError) As(target any) bool { return lang.As(target, e.msg) }

// Options configure the configuration use case. What belongs to a
// host (fail2ban-regex, the readable log folders, the restart command) is
// set on the host (hosts.LocalOptions).
type Options struct {
	// RestartWait bounds the wait for fail2ban to answer after a restart;
	// default 10 s.
	RestartWait time.Duration
	// LockWait bounds the wait for another edit of the configuration to
	// finish; default 60 s.
	LockWait time.Duration
}

// Service is the use case behind the configuration pages: it reads a
// host's fail2ban configuration directory with fail2ban's merge rules,
// writes .local files only, and applies every change by testing the whole
// configuration, reloading what it affects and checking the result, with a
// rollback when any step fails. Every method acts on the host with the
// given id.
type Service struct {
	// Preserver, when set, archives a host's pending fail2ban rows before
	// a change reloads jails (a reload may stop a jail).
	Preserver services.Preserver

	hosts *hosts.Registry
	probe *services.StatusProbe
	opts  Options
	now   func() time.Time
}

// New wires the configuration use case. probe may be nil.
func New(reg *hosts.Registry, probe *services.StatusProbe, opts Options) *Service {
	if opts.RestartWait <= 0 {
		opts.RestartWait = 10 * time.Second
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 60 * time.Second
	}
	return &Service{hosts: reg, probe: probe, opts: opts, now: time.Now}
}

// LogDirs returns the folders the log viewer and the regex tester may read
// on a host.
func (c *Service) LogDirs(_ context.Context, host string) ([]string, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	return h.LogDirs(), nil
}

// load reads one stack of a host's configuration directory.
func (c *Service) load(ctx context.Context, h hosts.Host, stack string, overlay map[string][]byte) (*f2bconf.Set, error) {
	s, err := h.LoadConfig(ctx, stack, overlay)
	if err != nil {
		return nil, &messageError{msg: lang.M("cfg.config_unreadable", "Error", err), errs: []error{ErrUnreadable, err}}
	}
	return s, nil
}

// running returns the jails a host's fail2ban runs, or an offline message.
func (c *Service) running(ctx context.Context, h hosts.Host) ([]string, lang.Message) {
	st, err := h.Status(ctx)
	if err != nil {
		c.probe.Observe(h.ID(), err)
		if fail2ban.IsUnreachable(err) {
			return nil, lang.M("cfg.offline_running_unknown")
		}
		return nil, lang.M("cfg.fail2ban_error", "Error", err)
	}
	return st.Jails, lang.Message{}
}

func problems(s *f2bconf.Set) []lang.Message {
	var out []lang.Message
	for _, p := range s.Problems {
		out = append(out, messageOf(p))
	}
	return out
}

func source(s f2bconf.Source) models.ConfigSource {
	return models.ConfigSource{File: s.File, Line: s.Line}
}

// setting turns one merged option into its view.
func setting(s *f2bconf.Set, section string, v f2bconf.Value, inherited bool) models.ConfigSetting {
	out := models.ConfigSetting{Name: v.Name, Raw: v.Raw, Source: source(v.Source), Inherited: inherited}
	for _, o := range v.Overrides {
		out.Overridden = append(out.Overridden, source(o))
	}
	val, err := s.Get(section, v.Name)
	if err != nil {
		out.Error = messageOf(err)
	} else {
		out.Value = val
	}
	return out
}

// raw returns an option's raw merged value ("" when unset).
func raw(s *f2bconf.Set, section, key string) string {
	v, _, ok := s.Lookup(section, key)
	if !ok {
		return ""
	}
	return v.Raw
}

// boolOf is an option's interpolated value read as fail2ban reads booleans.
func boolOf(s *f2bconf.Set, section, key string) bool {
	v, err := s.Get(section, key)
	return err == nil && f2bconf.AsBool(v)
}
