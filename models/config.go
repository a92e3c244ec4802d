package models

import (
	"time"

	"bangui/lang"
)

// ConfigSource says which file (relative to fail2ban's configuration
// directory) and line set a value.
type ConfigSource struct {
	File string
	Line int
}

// ConfigSetting is one merged option as the configuration pages show it.
type ConfigSetting struct {
	Name       string
	Raw        string       // as written, before %(name)s interpolation
	Value      string       // interpolated; empty when Error is set
	Error      lang.Message // why the value cannot be interpolated
	Source     ConfigSource
	Inherited  bool           // comes from [DEFAULT]
	Overridden []ConfigSource // earlier settings it replaced, oldest first
}

// ConfigSection is one section of a merged filter or action.
type ConfigSection struct {
	Name     string
	Settings []ConfigSetting
}

// ConfigJail is one jail of the configuration: from the files, with its
// state from the socket.
type ConfigJail struct {
	Name    string
	Enabled bool   // enabled in the files
	Running bool   // fail2ban runs it now
	Filter  string // filter name
	Source  ConfigSource
	Error   lang.Message // a problem reading its enabled or filter value
	Local   string       // BanGUI's override file for it (jail.d/<name>.local)
}

// ConfigJails is the Jails tab.
type ConfigJails struct {
	Jails    []ConfigJail
	Files    []string       // files merged, in order
	Problems []lang.Message // files fail2ban cannot read
	Offline  lang.Message   // set when fail2ban's socket did not answer
}

// JailForm holds the editable settings of a jail as raw INI values. List
// fields hold one entry per line.
type JailForm struct {
	BanTime        string
	FindTime       string
	MaxRetry       string
	FailRegex      string
	IgnoreRegex    string
	DatePattern    string
	LogEncoding    string
	LogPath        string
	Actions        string
	IncEnabled     bool
	IncFactor      string
	IncFormula     string
	IncMultipliers string
	IncMaxTime     string
	IncRndTime     string
	IncOverall     bool
}

// ConfigJailDetail is one jail's page on the Jails tab.
type ConfigJailDetail struct {
	ConfigJail
	Form     JailForm
	Settings []ConfigSetting // merged view: own options and the inherited ones that matter
	Files    []string
	Problems []lang.Message
}

// NewJailForm is the form that creates a jail.
type NewJailForm struct {
	Name     string
	Filter   string
	LogPath  string
	MaxRetry string
	BanTime  string
	FindTime string
	Enabled  bool
}

// ConfigItem is a filter or an action in a list.
type ConfigItem struct {
	Name   string
	Files  []string // its .conf / .local files that exist
	UsedBy []string // running jails that use it
}

// ConfigItems is the Filters or Actions tab.
type ConfigItems struct {
	Items    []ConfigItem
	Filters  []string // filter names, for the new-jail form
	Offline  lang.Message
	Problems []lang.Message
}

// FilterForm holds a filter's editable [Definition] values. List fields
// hold one entry per line.
type FilterForm struct {
	FailRegex   string
	IgnoreRegex string
	DatePattern string
	PrefRegex   string
}

// KeyValue is one [Init] option of an action.
type KeyValue struct {
	Key   string
	Value string
}

// ActionForm holds an action's editable values: its commands (one shell
// command per line) and its [Init] options.
type ActionForm struct {
	ActionStart string
	ActionStop  string
	ActionCheck string
	ActionBan   string
	ActionUnban string
	Init        []KeyValue
	NewKey      string
	NewValue    string
}

// ConfigItemDetail is one filter's or action's page.
type ConfigItemDetail struct {
	ConfigItem
	Kind     string // "filter" or "action"
	Exists   bool
	Local    string // BanGUI's override file (filter.d/<name>.local)
	Sections []ConfigSection
	Filter   FilterForm
	Action   ActionForm
	Files    []string
	Problems []lang.Message
}

// ApplyResult says what saving a change did: write, test, reload, verify,
// and the rollback when a step failed.
type ApplyResult struct {
	File            string       // the file written, relative to the configuration directory
	Changed         bool         // false when there was nothing to save
	OK              bool         // every step passed
	Failure         lang.Message // what failed, in fail2ban's words where it said something
	RolledBack      bool         // the previous file is back and the jails were reloaded
	RollbackFailure lang.Message // set when even the rollback failed
	Output          string       // the part of Failure in fail2ban's own words, if any
	Reloaded        []string     // jails reloaded with the new configuration
	Restored        []string     // jails reloaded again with the previous configuration
	Verified        bool         // fail2ban was asked and runs with the new values
	Steps           []string     // what happened, in order
}

// RawFile is a file of the raw editor.
type RawFile struct {
	Name    string // relative to the configuration directory
	Exists  bool
	Size    int64
	Content string
	Backup  bool // a .bak copy of the previous version exists
}

// ServerSettings are fail2ban's own settings on the Server tab.
type ServerSettings struct {
	LogLevel     string
	LogTarget    string
	DBPurgeAge   time.Duration
	DBMaxMatches int64
	DBFile       string
	SyslogSocket string
	Version      string
}

// ServerForm holds the editable server settings as typed.
type ServerForm struct {
	LogLevel     string
	LogTarget    string
	DBPurgeAge   string
	DBMaxMatches string
}

// RegexForm is the regex tester's input.
type RegexForm struct {
	FailRegex   string
	IgnoreRegex string
	DatePattern string
	Lines       string // pasted log lines
	LogFile     string // or a log file under the allowed folders
	LogLines    string // how many of its last lines
}

// RegexLine is the tester's result for one line.
type RegexLine struct {
	Number int
	Text   string
	Result string // matched, missed, ignored or skipped
	Host   string
	Time   string
}

// RegexReport is the tester's result.
type RegexReport struct {
	Lines                    []RegexLine
	Matched, Missed, Ignored int
	Hosts                    []string     // when hosts could not be tied to lines
	Source                   lang.Message // "the pasted lines" or the log file
	Took                     time.Duration
}

// LogLine is one line of fail2ban's log.
type LogLine struct {
	Text  string
	Level string // error, warning, notice, info, debug or ""
}

// LogView is the log viewer's content.
type LogView struct {
	Path      string
	Target    string // fail2ban's log target as reported
	Lines     []LogLine
	N         int          // lines asked for
	Filter    string       // substring filter
	Truncated bool         // more lines matched than are shown
	Error     lang.Message // why no lines can be shown
	AllowedIn []string
}
