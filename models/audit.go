package models

// AuditAction names what an audit entry records. The set grows with the
// actions the panel can take; each action is written once, by the handler
// (or job) that performed it.
type AuditAction string

// Audit actions.
const (
	AuditLogin           AuditAction = "login"
	AuditLoginFailed     AuditAction = "login.failed"
	AuditLogout          AuditAction = "logout"
	AuditBan             AuditAction = "ban"
	AuditUnban           AuditAction = "unban"
	AuditUnbanAll        AuditAction = "unban.all"
	AuditJailAction      AuditAction = "jail.action" // start, stop, idle …: Detail says which
	AuditIgnoreAdd       AuditAction = "ignore.add"
	AuditIgnoreRemove    AuditAction = "ignore.remove"
	AuditIgnoreSelf      AuditAction = "ignore.self" // a jail's ignoreself: Detail says on or off
	AuditImport          AuditAction = "blocklist.import"
	AuditBlocklist       AuditAction = "blocklist.change" // a source added, edited or deleted
	AuditConfigSave      AuditAction = "config.save"
	AuditConfigUndo      AuditAction = "config.rollback"
	AuditReload          AuditAction = "reload"      // of fail2ban or of jails; a restart too: Detail says which
	AuditFlushLogs       AuditAction = "logs.flush"  // fail2ban reopened its log
	AuditUserChange      AuditAction = "user.change" // add, role, disable, password, delete: Detail says which
	AuditFactorChange    AuditAction = "factor.change"
	AuditTokenChange     AuditAction = "token.change"
	AuditHostChange      AuditAction = "host.change" // enrol, rename, disable, remove, accept fingerprint
	AuditSetup           AuditAction = "setup"
	AuditRetention       AuditAction = "audit.retention" // the audit log's retention changed: Detail says to what
	AuditMapChange       AuditAction = "map.change"      // the map's colours, or its countries looked up again
	AuditAlertRuleChange AuditAction = "alert.rule"      // an alert rule added, edited, turned on or off, deleted: Detail says which
	AuditAlertChange     AuditAction = "alert.change"    // a channel added, edited, deleted or tested: Detail says which
	AuditAllowAdd        AuditAction = "allow.add"       // allow-list entries added or changed
	AuditAllowRemove     AuditAction = "allow.remove"    // allow-list entries removed
	AuditAllowExpire     AuditAction = "allow.expire"    // an allow-list entry ended at its expiry (actor "system")
)

// AuditActions lists every action, for the audit page's filter.
var AuditActions = []AuditAction{
	AuditLogin, AuditLoginFailed, AuditLogout, AuditBan, AuditUnban, AuditUnbanAll, AuditJailAction,
	AuditIgnoreAdd, AuditIgnoreRemove, AuditIgnoreSelf, AuditImport, AuditBlocklist, AuditConfigSave,
	AuditConfigUndo, AuditReload, AuditFlushLogs, AuditUserChange, AuditFactorChange, AuditTokenChange,
	AuditHostChange, AuditSetup, AuditRetention, AuditMapChange, AuditAlertRuleChange, AuditAlertChange,
	AuditAllowAdd, AuditAllowRemove, AuditAllowExpire,
}

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

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	UserID int64       // entries of this account (when not 0)
	Actor  string      // entries by this name, ignoring case
	Action AuditAction // entries of this action
	Host   string      // entries on this host (one of an action's hosts)
	Jail   string      // entries on this jail
	Target string      // entries whose targets include this one exactly (an address, a CIDR, a name)
	File   string      // entries that changed this configuration file
	From   int64       // at or after, unix seconds (0: no bound)
	To     int64       // before, unix seconds (0: no bound)
}

// SettingAuditRetentionDays is the settings key of how many days audit
// entries are kept.
const SettingAuditRetentionDays = "audit_retention_days"

// DefaultAuditRetentionDays is the retention when none was chosen.
const DefaultAuditRetentionDays = 365
