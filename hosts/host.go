// Package hosts is the seam between the panel and the fail2ban
// installations it manages. A Host is everything the panel asks of one
// fail2ban: typed socket commands, reload and restart, its configuration
// directory, the regex tester, its log files and the rows of its database.
// Local is today's host on the panel's own machine; a Registry hands
// services a host by id.
package hosts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/lang"
	"bangui/repo"
)

// Host is one fail2ban installation.
type Host interface {
	// ID names the host in URLs, the archive and the registry.
	ID() string
	Commands
	Control
	ConfigFiles
	RegexTester
	LogFiles
	// BanRows reads the rows of fail2ban's database for the archive sync.
	BanRows(ctx context.Context) (repo.BanRowSource, error)
}

// Commands are the typed socket commands the panel sends a fail2ban
// server; *fail2ban.Client implements them (see there for what each does).
// Every command validates jail names, addresses and values before sending.
type Commands interface {
	ServerCommands
	JailCommands
	BanCommands
}

// ServerCommands ask about and change the server as a whole.
type ServerCommands interface {
	Ping(ctx context.Context) error
	Version(ctx context.Context) (string, error)
	Status(ctx context.Context) (fail2ban.ServerStatus, error)
	AllJailStatus(ctx context.Context) ([]fail2ban.JailStatus, error)
	LogLevel(ctx context.Context) (string, error)
	SetLogLevel(ctx context.Context, level string) (string, error)
	LogTarget(ctx context.Context) (string, error)
	SetLogTarget(ctx context.Context, target string) (string, error)
	SyslogSocket(ctx context.Context) (string, error)
	DBFile(ctx context.Context) (string, error)
	DBPurgeAge(ctx context.Context) (time.Duration, error)
	SetDBPurgeAge(ctx context.Context, value string) (time.Duration, error)
	DBMaxMatches(ctx context.Context) (int64, error)
	SetDBMaxMatches(ctx context.Context, n int64) (int64, error)
	FlushLogs(ctx context.Context) (string, error)
}

// JailCommands ask about and change one running jail.
type JailCommands interface {
	RequireJail(ctx context.Context, name string) error
	JailStatus(ctx context.Context, jail string) (fail2ban.JailStatus, error)
	JailStatusShort(ctx context.Context, jail string) (fail2ban.JailStatus, error)
	JailBasics(ctx context.Context, jail string) (fail2ban.JailBasics, error)
	JailSettings(ctx context.Context, jail string) (fail2ban.JailSettings, error)
	BanTime(ctx context.Context, jail string) (time.Duration, error)
	FindTime(ctx context.Context, jail string) (time.Duration, error)
	MaxRetry(ctx context.Context, jail string) (int64, error)
	StartJail(ctx context.Context, jail string) error
	StopJail(ctx context.Context, jail string) error
	SetIdle(ctx context.Context, jail string, on bool) error
	IgnoreIPs(ctx context.Context, jail string) ([]string, error)
	AddIgnoreIP(ctx context.Context, jail string, ips ...string) ([]string, error)
	DelIgnoreIP(ctx context.Context, jail, ip string) ([]string, error)
	SetIgnoreSelf(ctx context.Context, jail string, on bool) (bool, error)
}

// BanCommands list, add and lift bans.
type BanCommands interface {
	BannedWithTime(ctx context.Context, jail string, loc *time.Location) ([]fail2ban.BanEntry, error)
	BannedAll(ctx context.Context) (map[string][]string, error)
	JailsOf(ctx context.Context, ips ...string) ([][]string, error)
	Ban(ctx context.Context, jail string, ips ...string) (int, error)
	Unban(ctx context.Context, jail string, ips ...string) (int, error)
	UnbanEverywhere(ctx context.Context, ips ...string) (int, error)
	UnbanAll(ctx context.Context) (int, error)
}

// Control runs what the socket cannot do: reload and restart (the client
// side reads the configuration) and the configuration test. Each returns
// what fail2ban said; failures of fail2ban-client are *fail2ban.RunError.
type Control interface {
	// Reload re-reads the configuration for one jail, or all when jail is "".
	Reload(ctx context.Context, jail string) (string, error)
	// Restart restarts fail2ban; a configured restart command that fails
	// yields a *RestartCommandError.
	Restart(ctx context.Context) (string, error)
	// TestConfig checks the whole configuration ("fail2ban-client -t").
	TestConfig(ctx context.Context) (string, error)
}

// ConfigFiles is fail2ban's configuration directory on the host: read with
// fail2ban's merge rules, and its editable files (jail.local,
// fail2ban.local and the .local files of jail.d/, filter.d/ and action.d/,
// see fail2ban/config.CleanEditable) read and written. Names are relative
// to the directory, with slashes; a name the editor refuses yields a
// *f2bconf.PathError.
type ConfigFiles interface {
	// ConfigDir names the directory as the host sees it, for messages; ""
	// when it is not known.
	ConfigDir() string
	// LoadConfig reads one stack ("jail", "fail2ban", "filter.d/sshd"),
	// with overlay files replacing those on disk (nil content: no file).
	LoadConfig(ctx context.Context, stack string, overlay map[string][]byte) (*f2bconf.Set, error)
	// ConfigItems lists the filters ("filter.d") or actions ("action.d")
	// with the files that define each, sorted by name.
	ConfigItems(ctx context.Context, folder string) ([]ConfigItem, error)
	// EditableFiles lists the editable files that exist, without content.
	EditableFiles(ctx context.Context) ([]ConfigFile, error)
	// ReadConfigFile reads one editable file; a missing file comes back
	// with Exists false.
	ReadConfigFile(ctx context.Context, name string) (ConfigFile, error)
	// WriteConfigFile replaces an editable file atomically, keeping its
	// previous version as name+f2bconf.BackupSuffix.
	WriteConfigFile(ctx context.Context, name string, data []byte) (Replaced, error)
	// CreateConfigFile writes an editable file only when it does not exist
	// yet, and reports whether it wrote.
	CreateConfigFile(ctx context.Context, name string, data []byte) (bool, error)
	// LockConfig waits (until ctx ends) for the directory's edit lock,
	// which orders edits of every panel process; call unlock to release it.
	LockConfig(ctx context.Context) (unlock func(), err error)
}

