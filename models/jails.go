package models

import (
	"time"

	"bangui/lang"
)

// ServerStatus is the cached state of the fail2ban server shown in the status bar.
type ServerStatus struct {
	Online      bool
	Version     string
	ActiveJails int
	Banned      int64 // currently banned, summed over jails
	Failed      int64 // currently failed, summed over jails
	CheckedAt   time.Time
	Error       lang.Message // why fail2ban is offline, for the banner
	// LastContact is the time of the last check that found the host
	// online; zero when none did since the panel started.
	LastContact time.Time
	// NewFingerprint is the certificate fingerprint a remote host's agent
	// presents instead of the pinned one; the panel does not talk to it
	// until the admin accepts it. "" otherwise.
	NewFingerprint string
}

// JailSummary is one row of the jails table.
type JailSummary struct {
	Name            string
	Running         bool // false: known to fail2ban's database or config but not running
	Idle            bool
	CurrentlyFailed int64
	TotalFailed     int64
	CurrentlyBanned int64
	TotalBanned     int64
	BanTime         time.Duration // negative: permanent
	FindTime        time.Duration
	MaxRetry        int64
}

// BanTimeIncrement is a jail's ban time escalation settings.
type BanTimeIncrement struct {
	Enabled      bool
	Factor       string
	Formula      string
	Multipliers  string
	MaxTime      string
	RndTime      string
	OverallJails bool
}

// JailDetail is everything the jail page shows besides the banned list.
type JailDetail struct {
	JailSummary
	Backend     string
	DatePattern string
	LogEncoding string
	Actions     []string
	LogPaths    []string
	FailRegex   []string
	IgnoreRegex []string
	IgnoreIPs   []string
	IgnoreSelf  bool
	Increment   BanTimeIncrement
}

// ActiveBan is an address fail2ban bans right now.
type ActiveBan struct {
	IP        string
	Jail      string
	Start     time.Time
	End       time.Time // zero when permanent
	Permanent bool
	Chosen    bool   // End and Permanent are a time a user chose, not the jail's ban time (see TimedBan)
	ChosenBy  string // who chose it, when Chosen; empty when not known
}

// TimeLeft is how long the ban still runs at now; zero when over or permanent.
func (b ActiveBan) TimeLeft(now time.Time) time.Duration {
	if b.Permanent || !b.End.After(now) {
		return 0
	}
	return b.End.Sub(now)
}

// IPLookup answers where an address is banned and which ignore lists hold it.
type IPLookup struct {
	IP        string
	BannedIn  []string
	IgnoredIn []string
	Bans      []ActiveBan
	Jails     []string // every running jail, for the action forms
}
