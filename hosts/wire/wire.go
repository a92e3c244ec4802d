// Package wire is the protocol between the panel (hosts.Remote) and
// `bangui agent`: the paths, the names of the calls, their argument and
// result shapes and the error codes. Both sides import it, so they cannot
// drift apart. Everything travels as JSON over HTTPS.
//
// A call is POST Prefix+"call/"+method with the arguments as the JSON body
// and "Authorization: Bearer <credential>"; a success answers 200 with the
// result as the body ({"result": …}); a failure answers 4xx/5xx with
// {"error": Error}.
package wire

import (
	"bangui/fail2ban"
	"bangui/lang"
	"bangui/repo"
)

// Paths of the agent's API.
const (
	Prefix     = "/v1/"
	PathEnroll = Prefix + "enroll" // POST EnrollRequest → EnrollResponse; no credential
	PathRevoke = Prefix + "revoke" // POST, no body: the agent forgets the credential
	PathInfo   = Prefix + "info"   // GET → Info
	PathCall   = Prefix + "call/"  // POST PathCall+method
)

// Limits shared by both sides.
const (
	// MaxBody is the largest request body the agent reads, like the
	// panel's own body limit.
	MaxBody = 1 << 20
	// MaxReply is the largest answer the panel reads from an agent.
	MaxReply = 32 << 20
	// MaxRowsPage is the most fail2ban rows one call returns: small pages
	// keep the agent's memory low while the panel reads a whole database
	// (the panel asks for repo.SyncBatch rows in several pages).
	MaxRowsPage = 1000
	// MaxTailLines is the most log lines one tail returns.
	MaxTailLines = 5000
	// MaxAddresses is the most addresses or ranges one ban, unban or
	// ignore-list call carries.
	MaxAddresses = 10000
)

// Methods: the only things the agent does. Each is one method of
// hosts.Host (see there for what it does).
const (
	// ServerCommands
	Ping            = "ping"
	Version         = "version"
	Status          = "status"
	AllJailStatus   = "all-jail-status"
	LogLevel        = "log-level"
	SetLogLevel     = "set-log-level"
	LogTarget       = "log-target"
	SetLogTarget    = "set-log-target"
	SyslogSocket    = "syslog-socket"
	DBFile          = "db-file"
	DBPurgeAge      = "db-purge-age"
	SetDBPurgeAge   = "set-db-purge-age"
	DBMaxMatches    = "db-max-matches"
	SetDBMaxMatches = "set-db-max-matches"
	FlushLogs       = "flush-logs"
	// JailCommands
	RequireJail     = "require-jail"
	JailStatus      = "jail-status"
	JailStatusShort = "jail-status-short"
	JailBasics      = "jail-basics"
	JailSettings    = "jail-settings"
	BanTime         = "ban-time"
	FindTime        = "find-time"
	MaxRetry        = "max-retry"
	StartJail       = "start-jail"
	StopJail        = "stop-jail"
	SetIdle         = "set-idle"
	IgnoreIPs       = "ignore-ips"
	AddIgnoreIP     = "add-ignore-ip"
	DelIgnoreIP     = "del-ignore-ip"
	SetIgnoreSelf   = "set-ignore-self"
	// BanCommands
	BannedWithTime  = "banned-with-time"
	BannedAll       = "banned-all"
	JailsOf         = "jails-of"
	Ban             = "ban"
	Unban           = "unban"
	UnbanEverywhere = "unban-everywhere"
	UnbanAll        = "unban-all"
	// Control
	Reload     = "reload"
	Restart    = "restart"
	TestConfig = "test-config"
	// ConfigFiles
	LoadConfig        = "load-config"
	ConfigItems       = "config-items"
	EditableFiles     = "editable-files"
	ReadConfigFile    = "read-config-file"
	WriteConfigFile   = "write-config-file"
	RestoreConfigFile = "restore-config-file"
	CreateConfigFile  = "create-config-file"
	LockConfig        = "lock-config"
	UnlockConfig      = "unlock-config"
	// RegexTester
	TestRegex   = "test-regex"
	CheckFilter = "check-filter"
	// LogFiles
	TailLog = "tail-log"
	// BanRows
	OpenRows         = "open-rows"
	NewRowsSince     = "new-rows-since"
	RowsAtOrAfter    = "rows-at-or-after"
	RowByID          = "row-by-id"
	LastRowAtOrBelow = "last-row-at-or-below"
	MaxRowID         = "max-row-id"
)