// ConfigItem is one filter or action and the files that define it.
type ConfigItem struct {
	Name  string
	Files []string // NAME.conf and NAME.local as far as they exist, relative to the directory
}

// ConfigFile is one editable file of the configuration directory.
type ConfigFile struct {
	Name   string
	Exists bool
	Size   int64
	Backup bool   // a previous version (name+f2bconf.BackupSuffix) exists
	Data   []byte // the content, from ReadConfigFile only; nil when the file does not exist
}

// Replaced is what WriteConfigFile replaced.
type Replaced struct {
	Existed bool // the file existed before
	// Restore puts the previous content (or no file) and the previous
	// backup back.
	Restore func(ctx context.Context) error
}

// RegexTester runs fail2ban's own regex tester on the host.
type RegexTester interface {
	// TestRegex runs fail2ban-regex on t (see fail2ban.RegexRunner.Test).
	TestRegex(ctx context.Context, t fail2ban.RegexTest) (fail2ban.RegexResult, error)
	// CheckFilter loads a filter of the configuration directory as fail2ban
	// does and reports a *fail2ban.RegexError when fail2ban cannot use it.
	CheckFilter(ctx context.Context, name string) error
}

// LogFiles reads log files on the host, confined to the folders it allows.
type LogFiles interface {
	// LogDirs are the folders whose files TailLog may read.
	LogDirs() []string
	// TailLog returns the last n lines of the file at path (absolute) that
	// contain filter, case insensitive (every line when filter is empty).
	// A path outside LogDirs, or one that is no readable regular file,
	// yields a *LogPathError.
	TailLog(ctx context.Context, path string, n int, filter string) (LogTail, error)
}

// LogTail is the end of a log file.
type LogTail struct {
	Lines     []string
	Truncated bool // the file holds more (matching) lines than these
}

// Database is implemented by hosts whose fail2ban database the panel reads
// directly, for the pages that query it instead of the archive: only the
// local host.
type Database interface {
	// Fail2banDB opens fail2ban's database read-only and keeps it open
	// until its path changes. fail2ban.ErrNoDatabase means fail2ban runs
	// without one.
	Fail2banDB(ctx context.Context) (*repo.Fail2BanDBReader, error)
	// PurgeAge is how long fail2ban keeps bans in its database (fail2ban's
	// default, a day, when it cannot be asked).
	PurgeAge(ctx context.Context) time.Duration
}

// ErrNoDirectDatabase is returned by DatabaseOf for hosts whose fail2ban
// database the panel cannot read directly.
var ErrNoDirectDatabase = errors.New("BanGUI reads this host's fail2ban database only through the archive")

// DatabaseOf returns h's directly readable fail2ban database, or
// ErrNoDirectDatabase.
func DatabaseOf(h Host) (Database, error) {
	if db, ok := h.(Database); ok {
		return db, nil
	}
	return nil, ErrNoDirectDatabase
}

// ErrUnknownHost matches the error of Registry.Get for an id it does not
// know.
var ErrUnknownHost = errors.New("unknown fail2ban host")

// UnknownHostError is an id the registry does not know.
type UnknownHostError struct{ ID string }

// Error implements error.
func (e *UnknownHostError) Error() string { return e.message().Error() }

func (e *UnknownHostError) message() lang.Message {
	return lang.M("fleet.unknown_host", "ID", strconv.Quote(e.ID))
}

// As gives errors.As (and lang.Of) the error in the panel's words.
func (e *UnknownHostError) As(target any) bool { return lang.As(target, e.message()) }

// Is makes errors.Is(err, ErrUnknownHost) true.
func (e *UnknownHostError) Is(target error) bool { return target == ErrUnknownHost }

// ErrLogNotAllowed means a log file lies outside the allowed folders.
var ErrLogNotAllowed = errors.New("the file is not inside the folders BanGUI may read")

// LogPathError is a log file TailLog refused or could not open: outside
// the allowed folders (matching ErrLogNotAllowed), missing, or not a
// regular file. Its message is meant for the page.
type LogPathError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *LogPathError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *LogPathError) Unwrap() error { return e.Err }

// RestartCommandError is a configured restart command that failed.
type RestartCommandError struct {
	Command []string
	Output  string // combined output, trimmed
	Err     error
}

// Error implements error.
func (e *RestartCommandError) Error() string { return e.message().Error() }

func (e *RestartCommandError) message() lang.Message {
	return lang.M("fleet.restart_failed", "Command", strings.Join(e.Command, " "), "Output", e.Output, "Cause", e.Err)
}

// As gives errors.As (and lang.Of) the error in the panel's words.
func (e *RestartCommandError) As(target any) bool { return lang.As(target, e.message()) }

// Unwrap returns the run's error.
func (e *RestartCommandError) Unwrap() error { return e.Err }
