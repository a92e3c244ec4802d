package fail2ban

import "time"

// ServerStatus is the reply to "status": the names of the running jails.
type ServerStatus struct {
	Jails []string // sorted as fail2ban lists them; empty when no jail runs
}

// JailStatus holds the counters of one jail as reported by "status <jail>".
type JailStatus struct {
	Name            string
	CurrentlyFailed int64
	TotalFailed     int64
	CurrentlyBanned int64
	TotalBanned     int64
	Files           []string // watched log files; nil for the systemd backend
	JournalMatches  []string // journal filters; only for the systemd backend
	Banned          []string // banned addresses; nil for the short flavour
}

// BanEntry is one current ban as listed by "get <jail> banip --with-time".
type BanEntry struct {
	IP        string        // the banned address or range, as fail2ban lists it
	Start     time.Time     // when the ban began
	BanTime   time.Duration // ban length; negative for permanent bans
	End       time.Time     // when the ban ends; zero when Permanent
	Permanent bool          // the ban never ends
}

// BanTimeIncrement is a jail's "bantime.*" escalation settings. The text
// fields are fail2ban's values as given, empty when unset.
type BanTimeIncrement struct {
	Enabled      bool
	Factor       string
	Formula      string
	Multipliers  string
	MaxTime      string
	RndTime      string
	OverallJails bool
}

// JailBasics is the handful of settings shown in the jail list.
type JailBasics struct {
	BanTime  time.Duration // negative: bans are permanent
	FindTime time.Duration
	MaxRetry int64
	Idle     bool // see Client.Idle for servers that cannot report it
}

// JailSettings is everything fail2ban reports about one jail's
// configuration, for the jail detail page.
type JailSettings struct {
	JailBasics
	DatePattern string // the detector's name, or the pattern when it has none
	LogEncoding string
	Backend     string // empty when the server cannot tell
	Actions     []string
	LogPaths    []string
	FailRegex   []string
	IgnoreRegex []string
	IgnoreIPs   []string
	IgnoreSelf  bool
	Increment   BanTimeIncrement
}