// Result is the body of a successful call.
type Result[T any] struct {
	Result T `json:"result"`
}

// Failure is the body of a failed request.
type Failure struct {
	Error Error `json:"error"`
}

// Error is an error as it crosses the wire: a code naming its Go type (see
// the Code* constants), its whole message and the fields its type carries.
// hosts turns it back into the same Go error.
type Error struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Field   string        `json:"field,omitempty"`  // ValidationError.Field
	Name    string        `json:"name,omitempty"`   // PathError.Name, LogPathError.Path
	Class   string        `json:"class,omitempty"`  // CommandError.Class
	Detail  string        `json:"detail,omitempty"` // the typed error's own message when Message wraps it
	Text    *lang.Message `json:"text,omitempty"`   // the Message of a ValidationError, PathError, ValueError or RegexError, for the panel to translate
	Cause   string        `json:"cause,omitempty"`  // RunError.Err, RestartCommandError.Err, LogPathError.Err
	Args    []string      `json:"args,omitempty"`   // RunError.Args, RestartCommandError.Command
	Output  string        `json:"output,omitempty"` // RunError.Output, RestartCommandError.Output
	Line    int           `json:"line,omitempty"`   // ValueError.Line
	Flag    bool          `json:"flag,omitempty"`   // RunError.TimedOut; LogPathError outside the folders
}

// Error codes. The first group names Go error types and sentinels of the
// host; the second the agent's own refusals.
const (
	CodeValidation     = "validation"      // *fail2ban.ValidationError
	CodeConfigPath     = "config-path"     // *f2bconf.PathError
	CodeConfigValue    = "config-value"    // *f2bconf.ValueError
	CodeLogPath        = "log-path"        // *hosts.LogPathError
	CodeRegex          = "regex"           // *fail2ban.RegexError
	CodeRestartCommand = "restart-command" // *hosts.RestartCommandError
	CodeRun            = "run"             // *fail2ban.RunError
	CodeCommand        = "command"         // *fail2ban.CommandError (fail2ban.ErrUnknownJail among them)
	CodeProtocol       = "protocol"        // *fail2ban.ProtocolError
	CodeNoDatabase     = "no-database"     // fail2ban.ErrNoDatabase
	CodePermission     = "permission"      // fail2ban.ErrPermission
	CodeTimeout        = "timeout"         // fail2ban.ErrTimeout
	CodeUnreachable    = "unreachable"     // fail2ban.ErrUnreachable
	CodeReplyTooLarge  = "reply-too-large" // fail2ban.ErrReplyTooLarge
	CodeEditRunning    = "edit-running"    // f2bconf.ErrEditRunning
	CodeBusy           = "busy"            // repo.ErrBusy
	CodeNotExist       = "not-exist"       // fs.ErrNotExist
	CodeError          = "error"           // any other error: the message only

	CodeUnauthorized  = "unauthorized"   // no, a wrong or a revoked credential
	CodeNotEnrolled   = "not-enrolled"   // nothing but enrolment before it
	CodeBadToken      = "bad-token"      // a wrong, used or expired enrolment token
	CodeBadRequest    = "bad-request"    // undecodable or invalid arguments
	CodeTooLarge      = "too-large"      // a body above MaxBody
	CodeRateLimited   = "rate-limited"   // too many failed attempts
	CodeUnknownMethod = "unknown-method" // no such call
	CodeLockExpired   = "lock-expired"   // a lock or restore id the agent no longer holds
)

// EnrollRequest exchanges the one-time token for the credential.
type EnrollRequest struct {
	Token string `json:"token"`
}

