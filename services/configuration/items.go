package configuration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"bangui/lang"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
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
	verr := &services.ValidationError{}
	var changes []f2bconf.Change
	for _, f := range fields {
		before, after := f.get(&origF, &origA), f.get(&ff, &af)
		if sameValue(f.kind, before, after) && !(creating && strings.TrimSpace(after) != "") {
			continue
		}
		lines, err := checkField(f.kind, after)
		if err != nil {
			verr.Add(f.key, messageOf(err))
			continue
		}
		changes = append(changes, f2bconf.Change{Section: "Definition", Option: f.key, Lines: lines})
	}
	if kind == "filter" && creating && strings.TrimSpace(ff.FailRegex) == "" {
		verr.Add(FieldFailRegex, lang.M("cfg.filter_needs_failregex"))
	}
	if kind == "action" && creating && strings.TrimSpace(af.ActionBan) == "" {
		verr.Add("actionban", lang.M("cfg.action_needs_ban"))
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
				verr.Add("init_"+key, messageOf(err))
				continue
			}
			changes = append(changes, f2bconf.Change{Section: "Init", Option: key, Lines: lines})
		}
		if k := strings.TrimSpace(af.NewKey); k != "" {
			lines, err := checkField("line", af.NewValue)
			switch {
			case !f2bconf.ValidOptionName(k):
				verr.Add(FieldNewKey, lang.M("cfg.option_name"))
			case err != nil:
				verr.Add(FieldNewValue, messageOf(err))
			default:
				changes = append(changes, f2bconf.Change{Section: "Init", Option: strings.ToLower(k), Lines: lines})
			}
		} else if strings.TrimSpace(af.NewValue) != "" {
			verr.Add(FieldNewKey, lang.M("cfg.option_name_missing"))
		}
	}
	if !verr.Empty() {
		return nil, verr
	}
	return changes, nil
}

// itemPrecheck checks the merged filter or action before writing.
func itemPrecheck(file string, changes []f2bconf.Change) func(s *f2bconf.Set) error {
	return func(s *f2bconf.Set) error {
		verr := &services.ValidationError{}
		for _, ch := range changes {
			v, _, ok := s.Lookup(ch.Section, ch.Option)
			field := ch.Option
			if ch.Section == "Init" {
				field = "init_" + ch.Option
			}
			if !ok || v.Source.File != file {
				verr.Add(field, lang.M("cfg.item_set_again_later", "Where", v.Source.File, "Option", ch.Option, "File", file))
				continue
			}
			if _, err := s.Get(ch.Section, ch.Option); err != nil {
				verr.Add(field, messageOf(err))
			}
		}
		if !verr.Empty() {
			return verr
		}
		return nil
	}
}

// SaveItem writes the changed values of a filter or action to its .local
// file, tests the configuration (for filters also by loading the filter in
// fail2ban-regex) and reloads the running jails that use it.
func (c *Service) SaveItem(ctx context.Context, host, kind, name string, ff models.FilterForm, af models.ActionForm) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if !fail2ban.ValidItemName(name) {
		return models.ApplyResult{}, fmt.Errorf("%w: %s %q", ErrNotFound, kind, name)
	}
	s, err := c.load(ctx, h, itemStack(kind, name), nil)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if len(s.Files) == 0 {
		return models.ApplyResult{}, fmt.Errorf("%w: %s %s", ErrNotFound, kind, name)
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
func (c *Service) CreateItem(ctx context.Context, host, kind, name string, ff models.FilterForm, af models.ActionForm) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	name = strings.TrimSpace(name)
	verr := &services.ValidationError{}
	if !fail2ban.ValidItemName(name) {
		verr.Add(FieldItemName, lang.M("cfg.item_name"))
	} else if names, err := c.itemNames(ctx, h, kind); err != nil {
		return models.ApplyResult{}, err
	} else {
		for _, n := range names {
			if n == name {
				exists := lang.M("cfg.filter_exists", "Name", name)
				if kind == "action" {
					exists = lang.M("cfg.action_exists", "Name", name)
				}
				verr.Add(FieldItemName, exists)
			}
		}
	}
	changes, err := itemChanges(nil, kind, ff, af, true)
	if ve, ok := err.(*services.ValidationError); ok {
		for k, msgs := range ve.Fields {
			for _, m := range msgs {
				verr.Add(k, m)
			}
		}
	} else if err != nil {
		return models.ApplyResult{}, err
	}
	if !verr.Empty() {
		return models.ApplyResult{}, verr
	}
	file := itemDir(kind) + "/" + name + ".local"
	return c.applyItem(ctx, h, kind, name, file, changes, true)
}

func (c *Service) applyItem(ctx context.Context, h hosts.Host, kind, name, file string, changes []f2bconf.Change, creating bool) (models.ApplyResult, error) {
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
				return nil, services.Invalid(FieldItemName, lang.M("cfg.file_exists", "File", file))
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
func (c *Service) usage(ctx context.Context, h hosts.Host, run []string) (filters, actions map[string][]string) {
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
func (c *Service) Items(ctx context.Context, host, kind string) (models.ConfigItems, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigItems{}, err
	}
	run, offline := c.running(ctx, h)
	items, err := h.ConfigItems(ctx, itemDir(kind))
	if err != nil {
		return models.ConfigItems{Offline: offline, Problems: []lang.Message{lang.M("cfg.read_config_failed", "Error", err)}}, nil
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
func (c *Service) Filters(ctx context.Context, host string) ([]string, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	return c.itemNames(ctx, h, "filter")
}

// itemNames lists the names of a host's filters or actions.
func (c *Service) itemNames(ctx context.Context, h hosts.Host, kind string) ([]string, error) {
	items, err := h.ConfigItems(ctx, itemDir(kind))
	if err != nil {
		return nil, fmt.Errorf("read fail2ban's configuration: %w", err)
	}
	return itemNames(items), nil
}

// Item returns one filter or action with its merged sections and form.
func (c *Service) Item(ctx context.Context, host, kind, name string) (models.ConfigItemDetail, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ConfigItemDetail{}, err
	}
	if !fail2ban.ValidItemName(name) {
		return models.ConfigItemDetail{}, fmt.Errorf("%w: %s %q", ErrNotFound, kind, name)
	}
	s, err := c.load(ctx, h, itemStack(kind, name), nil)
	if err != nil {
		return models.ConfigItemDetail{}, err
	}
	if len(s.Files) == 0 {
		return models.ConfigItemDetail{}, fmt.Errorf("%w: %s %s", ErrNotFound, kind, name)
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
