package services

import (
	"context"
	"fmt"
	"strings"

	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
)

// Field names of the filter and action forms.
const (
	FieldPrefRegex = "prefregex"
	FieldItemName  = "name"
	FieldNewKey    = "new_key"
	FieldNewValue  = "new_value"
)

// itemField is one [Definition] value of a filter or action form.
type itemField struct {
	key  string
	get  func(*models.FilterForm, *models.ActionForm) string
	kind string
}

var filterFields = []itemField{
	{FieldFailRegex, func(f *models.FilterForm, _ *models.ActionForm) string { return f.FailRegex }, "regexes"},
	{FieldIgnoreRegex, func(f *models.FilterForm, _ *models.ActionForm) string { return f.IgnoreRegex }, "regexes"},
	{FieldDatePattern, func(f *models.FilterForm, _ *models.ActionForm) string { return f.DatePattern }, "line"},
	{FieldPrefRegex, func(f *models.FilterForm, _ *models.ActionForm) string { return f.PrefRegex }, "line"},
}

var actionFields = []itemField{
	{"actionstart", func(_ *models.FilterForm, a *models.ActionForm) string { return a.ActionStart }, "commands"},
	{"actionstop", func(_ *models.FilterForm, a *models.ActionForm) string { return a.ActionStop }, "commands"},
	{"actioncheck", func(_ *models.FilterForm, a *models.ActionForm) string { return a.ActionCheck }, "commands"},
	{"actionban", func(_ *models.FilterForm, a *models.ActionForm) string { return a.ActionBan }, "commands"},
	{"actionunban", func(_ *models.FilterForm, a *models.ActionForm) string { return a.ActionUnban }, "commands"},
}

// itemChanges compares a filter or action form with the merged values.
func itemChanges(s *f2bconf.Set, kind string, ff models.FilterForm, af models.ActionForm, creating bool) ([]f2bconf.Change, error) {
	var origF models.FilterForm
	var origA models.ActionForm
	fields := filterFields
	if kind == "action" {
		fields = actionFields
	}
	if s != nil {
		origF = models.FilterForm{FailRegex: raw(s, "Definition", "failregex"), IgnoreRegex: raw(s, "Definition", "ignoreregex"),
			DatePattern: raw(s, "Definition", "datepattern"), PrefRegex: raw(s, "Definition", "prefregex")}
		origA = actionForm(s)
	}
	verr := &ValidationError{}
	var changes []f2bconf.Change
	for _, f := range fields {
		before, after := f.get(&origF, &origA), f.get(&ff, &af)
		if sameValue(f.kind, before, after) && !(creating && strings.TrimSpace(after) != "") {
			continue
		}
		lines, err := checkField(f.kind, after)
		if err != nil {
			verr.add(f.key, err.Error())
			continue
		}
		changes = append(changes, f2bconf.Change{Section: "Definition", Option: f.key, Lines: lines})
	}
	if kind == "filter" && creating && strings.TrimSpace(ff.FailRegex) == "" {
		verr.add(FieldFailRegex, "A filter needs at least one fail regex.")
	}
	if kind == "action" && creating && strings.TrimSpace(af.ActionBan) == "" {
		verr.add("actionban", "An action needs at least the command that bans (actionban).")
	}
	if kind == "action" {
		origInit := map[string]string{}
		for _, kv := range origA.Init {
			origInit[kv.Key] = kv.Value
		}
		for _, kv := range af.Init {
			key := strings.ToLower(strings.TrimSpace(kv.Key))
			if _, known := origInit[key]; !known || strings.TrimSpace(kv.Value) == strings.TrimSpace(origInit[key]) {
				continue
			}
			lines, err := checkField("line", kv.Value)
			if err != nil {
				verr.add("init_"+key, err.Error())
				continue
			}
			changes = append(changes, f2bconf.Change{Section: "Init", Option: key, Lines: lines})
		}
		if k := strings.TrimSpace(af.NewKey); k != "" {
			lines, err := checkField("line", af.NewValue)
			switch {
			case !f2bconf.ValidOptionName(k):
				verr.add(FieldNewKey, "Use letters, digits and _ . - for the name.")
			case err != nil:
				verr.add(FieldNewValue, err.Error())
			default:
				changes = append(changes, f2bconf.Change{Section: "Init", Option: strings.ToLower(k), Lines: lines})
			}
		} else if strings.TrimSpace(af.NewValue) != "" {
			verr.add(FieldNewKey, "Name the new option.")
		}
	}
	if !verr.empty() {
		return nil, verr
	}
	return changes, nil
}

