package configuration

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"bangui/lang"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/textfmt"
)

// Field names of the jail forms; they are the option names fail2ban uses.
const (
	FieldBanTime        = "bantime"
	FieldFindTime       = "findtime"
	FieldMaxRetry       = "maxretry"
	FieldFailRegex      = "failregex"
	FieldIgnoreRegex    = "ignoreregex"
	FieldDatePattern    = "datepattern"
	FieldLogEncoding    = "logencoding"
	FieldLogPath        = "logpath"
	FieldAction         = "action"
	FieldIncEnabled     = "bantime.increment"
	FieldIncFactor      = "bantime.factor"
	FieldIncFormula     = "bantime.formula"
	FieldIncMultipliers = "bantime.multipliers"
	FieldIncMaxTime     = "bantime.maxtime"
	FieldIncRndTime     = "bantime.rndtime"
	FieldIncOverall     = "bantime.overalljails"
	FieldJailName       = "name"
	FieldFilter         = "filter"
)

// formatSpec writes a duration in fail2ban's notation from whole seconds:
// 600 → 10m, 5400 → 1h30m, -1s → -1. Only digits and unit letters, so
// nothing fail2ban could evaluate as an expression.
func formatSpec(d time.Duration) string {
	if d < 0 {
		return "-1"
	}
	secs := int64(d / time.Second)
	if secs == 0 {
		return "0"
	}
	var b strings.Builder
	for _, u := range []struct {
		n    int64
		unit string
	}{{7 * 86400, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if q := secs / u.n; q > 0 {
			b.WriteString(strconv.FormatInt(q, 10) + u.unit)
			secs -= q * u.n
		}
	}
	return b.String()
}

var (
	encodingRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$`)
	factorRE      = regexp.MustCompile(`^\d{1,6}(\.\d{1,6})?$`)
	multipliersRE = regexp.MustCompile(`^\d{1,9}( \d{1,9}){0,49}$`)
	formulaRE     = regexp.MustCompile(`^[A-Za-z0-9_.+\-*/%<>=!() ]{1,300}$`)
	identRE       = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.]*`)
	actionLineRE  = regexp.MustCompile(`^(%\([^)]+\)s|[A-Za-z0-9_][A-Za-z0-9_.\-]*)`)
	logPathRE     = regexp.MustCompile(`^(/\S+)(\s+(tail|head))?$`)
)

// formulaNames are the names fail2ban's ban time formula may use; anything
// else is refused, because fail2ban evaluates the formula as Python.
var formulaNames = []string{"ban.Time", "ban.Count", "ban.Factor", "banFactor", "banCount", "banTime",
	"if", "else", "and", "or", "not", "min", "max", "abs", "int", "float", "round"}

// jailField describes how one form field is checked and written.
type jailField struct {
	key  string
	get  func(*models.JailForm) string
	kind string // time, time+ (positive), time-1 (may be -1), int, list, regexes, line, encoding, paths, actions, factor, formula, multipliers, bool
}

var jailFields = []jailField{
	{FieldBanTime, func(f *models.JailForm) string { return f.BanTime }, "time-1"},
	{FieldFindTime, func(f *models.JailForm) string { return f.FindTime }, "time+"},
	{FieldMaxRetry, func(f *models.JailForm) string { return f.MaxRetry }, "int"},
	{FieldFailRegex, func(f *models.JailForm) string { return f.FailRegex }, "regexes"},
	{FieldIgnoreRegex, func(f *models.JailForm) string { return f.IgnoreRegex }, "regexes"},
	{FieldDatePattern, func(f *models.JailForm) string { return f.DatePattern }, "line"},
	{FieldLogEncoding, func(f *models.JailForm) string { return f.LogEncoding }, "encoding"},
	{FieldLogPath, func(f *models.JailForm) string { return f.LogPath }, "paths"},
	{FieldAction, func(f *models.JailForm) string { return f.Actions }, "actions"},
	{FieldIncEnabled, func(f *models.JailForm) string { return strconv.FormatBool(f.IncEnabled) }, "bool"},
	{FieldIncFactor, func(f *models.JailForm) string { return f.IncFactor }, "factor"},
	{FieldIncFormula, func(f *models.JailForm) string { return f.IncFormula }, "formula"},
	{FieldIncMultipliers, func(f *models.JailForm) string { return f.IncMultipliers }, "multipliers"},
	{FieldIncMaxTime, func(f *models.JailForm) string { return f.IncMaxTime }, "time"},
	{FieldIncRndTime, func(f *models.JailForm) string { return f.IncRndTime }, "time"},
	{FieldIncOverall, func(f *models.JailForm) string { return strconv.FormatBool(f.IncOverall) }, "bool"},
}

