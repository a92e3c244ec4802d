package services

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
)

// ErrConfigNotFound is returned for a jail, filter or action that the
// configuration does not define.
var ErrConfigNotFound = errors.New("not defined in the configuration")

// ErrConfigNameUnsupported matches a *JailNameError.
var ErrConfigNameUnsupported = errors.New("cannot be edited by form")

// JailNameError is returned for a jail the configuration defines under a
// name BanGUI does not put in a file name (it writes a jail's changes to
// jail.d/<name>.local), so the forms cannot edit it. Its message is meant
// for the page.
type JailNameError struct{ Name string }

func (e *JailNameError) Error() string {
	return "BanGUI cannot edit the jail " + strconv.Quote(e.Name) + " with its forms: it writes a jail's changes to " +
		"jail.d/<name>.local and does not put such a name in a file name. Change it in the raw editor."
}

// Is makes errors.Is(err, ErrConfigNameUnsupported) true.
func (e *JailNameError) Is(target error) bool { return target == ErrConfigNameUnsupported }

// jailNameError explains why BanGUI does not edit the jail name: unknown,
// or defined under a name it does not write (err is ValidJailName's).
func (c *Configuration) jailNameError(ctx context.Context, h hosts.Host, name string, err error) error {
	if s, lerr := c.load(ctx, h, "jail", nil); lerr == nil && s.HasSection(name) {
		return &JailNameError{Name: name}
	}
	return fmt.Errorf("%w: %v", ErrConfigNotFound, err)
}

// ErrConfigUnreadable means fail2ban's configuration directory could not
// be read at all (missing, not a directory, no permission).
var ErrConfigUnreadable = errors.New("fail2ban's configuration directory cannot be read")

// ConfigOptions configure the Configuration use case. What belongs to a
// host (fail2ban-regex, the readable log folders, the restart command) is
// set on the host (hosts.LocalOptions).
type ConfigOptions struct {
	// RestartWait bounds the wait for fail2ban to answer after a restart;
	// default 10 s.
	RestartWait time.Duration
	// LockWait bounds the wait for another edit of the configuration to
	// finish; default 60 s.
	LockWait time.Duration
}

// Configuration is the use case behind the configuration pages: it reads a
// host's fail2ban configuration directory with fail2ban's merge rules,
// writes .local files only, and applies every change by testing the whole
// configuration, reloading what it affects and checking the result, with a
// rollback when any step fails. Every method acts on the host with the
// given id.
type Configuration struct {
	hosts *hosts.Registry
	probe *StatusProbe
	opts  ConfigOptions
	now   func() time.Time
}

// NewConfiguration wires the configuration use case. probe may be nil.
func NewConfiguration(reg *hosts.Registry, probe *StatusProbe, opts ConfigOptions) *Configuration {
	if opts.RestartWait <= 0 {
		opts.RestartWait = 10 * time.Second
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 60 * time.Second
	}
	return &Configuration{hosts: reg, probe: probe, opts: opts, now: time.Now}
}

// LogDirs returns the folders the log viewer and the regex tester may read
// on a host.
func (c *Configuration) LogDirs(_ context.Context, host string) ([]string, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	return h.LogDirs(), nil
}

// load reads one stack of a host's configuration directory.
func (c *Configuration) load(ctx context.Context, h hosts.Host, stack string, overlay map[string][]byte) (*f2bconf.Set, error) {
	s, err := h.LoadConfig(ctx, stack, overlay)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfigUnreadable, err)
	}
	return s, nil
}

// running returns the jails a host's fail2ban runs, or an offline message.
func (c *Configuration) running(ctx context.Context, h hosts.Host) ([]string, string) {
	st, err := h.Status(ctx)
	if err != nil {
		c.probe.Observe(h.ID(), err)
		if fail2ban.IsUnreachable(err) {
			return nil, "fail2ban is not answering, so whether a jail runs is unknown. Changes are saved only while fail2ban answers."
		}
		return nil, "fail2ban answered with an error: " + err.Error()
	}
	return st.Jails, ""
}

