package views

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"
)

// BlocklistsPage is /blocklists: the jail, import now with its progress,
// the sources, the schedule and the import log.
type BlocklistsPage struct {
	Jail        models.BlocklistJailState
	JailOffline string // fail2ban could not be asked
	Progress    models.ImportProgress
	Sources     []models.BlocklistSource
	AddForm     SourceForm
	Schedule    ScheduleForm
	Info        models.ScheduleInfo
	Log         ImportLogTable
}

// SourceForm is the add or edit form of a source.
type SourceForm struct {
	Name    string
	URL     string
	Enabled bool
	// On a panel with several hosts: the hosts its imports ban on.
	Hosts    []string     // the ticked hosts' ids
	AllHosts bool         // every host, also those added later
	Choices  []HostOption // every host; the choice shows when there are several
	Errors   map[string][]string
}

// HostTicked reports whether the form ticks the host with id.
func (f SourceForm) HostTicked(id string) bool { return slices.Contains(f.Hosts, id) }

// hostTargetsText says which hosts a source bans on, for its page.
func hostTargetsText(ctx context.Context, t models.HostTargets) string {
	switch {
	case t == "":
		return HostName(ctx, models.LocalHost)
	case t.Every():
		return lang.T(ctx, "bl.every_host_short")
	}
	ids := strings.Split(string(t), ",")
	for i, id := range ids {
		ids[i] = HostName(ctx, id)
	}
	return strings.Join(ids, ", ")
}

// ScheduleForm is the schedule form; Time is "hh:mm", Weekday 0-6.
type ScheduleForm struct {
	Frequency string `form:"frequency"`
	Time      string `form:"time"`
	Weekday   string `form:"weekday"`
	Errors    map[string][]string
}

// ScheduleFormOf fills the form from a saved schedule.
func ScheduleFormOf(s models.BlocklistSchedule) ScheduleForm {
	return ScheduleForm{
		Frequency: string(s.Frequency),
		Time:      fmt.Sprintf("%02d:%02d", s.Hour, s.Minute),
		Weekday:   strconv.Itoa(int(s.Weekday)),
	}
}

// ImportLogTable is one page of the import log.
type ImportLogTable struct {
	ID         string // element id, the htmx target
	Rows       []models.ImportLog
	Pager      Pager
	HideSource bool // on a source's own page
}

// SourcePage is one source: edit form, preview and its import log.
type SourcePage struct {
	Source       models.BlocklistSource
	Form         SourceForm
	Preview      *models.BlocklistPreview
	PreviewError string
	Log          ImportLogTable
}

// ImportStatusView is the progress fragment of the blocklists page.
type ImportStatusView struct {
	Progress models.ImportProgress
}

func sourceURL(id int64) string { return "/blocklists/sources/" + strconv.FormatInt(id, 10) }

func frequencyOptions(ctx context.Context) []Option {
	return []Option{
		{string(models.ScheduleOff), lang.T(ctx, "bl.freq.off")},
		{string(models.ScheduleHourly), lang.T(ctx, "bl.freq.hourly")},
		{string(models.ScheduleDaily), lang.T(ctx, "bl.freq.daily")},
		{string(models.ScheduleWeekly), lang.T(ctx, "bl.freq.weekly")},
	}
}

func weekdayOptions(ctx context.Context) []Option {
	var out []Option
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		out = append(out, Option{strconv.Itoa(int(d)), WeekdayName(ctx, d)})
	}
	return out
}

// WeekdayName is the name of d in the request's language.
func WeekdayName(ctx context.Context, d time.Weekday) string {
	switch d {
	case time.Monday:
		return lang.T(ctx, "weekday.monday")
	case time.Tuesday:
		return lang.T(ctx, "weekday.tuesday")
	case time.Wednesday:
		return lang.T(ctx, "weekday.wednesday")
	case time.Thursday:
		return lang.T(ctx, "weekday.thursday")
	case time.Friday:
		return lang.T(ctx, "weekday.friday")
	case time.Saturday:
		return lang.T(ctx, "weekday.saturday")
	}
	return lang.T(ctx, "weekday.sunday")
}