// normalizedField is a changed field's value as it will be written.
type normalizedField struct {
	key   string
	lines []string // nil: remove the option from BanGUI's file
	secs  int64    // for time fields, to verify
	isInt bool
	n     int64
}

// checkField validates and normalises one submitted value. It returns the
// lines to write (empty value: []string{""}).
func checkField(kind, v string) ([]string, error) {
	v = strings.TrimSpace(v)
	lines := textfmt.SplitLines(v)
	switch kind {
	case "time", "time+", "time-1":
		d, err := fail2ban.ParseTimeSpec(v)
		if err != nil {
			return nil, err
		}
		if d < 0 && kind != "time-1" {
			return nil, lang.M("cfg.time_negative")
		}
		if d == 0 && kind == "time+" {
			return nil, lang.M("cfg.time_zero")
		}
		return []string{formatSpec(d)}, nil
	case "int":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1_000_000 {
			return nil, lang.M("cfg.int_range")
		}
		return []string{strconv.FormatInt(n, 10)}, nil
	case "bool":
		return []string{v}, nil
	case "encoding":
		if !encodingRE.MatchString(v) {
			return nil, lang.M("cfg.encoding")
		}
		return []string{v}, nil
	case "factor":
		if !factorRE.MatchString(v) {
			return nil, lang.M("cfg.factor")
		}
		return []string{v}, nil
	case "multipliers":
		m := strings.Join(strings.Fields(v), " ")
		if !multipliersRE.MatchString(m) {
			return nil, lang.M("cfg.multipliers")
		}
		return []string{m}, nil
	case "formula":
		if !formulaRE.MatchString(v) || strings.Contains(v, "__") {
			return nil, lang.M("cfg.formula_chars")
		}
		for _, id := range identRE.FindAllString(v, -1) {
			if !slices.Contains(formulaNames, id) {
				return nil, lang.M("cfg.formula_name", "Name", strconv.Quote(id))
			}
		}
		return []string{v}, nil
	case "line":
		if len(lines) > 1 {
			return nil, lang.M("cfg.single_line")
		}
	case "paths":
		for _, l := range lines {
			if !logPathRE.MatchString(l) {
				return nil, lang.M("cfg.log_path", "Path", strconv.Quote(l))
			}
		}
	case "actions":
		for _, l := range lines {
			if !actionLineRE.MatchString(l) || strings.Count(l, "[") != strings.Count(l, "]") {
				return nil, lang.M("cfg.action_line", "Action", strconv.Quote(l))
			}
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	for _, l := range lines {
		if len(l) > 4096 {
			return nil, lang.M("cfg.line_too_long", "Max", 4096)
		}
	}
	if err := f2bconf.CheckValue(lines); err != nil {
		return nil, err
	}
	return lines, nil
}

// sameValue compares a raw merged value with submitted text, line by line.
func sameValue(kind, orig, submitted string) bool {
	if kind == "bool" {
		return f2bconf.AsBool(orig) == (submitted == "true")
	}
	return strings.Join(textfmt.SplitLines(orig), "\n") == strings.Join(textfmt.SplitLines(submitted), "\n")
}

// jailChanges compares the submitted form with the merged values and
// returns the changes to write to the jail's .local file.
func jailChanges(s *f2bconf.Set, name string, form models.JailForm) ([]f2bconf.Change, []normalizedField, error) {
	orig := jailForm(s, name)
	verr := &services.ValidationError{}
	var changes []f2bconf.Change
	var fields []normalizedField
	for _, f := range jailFields {
		before, after := f.get(&orig), f.get(&form)
		if f.kind == "bool" {
			before = raw(s, name, f.key)
		}
		if sameValue(f.kind, before, after) {
			continue
		}
		nf := normalizedField{key: f.key}
		if strings.TrimSpace(after) == "" && f.kind != "bool" {
			// Cleared: drop BanGUI's own setting, or override with an
			// empty value what another file set.
			v, _, _ := s.Lookup(name, f.key)
			if v.Source.File == jailLocal(name) {
				changes = append(changes, f2bconf.Change{Section: name, Option: f.key, Remove: true})
				fields = append(fields, nf)
				continue
			}
			if f.kind != "regexes" && f.kind != "actions" && f.kind != "line" {
				verr.Add(f.key, lang.M("cfg.enter_value"))
				continue
			}
		}
		lines, err := checkField(f.kind, after)
		if err != nil {
			verr.Add(f.key, messageOf(err))
			continue
		}
		nf.lines = lines
		switch f.kind {
		case "time", "time+", "time-1":
			d, _ := fail2ban.ParseTimeSpec(lines[0])
			nf.secs = int64(d / time.Second)
		case "int":
			nf.n, _ = strconv.ParseInt(lines[0], 10, 64)
			nf.isInt = true
		}
		changes = append(changes, f2bconf.Change{Section: name, Option: f.key, Lines: lines})
		fields = append(fields, nf)
	}
	if !verr.Empty() {
		return nil, nil, verr
	}
	return changes, fields, nil
}

// mergedPrecheck checks the merged result of a change before it is
// written: every changed option must now come from the file BanGUI writes
// (not be set again by a later file) and must interpolate.
func mergedPrecheck(section, file string, keys []string, removed map[string]bool) func(s *f2bconf.Set) error {
	return func(s *f2bconf.Set) error {
		verr := &services.ValidationError{}
		for _, k := range keys {
			v, _, ok := s.Lookup(section, k)
			if removed[k] {
				continue
			}
			if !ok || v.Source.File != file {
				where := lang.M("cfg.another_file")
				if ok {
					where = lang.Raw(v.Source.File)
				}
				verr.Add(k, lang.M("cfg.set_again_later", "Where", where, "Option", k, "File", file))
				continue
			}
			if _, err := s.Get(section, k); err != nil {
				var ie *f2bconf.InterpolationError
				if errors.As(err, &ie) && ie.Kind == f2bconf.ErrMissingOption && strings.HasPrefix(ie.Detail, "known/") {
					continue // fail2ban fills known/ values of jails from their filter
				}
				verr.Add(k, messageOf(err))
			}
		}
		if !verr.Empty() {
			return verr
		}
		return nil
	}
}

// SaveJail writes the changed settings of a jail to jail.d/<name>.local,
// tests the configuration, reloads the jail and checks that it runs with
// the new values; on any failure the previous file comes back.
func (c *Service) SaveJail(ctx context.Context, host, name string, form models.JailForm) (models.ApplyResult, error) {
	h, s, err := c.configuredJail(ctx, host, name)
	if err != nil {
		return models.ApplyResult{}, err
	}
	changes, fields, err := jailChanges(s, name, form)
	if err != nil {
		return models.ApplyResult{}, err
	}
	file := jailLocal(name)
	if len(changes) == 0 {
		return models.ApplyResult{File: file}, nil
	}
	var keys []string
	removed := map[string]bool{}
	for _, ch := range changes {
		keys = append(keys, ch.Option)
		removed[ch.Option] = ch.Remove
	}
	return c.apply(ctx, h, change{
		file:     file,
		edit:     func(old []byte) ([]byte, error) { return f2bconf.Edit(file, old, changes) },
		stack:    "jail",
		precheck: mergedPrecheck(name, file, keys, removed),
		reload:   []string{name},
		expect:   func(s *f2bconf.Set) map[string]bool { return map[string]bool{name: boolOf(s, name, "enabled")} },
		verify:   verifyJail(h, name, fields),
	})
}

// verifyJail checks the values a host's fail2ban reports for a reloaded
// jail.
func verifyJail(client hosts.Commands, name string, fields []normalizedField) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		st, err := client.Status(ctx)
		if err != nil {
			return lang.M("cfg.verify_no_answer", "Error", err)
		}
		if !slices.Contains(st.Jails, name) {
			return nil // a disabled jail: nothing runs to compare with
		}
		for _, f := range fields {
			if f.lines == nil {
				continue
			}
			switch f.key {
			case FieldMaxRetry:
				got, err := client.MaxRetry(ctx, name)
				if err != nil {
					return err
				}
				if got != f.n {
					return lang.M("cfg.verify_maxretry", "Jail", name, "Got", got, "Want", f.n)
				}
			case FieldBanTime, FieldFindTime:
				var got time.Duration
				if f.key == FieldBanTime {
					got, err = client.BanTime(ctx, name)
				} else {
					got, err = client.FindTime(ctx, name)
				}
				if err != nil {
					return err
				}
				if int64(got/time.Second) != f.secs {
					return lang.M("cfg.verify_time", "Jail", name, "Option", f.key, "Got", int64(got/time.Second), "Want", f.secs)
				}
			}
		}
		return nil
	}
}