func problems(s *f2bconf.Set) []string {
	var out []string
	for _, p := range s.Problems {
		out = append(out, p.Error())
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
		out.Error = err.Error()
	} else {
		out.Value = val
	}
	return out
}

// jailLocal is the file BanGUI writes for a jail.
func jailLocal(name string) string { return "jail.d/" + name + ".local" }

// Jails lists every jail of the configuration, enabled or not, with its
// state from the socket.
func (c *Configuration) Jails(ctx context.Context, host string) (models.ConfigJails, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigJails{}, err
	}
	run, offline := c.running(ctx, h)
	s, err := c.load(ctx, h, "jail", nil)
	if err != nil {
		return models.ConfigJails{Offline: offline, Problems: []string{err.Error()}}, nil
	}
	out := models.ConfigJails{Files: s.Files, Problems: problems(s), Offline: offline}
	seen := map[string]bool{}
	for _, j := range s.Jails() {
		seen[j.Name] = true
		cj := models.ConfigJail{Name: j.Name, Enabled: j.Enabled, Running: slices.Contains(run, j.Name),
			Filter: j.Filter, Source: source(j.Source), Local: jailLocal(j.Name)}
		if j.Err != nil {
			cj.Error = j.Err.Error()
		}
		out.Jails = append(out.Jails, cj)
	}
	for _, name := range run {
		if !seen[name] {
			out.Jails = append(out.Jails, models.ConfigJail{Name: name, Running: true,
				Error: "fail2ban runs this jail, but the configuration files no longer define it."})
		}
	}
	slices.SortStableFunc(out.Jails, func(a, b models.ConfigJail) int {
		if a.Running != b.Running {
			if a.Running {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// jailKeys are the options the jail form edits, in form order.
var jailKeys = []string{"bantime", "findtime", "maxretry", "failregex", "ignoreregex", "datepattern", "logencoding",
	"logpath", "action", "bantime.increment", "bantime.factor", "bantime.formula", "bantime.multipliers",
	"bantime.maxtime", "bantime.rndtime", "bantime.overalljails"}

// shownInherited are DEFAULT options worth showing in a jail's merged view.
var shownInherited = []string{"enabled", "filter", "port", "protocol", "backend", "banaction", "usedns", "ignoreip", "ignoreself"}

// Jail returns one jail's merged settings, with the file each came from,
// and its form values.
func (c *Configuration) Jail(ctx context.Context, host, name string) (models.ConfigJailDetail, error) {
	h, s, err := c.configuredJail(ctx, host, name)
	if err != nil {
		return models.ConfigJailDetail{}, err
	}
	run, _ := c.running(ctx, h)
	d := models.ConfigJailDetail{Files: s.Files, Problems: problems(s)}
	for _, j := range s.Jails() {
		if j.Name == name {
			d.ConfigJail = models.ConfigJail{Name: name, Enabled: j.Enabled, Running: slices.Contains(run, name),
				Filter: j.Filter, Source: source(j.Source), Local: jailLocal(name)}
			if j.Err != nil {
				d.Error = j.Err.Error()
			}
		}
	}
	d.Form = jailForm(s, name)
	own := map[string]bool{}
	for _, v := range s.Own(name) {
		own[v.Name] = true
		d.Settings = append(d.Settings, setting(s, name, v, false))
	}
	for _, k := range append(slices.Clone(shownInherited), jailKeys...) {
		if own[k] {
			continue
		}
		if v, inh, ok := s.Lookup(name, k); ok && inh {
			own[k] = true
			d.Settings = append(d.Settings, setting(s, name, v, true))
		}
	}
	return d, nil
}

// configuredJail returns a host and its merged jail configuration, which
// defines the jail name under a name BanGUI edits.
func (c *Configuration) configuredJail(ctx context.Context, host, name string) (hosts.Host, *f2bconf.Set, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, nil, err
	}
	if err := fail2ban.ValidJailName(name); err != nil {
		return nil, nil, c.jailNameError(ctx, h, name, err)
	}
	s, err := c.load(ctx, h, "jail", nil)
	if err != nil {
		return nil, nil, err
	}
	if !s.HasSection(name) || name == "INCLUDES" {
		return nil, nil, fmt.Errorf("%w: jail %s", ErrConfigNotFound, name)
	}
	return h, s, nil
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

// jailForm fills the form from the merged values.
func jailForm(s *f2bconf.Set, name string) models.JailForm {
	return models.JailForm{
		BanTime: raw(s, name, "bantime"), FindTime: raw(s, name, "findtime"), MaxRetry: raw(s, name, "maxretry"),
		FailRegex: raw(s, name, "failregex"), IgnoreRegex: raw(s, name, "ignoreregex"),
		DatePattern: raw(s, name, "datepattern"), LogEncoding: raw(s, name, "logencoding"),
		LogPath: raw(s, name, "logpath"), Actions: raw(s, name, "action"),
		IncEnabled: boolOf(s, name, "bantime.increment"), IncFactor: raw(s, name, "bantime.factor"),
		IncFormula: raw(s, name, "bantime.formula"), IncMultipliers: raw(s, name, "bantime.multipliers"),
		IncMaxTime: raw(s, name, "bantime.maxtime"), IncRndTime: raw(s, name, "bantime.rndtime"),
		IncOverall: boolOf(s, name, "bantime.overalljails"),
	}
}

// itemStack is the stack name of a filter or action.
func itemStack(kind, name string) string {
	if kind == "action" {
		return "action.d/" + name
	}
	return "filter.d/" + name
}

// itemDir is the folder of filters or actions.
func itemDir(kind string) string {
	if kind == "action" {
		return "action.d"
	}
	return "filter.d"
}

// itemFiles lists which of NAME.conf and NAME.local exist.
func itemFiles(s *f2bconf.Set, kind, name string) []string {
	var out []string
	for _, f := range s.Files {
		if f == itemDir(kind)+"/"+name+".conf" || f == itemDir(kind)+"/"+name+".local" {
			out = append(out, f)
		}
	}
	return out
}

// usage maps each filter and action name to the running jails using it.
func (c *Configuration) usage(ctx context.Context, h hosts.Host, run []string) (filters, actions map[string][]string) {
	filters, actions = map[string][]string{}, map[string][]string{}
	s, err := c.load(ctx, h, "jail", nil)
	if err != nil {
		return filters, actions
	}
	for _, j := range s.Jails() {
		if !slices.Contains(run, j.Name) {
			continue
		}
		if j.Filter != "" {
			filters[j.Filter] = append(filters[j.Filter], j.Name)
		}
		if v, err := s.Get(j.Name, "action"); err == nil {
			seen := map[string]bool{}
			for _, a := range f2bconf.SplitActions(v) {
				n := f2bconf.OptionName(a)
				if n != "" && !seen[n] {
					seen[n] = true
					actions[n] = append(actions[n], j.Name)
				}
			}
		}
	}
	return filters, actions
}

// Items lists the filters (kind "filter") or actions ("action") of the
// configuration directory with the running jails that use each.
func (c *Configuration) Items(ctx context.Context, host, kind string) (models.ConfigItems, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigItems{}, err
	}
	run, offline := c.running(ctx, h)
	items, err := h.ConfigItems(ctx, itemDir(kind))
	if err != nil {
		return models.ConfigItems{Offline: offline, Problems: []string{"read fail2ban's configuration: " + err.Error()}}, nil
	}
	filters, actions := c.usage(ctx, h, run)
	used := filters
	if kind == "action" {
		used = actions
	}
	out := models.ConfigItems{Offline: offline}
	for _, it := range items {
		out.Items = append(out.Items, models.ConfigItem{Name: it.Name, UsedBy: used[it.Name], Files: it.Files})
	}
	slices.SortStableFunc(out.Items, func(a, b models.ConfigItem) int {
		if (len(a.UsedBy) > 0) != (len(b.UsedBy) > 0) {
			if len(a.UsedBy) > 0 {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	if kind == "filter" {
		out.Filters = itemNames(items)
	}
	return out, nil
}

// itemNames returns the names of items.
func itemNames(items []hosts.ConfigItem) []string {
	if len(items) == 0 {
		return nil
	}
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.Name
	}
	return names
}

// Filters lists a host's filter names, for the new-jail form.
func (c *Configuration) Filters(ctx context.Context, host string) ([]string, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	return c.itemNames(ctx, h, "filter")
}

// itemNames lists the names of a host's filters or actions.
func (c *Configuration) itemNames(ctx context.Context, h hosts.Host, kind string) ([]string, error) {
	items, err := h.ConfigItems(ctx, itemDir(kind))
	if err != nil {
		return nil, fmt.Errorf("read fail2ban's configuration: %w", err)
	}
	return itemNames(items), nil
}

// Item returns one filter or action with its merged sections and form.
func (c *Configuration) Item(ctx context.Context, host, kind, name string) (models.ConfigItemDetail, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigItemDetail{}, err
	}
	if !validItemName(name) {
		return models.ConfigItemDetail{}, fmt.Errorf("%w: %s %q", ErrConfigNotFound, kind, name)
	}
	s, err := c.load(ctx, h, itemStack(kind, name), nil)
	if err != nil {
		return models.ConfigItemDetail{}, err
	}
	if len(s.Files) == 0 {
		return models.ConfigItemDetail{}, fmt.Errorf("%w: %s %s", ErrConfigNotFound, kind, name)
	}
	run, _ := c.running(ctx, h)
	filters, actions := c.usage(ctx, h, run)
	d := models.ConfigItemDetail{Kind: kind, Exists: true, Local: itemDir(kind) + "/" + name + ".local",
		Files: s.Files, Problems: problems(s)}
	d.Name = name
	d.ConfigItem.Files = itemFiles(s, kind, name)
	if kind == "action" {
		d.UsedBy = actions[name]
	} else {
		d.UsedBy = filters[name]
	}
	for _, sec := range s.Sections() {
		cs := models.ConfigSection{Name: sec}
		for _, v := range s.Own(sec) {
			cs.Settings = append(cs.Settings, setting(s, sec, v, false))
		}
		d.Sections = append(d.Sections, cs)
	}
	if defs := s.Own(f2bconf.DefaultSection); len(defs) > 0 {
		cs := models.ConfigSection{Name: f2bconf.DefaultSection}
		for _, v := range defs {
			cs.Settings = append(cs.Settings, setting(s, f2bconf.DefaultSection, v, false))
		}
		d.Sections = append(d.Sections, cs)
	}
	if kind == "action" {
		d.Action = actionForm(s)
	} else {
		d.Filter = models.FilterForm{
			FailRegex: raw(s, "Definition", "failregex"), IgnoreRegex: raw(s, "Definition", "ignoreregex"),
			DatePattern: raw(s, "Definition", "datepattern"), PrefRegex: raw(s, "Definition", "prefregex"),
		}
	}
	return d, nil
}

func actionForm(s *f2bconf.Set) models.ActionForm {
	f := models.ActionForm{
		ActionStart: raw(s, "Definition", "actionstart"), ActionStop: raw(s, "Definition", "actionstop"),
		ActionCheck: raw(s, "Definition", "actioncheck"), ActionBan: raw(s, "Definition", "actionban"),
		ActionUnban: raw(s, "Definition", "actionunban"),
	}
	for _, v := range s.Own("Init") {
		f.Init = append(f.Init, models.KeyValue{Key: v.Name, Value: v.Raw})
	}
	return f
}