// itemPrecheck checks the merged filter or action before writing.
func itemPrecheck(file string, changes []f2bconf.Change) func(s *f2bconf.Set) error {
	return func(s *f2bconf.Set) error {
		verr := &ValidationError{}
		for _, ch := range changes {
			v, _, ok := s.Lookup(ch.Section, ch.Option)
			field := ch.Option
			if ch.Section == "Init" {
				field = "init_" + ch.Option
			}
			if !ok || v.Source.File != file {
				verr.add(field, fmt.Sprintf("Another file (%s) sets %s after %s; change it there.", v.Source.File, ch.Option, file))
				continue
			}
			if _, err := s.Get(ch.Section, ch.Option); err != nil {
				verr.add(field, err.Error())
			}
		}
		if !verr.empty() {
			return verr
		}
		return nil
	}
}

// SaveItem writes the changed values of a filter or action to its .local
// file, tests the configuration (for filters also by loading the filter in
// fail2ban-regex) and reloads the running jails that use it.
func (c *Configuration) SaveItem(ctx context.Context, host, kind, name string, ff models.FilterForm, af models.ActionForm) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if !validItemName(name) {
		return models.ApplyResult{}, fmt.Errorf("%w: %s %q", ErrConfigNotFound, kind, name)
	}
	s, err := c.load(ctx, h, itemStack(kind, name), nil)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if len(s.Files) == 0 {
		return models.ApplyResult{}, fmt.Errorf("%w: %s %s", ErrConfigNotFound, kind, name)
	}
	changes, err := itemChanges(s, kind, ff, af, false)
	if err != nil {
		return models.ApplyResult{}, err
	}
	file := itemDir(kind) + "/" + name + ".local"
	if len(changes) == 0 {
		return models.ApplyResult{File: file}, nil
	}
	return c.applyItem(ctx, h, kind, name, file, changes, false)
}

// CreateItem creates a new filter or action as NAME.local.
func (c *Configuration) CreateItem(ctx context.Context, host, kind, name string, ff models.FilterForm, af models.ActionForm) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	name = strings.TrimSpace(name)
	verr := &ValidationError{}
	if !validItemName(name) {
		verr.add(FieldItemName, "Use 1 to 64 letters, digits and _ . @ + - for the name (without .conf or .local).")
	} else if names, err := c.itemNames(ctx, h, kind); err != nil {
		return models.ApplyResult{}, err
	} else {
		for _, n := range names {
			if n == name {
				verr.add(FieldItemName, fmt.Sprintf("A %s called %s already exists; edit it instead.", kind, name))
			}
		}
	}
	changes, err := itemChanges(nil, kind, ff, af, true)
	if ve, ok := err.(*ValidationError); ok {
		for k, msgs := range ve.Fields {
			for _, m := range msgs {
				verr.add(k, m)
			}
		}
	} else if err != nil {
		return models.ApplyResult{}, err
	}
	if !verr.empty() {
		return models.ApplyResult{}, verr
	}
	file := itemDir(kind) + "/" + name + ".local"
	return c.applyItem(ctx, h, kind, name, file, changes, true)
}

func (c *Configuration) applyItem(ctx context.Context, h hosts.Host, kind, name, file string, changes []f2bconf.Change, creating bool) (models.ApplyResult, error) {
	run, _ := c.running(ctx, h)
	filters, actions := c.usage(ctx, h, run)
	users := filters[name]
	if kind == "action" {
		users = actions[name]
	}
	ch := change{
		file: file,
		edit: func(old []byte) ([]byte, error) {
			if creating && old != nil {
				return nil, &ValidationError{Fields: map[string][]string{FieldItemName: {file + " already exists."}}}
			}
			return f2bconf.Edit(file, old, changes)
		},
		stack:    itemStack(kind, name),
		precheck: itemPrecheck(file, changes),
		reload:   users,
	}
	if kind == "filter" {
		ch.filterCheck = name
	}
	return c.apply(ctx, h, ch)
}