// SetJailEnabled activates or deactivates a jail through enabled = true or
// false in jail.d/<name>.local, then reloads it: an activated jail must
// run afterwards, a deactivated one must not.
func (c *Service) SetJailEnabled(ctx context.Context, host, name string, on bool) (models.ApplyResult, error) {
	h, _, err := c.configuredJail(ctx, host, name)
	if err != nil {
		return models.ApplyResult{}, err
	}
	file := jailLocal(name)
	changes := []f2bconf.Change{{Section: name, Option: "enabled", Lines: []string{strconv.FormatBool(on)}}}
	return c.apply(ctx, h, change{
		file:     file,
		edit:     func(old []byte) ([]byte, error) { return f2bconf.Edit(file, old, changes) },
		stack:    "jail",
		precheck: mergedPrecheck(name, file, []string{"enabled"}, nil),
		reload:   []string{name},
		expect:   func(*f2bconf.Set) map[string]bool { return map[string]bool{name: on} },
	})
}

// CreateJail writes a new jail to jail.d/<name>.local. An enabled jail is
// loaded and must run afterwards.
func (c *Service) CreateJail(ctx context.Context, host string, f models.NewJailForm) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	verr := &services.ValidationError{}
	name := strings.TrimSpace(f.Name)
	s, err := c.load(ctx, h, "jail", nil)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if err := fail2ban.ValidJailName(name); err != nil {
		verr.Add(FieldJailName, messageOf(err))
	} else if s.HasSection(name) || name == "INCLUDES" {
		verr.Add(FieldJailName, lang.M("cfg.jail_exists", "Name", name))
	}
	filters, err := c.itemNames(ctx, h, "filter")
	if err != nil {
		return models.ApplyResult{}, err
	}
	filter := strings.TrimSpace(f.Filter)
	if !slices.Contains(filters, filter) {
		verr.Add(FieldFilter, lang.M("cfg.choose_filter"))
	}
	var changes []f2bconf.Change
	add := func(key, kind, v string, required bool) {
		if strings.TrimSpace(v) == "" {
			if required {
				verr.Add(key, lang.M("cfg.enter_value"))
			}
			return
		}
		lines, err := checkField(kind, v)
		if err != nil {
			verr.Add(key, messageOf(err))
			return
		}
		changes = append(changes, f2bconf.Change{Section: name, Option: key, Lines: lines})
	}
	changes = append(changes, f2bconf.Change{Section: name, Option: "enabled", Lines: []string{strconv.FormatBool(f.Enabled)}},
		f2bconf.Change{Section: name, Option: "filter", Lines: []string{filter}})
	add(FieldLogPath, "paths", f.LogPath, true)
	add(FieldMaxRetry, "int", f.MaxRetry, false)
	add(FieldFindTime, "time+", f.FindTime, false)
	add(FieldBanTime, "time-1", f.BanTime, false)
	if !verr.Empty() {
		return models.ApplyResult{}, verr
	}
	file := jailLocal(name)
	ch := change{
		file: file,
		edit: func(old []byte) ([]byte, error) {
			if old != nil {
				return nil, services.Invalid(FieldJailName, lang.M("cfg.jail_file_exists", "File", file))
			}
			return f2bconf.Edit(file, nil, changes)
		},
		stack:    "jail",
		precheck: mergedPrecheck(name, file, []string{"enabled", "filter"}, nil),
		expect:   func(*f2bconf.Set) map[string]bool { return map[string]bool{name: f.Enabled} },
	}
	if f.Enabled {
		ch.reload = []string{name}
	}
	return c.apply(ctx, h, ch)
}

