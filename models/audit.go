package models

// AuditAction names what an audit entry records. The set grows with the
// actions the panel can take; each action is written once, by the handler
// (or job) that performed it.
type AuditAction string

// Audit actions.
const (
	AuditLogin        AuditAction = "login"
	AuditLoginFailed  AuditAction = "login.failed"
	AuditLogout       AuditAction = "logout"
	AuditBan          AuditAction = "ban"
	AuditUnban        AuditAction = "unban"
	AuditUnbanAll     AuditAction = "unban.all"
	AuditJailAction   AuditAction = "jail.action" // start, stop, idle …: Detail says which
	AuditIgnoreAdd    AuditAction = "ignore.add"
	AuditIgnoreRemove AuditAction = "ignore.remove"
	AuditImport       AuditAction = "blocklist.import"
	AuditBlocklist    AuditAction = "blocklist.change" // a source added, edited or deleted
	AuditConfigSave   AuditAction = "config.save"
	AuditConfigUndo   AuditAction = "config.rollback"
	AuditReload       AuditAction = "reload"
	AuditUserChange   AuditAction = "user.change" // add, role, disable, password, delete: Detail says which
	AuditFactorChange AuditAction = "factor.change"
	AuditTokenChange  AuditAction = "token.change"
	AuditHostChange   AuditAction = "host.change" // enrol, rename, disable, remove, accept fingerprint
	AuditSetup        AuditAction = "setup"
)

// AuditEntry is one row of the append-only audit log: who did what, where,
// and how it ended.
type AuditEntry struct {
	ID     int64
	At     int64  // unix seconds
	Actor  string // user name ("" before login, e.g. a failed login's attempted name goes in Detail)
	UserID int64
	Token  int64 // the API token used, 0 for a session
	Role   Role
	Client string // client address as the panel saw it (after trusted proxies)
	Action AuditAction
	Host   string // fail2ban host id, when the action was on one
	Jail   string
	File   string // configuration file, for config saves and rollbacks
	Target string // the address, CIDR, user or token acted on
	Detail string // free text: what exactly
	Result string // "ok", or the error shown to the user
}
