package models

import (
	"strings"
	"time"

	"github.com/uptrace/bun"

	"bangui/lang"
)

// ImportTrigger says what started an import.
type ImportTrigger string

// Import triggers.
const (
	TriggerManual   ImportTrigger = "manual"   // "Import now" on the page
	TriggerSchedule ImportTrigger = "schedule" // the blocklist schedule
	TriggerResume   ImportTrigger = "resume"   // finishing an interrupted run at start
)

// ImportRunTargets holds the addresses a pending import run bans, one per
// line in list order, so that an interrupted run resumes where it stopped.
type ImportRunTargets struct {
	bun.BaseModel `bun:"table:import_run_targets"`
	RunID         int64  `bun:"run_id,pk"`
	Targets       string `bun:"targets,notnull"`
}

// Settings keys of the blocklist schedule.
const (
	SettingBlocklistFrequency = "blocklist_schedule_frequency"
	SettingBlocklistHour      = "blocklist_schedule_hour"
	SettingBlocklistMinute    = "blocklist_schedule_minute"
	SettingBlocklistWeekday   = "blocklist_schedule_day_of_week"
)

// ScheduleFrequency is how often blocklists are imported automatically.
type ScheduleFrequency string

// Schedule frequencies.
const (
	ScheduleOff    ScheduleFrequency = "off"
	ScheduleHourly ScheduleFrequency = "hourly"
	ScheduleDaily  ScheduleFrequency = "daily"
	ScheduleWeekly ScheduleFrequency = "weekly"
)

// BlocklistSchedule is when imports run by themselves, in the panel's time
// zone: hourly at Minute, daily at Hour:Minute, or weekly on Weekday at
// Hour:Minute.
type BlocklistSchedule struct {
	Frequency ScheduleFrequency
	Hour      int
	Minute    int
	Weekday   time.Weekday
}

// DefaultBlocklistSchedule is the schedule before the admin picks one.
var DefaultBlocklistSchedule = BlocklistSchedule{Frequency: ScheduleDaily, Hour: 3, Minute: 0, Weekday: time.Monday}

// BlocklistCounts counts the lines of a list by what they hold and every
// skipped entry by the reason.
type BlocklistCounts struct {
	Lines    int64 // every line read
	IPv4     int64 // single IPv4 addresses
	IPv6     int64 // single IPv6 addresses
	CIDR     int64 // ranges, either family
	Comments int64 // comment lines
	Blank    int64 // empty lines
	// Skipped entries, by reason.
	Invalid    int64 // neither an address nor a range
	Duplicates int64 // listed before (also the same address written differently)
	Ignored    int64 // inside, or overlapping, an ignore list of fail2ban's jails
	Reserved   int64 // unspecified, loopback, multicast or link-local
}

// Valid is the number of usable entries before duplicates and ignore lists.
func (c BlocklistCounts) Valid() int64 { return c.IPv4 + c.IPv6 + c.CIDR }

// Skipped is the number of entries that are not banned: invalid, duplicate,
// ignored or reserved. Comments and blank lines are not entries.
func (c BlocklistCounts) Skipped() int64 {
	return c.Invalid + c.Duplicates + c.Ignored + c.Reserved
}

// SkipReasons says why entries were skipped, e.g. "6 invalid, 1 duplicate";
// no message when none were.
func (c BlocklistCounts) SkipReasons() lang.Message {
	var out lang.Message
	for _, r := range []struct {
		n int64
		m lang.Message
	}{
		{c.Invalid, lang.MN("blk.skip.invalid", int(c.Invalid))},
		{c.Duplicates, lang.MN("blk.skip.duplicates", int(c.Duplicates))},
		{c.Ignored, lang.MN("blk.skip.ignored", int(c.Ignored))},
		{c.Reserved, lang.MN("blk.skip.reserved", int(c.Reserved))},
	} {
		switch {
		case r.n == 0:
		case out.IsZero():
			out = r.m
		default:
			out = lang.M("blk.list_next", "List", out, "Next", r.m)
		}
	}
	return out
}

// BlocklistPreview is the first part of a list, with counts of what it holds.
type BlocklistPreview struct {
	URL       string
	Bytes     int64    // bytes read (after decompression)
	Truncated bool     // only the first part was read
	Sample    []string // the first lines as they are
	Counts    BlocklistCounts
}

// ImportSourceResult is what importing one source did.
type ImportSourceResult struct {
	SourceID      int64
	Name          string
	URL           string
	Imported      int64 // newly banned
	AlreadyBanned int64 // listed and banned before
	Skipped       int64 // see BlocklistCounts.Skipped
	Counts        BlocklistCounts
	Unchanged     bool // the same content was imported before: nothing banned
	Resumed       bool // an interrupted run of the same content was finished
	Error         lang.Message
	// Hosts are the results on each target host; the fields above add
	// them up (see Sum). Empty when the list itself failed.
	Hosts []ImportHostResult
}