// jailLocal is the file BanGUI writes for a jail.
func jailLocal(name string) string { return "jail.d/" + name + ".local" }

// Jails lists every jail of the configuration, enabled or not, with its
// state from the socket.
func (c *Service) Jails(ctx context.Context, host string) (models.ConfigJails, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigJails{}, err
	}
	run, offline := c.running(ctx, h)
	s, err := c.load(ctx, h, "jail", nil)
	if err != nil {
		return models.ConfigJails{Offline: offline, Problems: []lang.Message{messageOf(err)}}, nil
	}
	out := models.ConfigJails{Files: s.Files, Problems: problems(s), Offline: offline}
	seen := map[string]bool{}
	for _, j := range s.Jails() {
		seen[j.Name] = true
		cj := models.ConfigJail{Name: j.Name, Enabled: j.Enabled, Running: slices.Contains(run, j.Name),
			Filter: j.Filter, Source: source(j.Source), Local: jailLocal(j.Name)}
		if j.Err != nil {
			cj.Error = messageOf(j.Err)
		}
		out.Jails = append(out.Jails, cj)
	}
	for _, name := range run {
		if !seen[name] {
			out.Jails = append(out.Jails, models.ConfigJail{Name: name, Running: true,
				Error: lang.M("cfg.jail_not_defined")})
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
func (c *Service) Jail(ctx context.Context, host, name string) (models.ConfigJailDetail, error) {
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
				d.Error = messageOf(j.Err)
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
func (c *Service) configuredJail(ctx context.Context, host, name string) (hosts.Host, *f2bconf.Set, error) {
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
		return nil, nil, fmt.Errorf("%w: jail %s", ErrNotFound, name)
	}
	return h, s, nil
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