// EnrollResponse carries the long-lived credential, once.
type EnrollResponse struct {
	Credential string `json:"credential"`
	Version    string `json:"version"`
}

// Info describes the agent and its host.
type Info struct {
	Version   string   `json:"version"`   // the agent's (bangui's) version
	ConfigDir string   `json:"configDir"` // fail2ban's configuration directory on the host
	LogDirs   []string `json:"logDirs"`   // folders its logs may be read from
}

// Jail is the argument of calls about one jail.
type Jail struct {
	Jail string `json:"jail"`
}

// JailBool is a jail and a switch (SetIdle, SetIgnoreSelf).
type JailBool struct {
	Jail string `json:"jail"`
	On   bool   `json:"on"`
}

// JailIPs is a jail and addresses (Ban, Unban, AddIgnoreIP, DelIgnoreIP).
type JailIPs struct {
	Jail string   `json:"jail"`
	IPs  []string `json:"ips"`
}

// IPs is a list of addresses (JailsOf, UnbanEverywhere).
type IPs struct {
	IPs []string `json:"ips"`
}

// Value is one text value (SetLogLevel, SetLogTarget, SetDBPurgeAge).
type Value struct {
	Value string `json:"value"`
}

// Number is one integer (SetDBMaxMatches).
type Number struct {
	N int64 `json:"n"`
}

// BanEntries is the answer of BannedWithTime: the bans with their times
// as instants (the agent reads them in its own time zone).
type BanEntries []fail2ban.BanEntry

// LoadConfigArgs reads one stack with overlays.
type LoadConfigArgs struct {
	Stack   string            `json:"stack"`
	Overlay map[string][]byte `json:"overlay,omitempty"` // null content: no file
}

// Folder names filter.d or action.d.
type Folder struct {
	Folder string `json:"folder"`
}

// File names an editable file, with content for writes.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data,omitempty"`
}

// Written is the answer of WriteConfigFile: whether the file existed, and
// the id under which the agent keeps the previous version for
// RestoreConfigFile (for RestoreTTL).
type Written struct {
	Existed   bool   `json:"existed"`
	RestoreID string `json:"restoreId"`
}

// ID names a lock or a previous version the agent holds.
type ID struct {
	ID string `json:"id"`
}

// LockWait is the argument of LockConfig: how long the agent may wait for
// the lock (the panel's own deadline, less the way back), at most
// MaxLockWaitMS.
type LockWait struct {
	WaitMS int64 `json:"waitMs"`
}

// MaxLockWaitMS bounds LockWait.WaitMS.
const MaxLockWaitMS = 120_000

// Lock is the answer of LockConfig: the lock's id, held until UnlockConfig
// or for TTLSeconds at most.
type Lock struct {
	ID         string `json:"id"`
	TTLSeconds int    `json:"ttlSeconds"`
}

// Name is a filter name (CheckFilter).
type Name struct {
	Name string `json:"name"`
}

// Tail asks for the end of a log file.
type Tail struct {
	Path   string `json:"path"`
	N      int    `json:"n"`
	Filter string `json:"filter,omitempty"`
}

// LogTail is the answer of TailLog.
type LogTail struct {
	Lines     []string `json:"lines"`
	Truncated bool     `json:"truncated"`
}

// Rows asks for fail2ban rows (NewRowsSince, RowsAtOrAfter).
type Rows struct {
	Since      int64 `json:"since,omitempty"`
	AfterRowID int64 `json:"afterRowId"`
	MaxRowID   int64 `json:"maxRowId,omitempty"`
	Limit      int   `json:"limit"`
}

// RowID names one rowid (RowByID, LastRowAtOrBelow).
type RowID struct {
	RowID int64 `json:"rowId"`
}

// FoundRow is a row that may not exist.
type FoundRow struct {
	Row   repo.F2BRow `json:"row"`
	Found bool        `json:"found"`
}

// Empty is the argument of calls without one.
type Empty struct{}