// Sum sets the totals from Hosts: imported and already banned add up, the
// source is unchanged or resumed when it is on every host, and Error names
// the hosts that failed (just the error when the source has one host).
func (r *ImportSourceResult) Sum() {
	if len(r.Hosts) == 0 {
		return
	}
	r.Imported, r.AlreadyBanned, r.Unchanged, r.Resumed = 0, 0, true, false
	var errs lang.Message
	for _, h := range r.Hosts {
		r.Imported += h.Imported
		r.AlreadyBanned += h.AlreadyBanned
		r.Unchanged = r.Unchanged && h.Unchanged
		r.Resumed = r.Resumed || h.Resumed
		e := h.Error
		switch {
		case e.IsZero():
			continue
		case len(r.Hosts) > 1:
			e = lang.M("blk.host_error", "Host", h.Host, "Error", e)
		}
		if errs.IsZero() {
			errs = e
		} else {
			errs = lang.M("blk.errors_next", "Errors", errs, "Next", e)
		}
	}
	if !errs.IsZero() {
		r.Unchanged = false
		r.Error = errs
	}
}

// PhaseCheckingJail is ImportProgress.Phase while a run checks, or adds,
// the blocklist jail on its hosts.
const PhaseCheckingJail = "checking the jail"

// ImportProgress is the state of the current (or last) import run.
type ImportProgress struct {
	Running    bool
	StartedBy  ImportTrigger
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Current    string    // name of the source being imported
	Phase      string    // what happens to it: "downloading", "banning"
	Done       int64     // addresses of the current source handled
	Total      int64     // addresses of the current source to handle; 0 while downloading
	Bytes      int64     // bytes downloaded of the current source
	Sources    int       // sources in this run
	Results    []ImportSourceResult
	Error      lang.Message // why the run as a whole failed (e.g. the jail is missing)
}

// Elapsed is how long the run took, or has taken so far at now.
func (p ImportProgress) Elapsed(now time.Time) time.Duration {
	if p.StartedAt.IsZero() {
		return 0
	}
	end := p.FinishedAt
	if end.IsZero() {
		end = now
	}
	return end.Sub(p.StartedAt)
}

// HasErrors reports whether the run or any of its sources failed.
func (p ImportProgress) HasErrors() bool {
	if !p.Error.IsZero() {
		return true
	}
	for _, r := range p.Results {
		if !r.Error.IsZero() {
			return true
		}
	}
	return false
}

// ImportBatchSummary sums up one finished run from the import log.
type ImportBatchSummary struct {
	At            time.Time
	StartedBy     ImportTrigger
	Sources       int
	Imported      int64
	AlreadyBanned int64
	Skipped       int64
	Errors        []ImportLogError
}

// ImportLogError is the error of one import log entry: the source's name
// (or URL), its host when the run banned on several, and the text.
type ImportLogError struct {
	Source string
	Host   string // "" when the run banned on one host
	Text   StoredText
}

// In is the error as the page says it, in language l: "source: text".
func (e ImportLogError) In(l *lang.Lang) string {
	if e.Host != "" {
		return l.T("blk.log_error_on", "Source", e.Source, "Host", e.Host, "Error", e.Text.In(l))
	}
	return l.T("blk.log_error", "Source", e.Source, "Error", e.Text.In(l))
}

// ScheduleInfo is the schedule with its next run and the last scheduled run.
type ScheduleInfo struct {
	Schedule BlocklistSchedule
	Location *time.Location
	NextRun  time.Time           // zero when off or unknown
	Last     *ImportBatchSummary // nil before the first scheduled run
}

// BlocklistJailState says whether fail2ban runs the jail imports ban in.
type BlocklistJailState struct {
	Running bool
	Banned  int64        // addresses banned in it now
	Problem lang.Message // when not running: why adding it failed; none before the first try
}

// HostTargets are the hosts a blocklist source's imports ban on, as
// stored: "" for the local host only (the default), AllHosts for every
// host, or host ids separated by commas.
type HostTargets string

// AllHosts is the HostTargets of every host, present and future.
const AllHosts HostTargets = "*"

// TargetsOf returns the HostTargets of a choice of hosts: AllHosts when
// all is set, "" for the local host alone or nothing, else the ids.
func TargetsOf(all bool, ids []string) HostTargets {
	if all {
		return AllHosts
	}
	if len(ids) == 0 || len(ids) == 1 && ids[0] == LocalHost {
		return ""
	}
	return HostTargets(strings.Join(ids, ","))
}

// Every reports whether the source bans on every host.
func (t HostTargets) Every() bool { return t == AllHosts }

// IDs resolves the targets against the ids of the registered hosts, in
// their order: the local host for "", every host for AllHosts, else the
// listed ids that are registered. Missing names the listed ids that are
// not (a host removed since).
func (t HostTargets) IDs(registered []string) (ids, missing []string) {
	switch t {
	case "":
		return []string{LocalHost}, nil
	case AllHosts:
		return registered, nil
	}
	want := strings.Split(string(t), ",")
	for _, id := range registered {
		for _, w := range want {
			if w == id {
				ids = append(ids, id)
				break
			}
		}
	}
	for _, w := range want {
		found := false
		for _, id := range registered {
			found = found || w == id
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return ids, missing
}

// Has reports whether the host with id is one of the listed targets (not
// resolving "" or AllHosts).
func (t HostTargets) Has(id string) bool {
	switch t {
	case "":
		return id == LocalHost
	case AllHosts:
		return true
	}
	for _, w := range strings.Split(string(t), ",") {
		if w == id {
			return true
		}
	}
	return false
}

// ImportHostResult is what importing one source did on one target host.
type ImportHostResult struct {
	Host          string       // the host's id
	Imported      int64        // newly banned
	AlreadyBanned int64        // listed and banned before
	Unchanged     bool         // the same content was imported on this host before
	Resumed       bool         // an interrupted run of the same content was finished
	Error         lang.Message // why the host did not ban (all) of it
}
