package models

import "time"

// TimeRange is a dashboard window such as the last 24 hours.
type TimeRange string

// Supported windows.
const (
	Range24h  TimeRange = "24h"
	Range7d   TimeRange = "7d"
	Range30d  TimeRange = "30d"
	Range365d TimeRange = "365d"
)

// Duration is how far back the window reaches.
func (r TimeRange) Duration() time.Duration {
	switch r {
	case Range7d:
		return 7 * 24 * time.Hour
	case Range30d:
		return 30 * 24 * time.Hour
	case Range365d:
		return 365 * 24 * time.Hour
	default:
		return 24 * time.Hour
	}
}

// Page asks for one page of a list: 1-based number and size.
type Page struct {
	Number int
	Size   int
}

// Offset is the number of rows before this page.
func (p Page) Offset() int { return (p.Number - 1) * p.Size }

// LocalHost is the id of the fail2ban host on the panel's own machine.
// Every installation has it; archived events from before hosts existed
// belong to it.
const LocalHost = "local"

// BanRecord is one ban event as read from fail2ban's bans table or our archive.
type BanRecord struct {
	Host      string // id of the fail2ban host the event happened on
	Jail      string
	IP        string
	TimeOfBan time.Time
	BanTime   int64 // seconds; -1 means permanent
	BanCount  int64
	Failures  int64
	Matches   []string
	Origin    Origin
	Country   string // ISO code, "" when unknown
	Action    string // archive only: "ban" or "unban"; fail2ban's rows are bans
}

// IPCount is how many ban events one IP has.
type IPCount struct {
	IP    string
	Count int64
}

// JailCount is how many ban events one jail has.
type JailCount struct {
	Jail  string
	Count int64
}

// BansSummary describes fail2ban's bans table as a whole.
type BansSummary struct {
	Rows   int64
	Oldest time.Time // zero when empty
	Newest time.Time // zero when empty
}

// HistoryFilter narrows a history query. Zero values mean "any".
type HistoryFilter struct {
	Host     string    // a host id; empty: every host
	Since    time.Time // zero: all time
	Jail     string
	IPPrefix string
	Origin   Origin
	Action   string // archive only: "ban" or "unban"
}