// describeSchedule says the schedule in words: "Daily at 03:30 (Europe/Berlin)".
func describeSchedule(ctx context.Context, info models.ScheduleInfo) string {
	s := info.Schedule
	zone := "UTC"
	if info.Location != nil {
		zone = info.Location.String()
	}
	switch s.Frequency {
	case models.ScheduleHourly:
		return lang.T(ctx, "bl.sched.hourly", "Minute", fmt.Sprintf("%02d", s.Minute), "Zone", zone)
	case models.ScheduleDaily:
		return lang.T(ctx, "bl.sched.daily", "Time", fmt.Sprintf("%02d:%02d", s.Hour, s.Minute), "Zone", zone)
	case models.ScheduleWeekly:
		return lang.T(ctx, "bl.sched.weekly", "Day", WeekdayName(ctx, s.Weekday), "Time", fmt.Sprintf("%02d:%02d", s.Hour, s.Minute), "Zone", zone)
	}
	return lang.T(ctx, "bl.sched.off")
}

func triggerText(ctx context.Context, t models.ImportTrigger) string {
	switch t {
	case models.TriggerSchedule:
		return lang.T(ctx, "bl.trigger.schedule")
	case models.TriggerResume:
		return lang.T(ctx, "bl.trigger.resumed")
	}
	return lang.T(ctx, "bl.trigger.hand")
}

func progressPercent(p models.ImportProgress) string {
	if p.Total <= 0 {
		return "0"
	}
	return strconv.FormatInt(p.Done*100/p.Total, 10)
}

func elapsedText(ctx context.Context, p models.ImportProgress) string {
	d := p.Elapsed(RequestFrom(ctx).Now)
	if d < time.Minute {
		return lang.From(ctx).Decimal(d.Seconds(), 1) + " " + lang.T(ctx, "unit.s")
	}
	return fmtDuration(ctx, d)
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0) }

func sourceLabel(e models.ImportLog) string {
	if e.SourceName != "" {
		return e.SourceName
	}
	return e.SourceURL
}

func previewCounts(ctx context.Context, c models.BlocklistCounts) [][2]string {
	return [][2]string{
		{lang.T(ctx, "bl.c.ipv4"), fmtCount(ctx, c.IPv4)},
		{lang.T(ctx, "bl.c.ipv6"), fmtCount(ctx, c.IPv6)},
		{lang.T(ctx, "bl.c.cidr"), fmtCount(ctx, c.CIDR)},
		{lang.T(ctx, "bl.c.comments"), fmtCount(ctx, c.Comments)},
		{lang.T(ctx, "bl.c.blank"), fmtCount(ctx, c.Blank)},
		{lang.T(ctx, "bl.c.invalid"), fmtCount(ctx, c.Invalid)},
		{lang.T(ctx, "bl.c.dupes"), fmtCount(ctx, c.Duplicates)},
		{lang.T(ctx, "bl.c.reserved"), fmtCount(ctx, c.Reserved)},
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// phaseText says what a run that neither downloads nor bans does.
func phaseText(ctx context.Context, phase string) string {
	if phase == models.PhaseCheckingJail {
		return lang.T(ctx, "blk.phase.jail")
	}
	return phase
}

// hostImportText says what an import did on one host.
func hostImportText(ctx context.Context, h models.ImportHostResult) string {
	switch {
	case !h.Error.IsZero():
		return lang.T(ctx, "bl.host.failed", "Error", h.Error.In(lang.From(ctx)))
	case h.Unchanged:
		return lang.T(ctx, "bl.host.unchanged")
	}
	return lang.T(ctx, "bl.host.counts", "Imported", fmtCount(ctx, h.Imported), "Already", fmtCount(ctx, h.AlreadyBanned))
}
