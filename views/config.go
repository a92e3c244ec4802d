package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"bangui/models"
)

// Tabs of the configuration page.
const (
	ConfigTabJails   = "jails"
	ConfigTabFilters = "filters"
	ConfigTabActions = "actions"
	ConfigTabRaw     = "raw"
	ConfigTabServer  = "server"
	ConfigTabRegex   = "regex"
	ConfigTabLog     = "log"
)

type configTab struct{ id, path, label string }

var configTabs = []configTab{
	{ConfigTabJails, "/config", "Jails"},
	{ConfigTabFilters, "/config/filters", "Filters"},
	{ConfigTabActions, "/config/actions", "Actions"},
	{ConfigTabRaw, "/config/raw", "Raw files"},
	{ConfigTabServer, "/config/server", "Server"},
	{ConfigTabRegex, "/config/regex", "Regex tester"},
	{ConfigTabLog, "/config/log", "Log"},
}

// ConfigJailsPage is the Jails tab.
type ConfigJailsPage struct {
	Jails   models.ConfigJails
	Filters []string
	New     models.NewJailForm
	Errors  map[string][]string
}

// ConfigJailPage is one jail on the Jails tab.
type ConfigJailPage struct {
	Jail   models.ConfigJailDetail
	Form   models.JailForm
	Errors map[string][]string
}

// ConfigItemsPage is the Filters or Actions tab.
type ConfigItemsPage struct {
	Kind      string // "filter" or "action"
	Items     models.ConfigItems
	Query     string
	NewName   string
	NewFilter models.FilterForm
	NewAction models.ActionForm
	Errors    map[string][]string
}

// ConfigItemPage is one filter or action.
type ConfigItemPage struct {
	Item   models.ConfigItemDetail
	Filter models.FilterForm
	Action models.ActionForm
	Errors map[string][]string
}

// ConfigRawPage is the raw editor.
type ConfigRawPage struct {
	Files   []models.RawFile
	Open    *models.RawFile // the file being edited
	Name    string          // the name asked for
	Content string
	Errors  map[string][]string
	MaxKB   int
}

// ConfigServerPage is the Server tab.
type ConfigServerPage struct {
	Settings models.ServerSettings
	Form     models.ServerForm
	Errors   map[string][]string
	Levels   []string
	Offline  string
	// PurgeShort is set when the purge age (as saved or as typed) is below
	// one day, which shows the warning.
	PurgeShort bool
}

// ConfigRegexPage is the regex tester.
type ConfigRegexPage struct {
	Form    models.RegexForm
	Errors  map[string][]string
	Report  *models.RegexReport
	LogDirs []string
}

// ConfigLogPage is the log viewer.
type ConfigLogPage struct {
	View  models.LogView
	Auto  bool
	Sizes []int
}

// TextArea describes a labelled textarea.
type TextArea struct {
	ID, Name, Label, Value, Hint string
	Rows                         int
	Errors                       []string
	Mono                         bool
}

func (a TextArea) name() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

func (a TextArea) rows() string {
	if a.Rows <= 0 {
		return "3"
	}
	return strconv.Itoa(a.Rows)
}

// fieldID turns an option name into an element id: "bantime.factor" →
// "f-bantime-factor".
func fieldID(name string) string {
	return "f-" + strings.NewReplacer(".", "-", "_", "-", "/", "-").Replace(name)
}

func configJailURL(name string) string { return "/config/jails/" + url.PathEscape(name) }

func configItemsURL(kind string) string {
	if kind == "action" {
		return "/config/actions"
	}
	return "/config/filters"
}

func configItemURL(kind, name string) string {
	return configItemsURL(kind) + "/" + url.PathEscape(name)
}

func rawURL(name string) string { return "/config/raw?file=" + url.QueryEscape(name) }

func kindTitle(kind string) string {
	if kind == "action" {
		return "Actions"
	}
	return "Filters"
}

func kindName(kind string) string {
	if kind == "action" {
		return "action"
	}
	return "filter"
}

func sourceText(s models.ConfigSource) string {
	if s.File == "" {
		return "—"
	}
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// settingOf finds a merged option by name.
func settingOf(list []models.ConfigSetting, name string) (models.ConfigSetting, bool) {
	for _, s := range list {
		if s.Name == name {
			return s, true
		}
	}
	return models.ConfigSetting{}, false
}

// originHint says where a jail form field's current value comes from.
func originHint(list []models.ConfigSetting, name, local, extra string) string {
	s, ok := settingOf(list, name)
	var h string
	switch {
	case !ok:
		h = "Not set for this jail in any file."
	case s.Inherited:
		h = "Inherited from [DEFAULT] in " + sourceText(s.Source) + "."
	case s.Source.File == local:
		h = "Set by BanGUI in " + sourceText(s.Source) + "."
	default:
		h = "Set in " + sourceText(s.Source) + "."
	}
	if extra != "" {
		h = extra + " " + h
	}
	return h
}

func jailState(j models.ConfigJail) (label, class string) {
	switch {
	case j.Running:
		return "Active", "badge badge--ok"
	case j.Enabled:
		return "Enabled, not running", "badge badge--bad"
	default:
		return "Inactive", "badge badge--muted"
	}
}

func resultBadge(r string) string {
	switch r {
	case "matched":
		return "badge badge--ok"
	case "ignored":
		return "badge badge--warn"
	case "missed":
		return "badge badge--bad"
	}
	return "badge badge--muted"
}

func logClass(level string) string {
	if level == "" {
		return "cfg-log__line"
	}
	return "cfg-log__line cfg-log__line--" + level
}

func logQuery(v models.LogView, auto bool) string {
	q := url.Values{}
	q.Set("n", strconv.Itoa(v.N))
	if v.Filter != "" {
		q.Set("q", v.Filter)
	}
	if auto {
		q.Set("auto", "1")
	}
	return q.Encode()
}

func joinNames(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}

func fmtBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func confirmDeactivate(name string) string {
	return fmt.Sprintf("Deactivate the jail %s? BanGUI writes enabled = false to jail.d/%s.local and reloads it: it stops watching its logs and lifts its bans.", name, name)
}

func confirmActivate(name string) string {
	return fmt.Sprintf("Activate the jail %s? BanGUI writes enabled = true to jail.d/%s.local, tests the configuration and starts the jail.", name, name)
}

func itemMatches(it models.ConfigItem, q string) bool {
	return q == "" || strings.Contains(strings.ToLower(it.Name), strings.ToLower(q))
}

func filteredItems(items []models.ConfigItem, q string) []models.ConfigItem {
	var out []models.ConfigItem
	for _, it := range items {
		if itemMatches(it, q) {
			out = append(out, it)
		}
	}
	return out
}

func sizeOption(n int) string { return strconv.Itoa(n) }

func nString(n int) string { return strconv.Itoa(n) }
