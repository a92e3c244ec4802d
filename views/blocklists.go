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
	"bangui/textfmt"
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
		return "every host"
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

func frequencyOptions() []Option {
	return []Option{
		{string(models.ScheduleOff), "Off"},
		{string(models.ScheduleHourly), "Hourly"},
		{string(models.ScheduleDaily), "Daily"},
		{string(models.ScheduleWeekly), "Weekly"},
	}
}

func weekdayOptions(ctx context.Context) []Option {
	return []Option{
		{strconv.Itoa(int(time.Monday)), lang.T(ctx, "weekday.monday")},
		{strconv.Itoa(int(time.Tuesday)), lang.T(ctx, "weekday.tuesday")},
		{strconv.Itoa(int(time.Wednesday)), lang.T(ctx, "weekday.wednesday")},
		{strconv.Itoa(int(time.Thursday)), lang.T(ctx, "weekday.thursday")},
		{strconv.Itoa(int(time.Friday)), lang.T(ctx, "weekday.friday")},
		{strconv.Itoa(int(time.Saturday)), lang.T(ctx, "weekday.saturday")},
		{strconv.Itoa(int(time.Sunday)), lang.T(ctx, "weekday.sunday")},
	}
}

// describeSchedule says the schedule in words: "Daily at 03:30 (Europe/Berlin)".
func describeSchedule(info models.ScheduleInfo) string {
	s := info.Schedule
	zone := "UTC"
	if info.Location != nil {
		zone = info.Location.String()
	}
	switch s.Frequency {
	case models.ScheduleHourly:
		return fmt.Sprintf("Every hour at minute %02d (%s).", s.Minute, zone)
	case models.ScheduleDaily:
		return fmt.Sprintf("Daily at %02d:%02d (%s).", s.Hour, s.Minute, zone)
	case models.ScheduleWeekly:
		return fmt.Sprintf("Every %s at %02d:%02d (%s).", s.Weekday, s.Hour, s.Minute, zone)
	}
	return "Off: lists are imported only with Import now."
}

func triggerText(t models.ImportTrigger) string {
	switch t {
	case models.TriggerSchedule:
		return "schedule"
	case models.TriggerResume:
		return "resumed at start"
	}
	return "by hand"
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
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return textfmt.Duration(d)
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0) }

func sourceLabel(e models.ImportLog) string {
	if e.SourceName != "" {
		return e.SourceName
	}
	return e.SourceURL
}

func confirmDeleteSource(s models.BlocklistSource) string {
	return fmt.Sprintf("Delete the list %s? Its import log stays; addresses it banned stay banned until their ban runs out.", s.Name)
}

func previewCounts(ctx context.Context, c models.BlocklistCounts) [][2]string {
	return [][2]string{
		{"IPv4 addresses", fmtCount(ctx, c.IPv4)},
		{"IPv6 addresses", fmtCount(ctx, c.IPv6)},
		{"CIDR ranges", fmtCount(ctx, c.CIDR)},
		{"Comments", fmtCount(ctx, c.Comments)},
		{"Blank lines", fmtCount(ctx, c.Blank)},
		{"Invalid lines", fmtCount(ctx, c.Invalid)},
		{"Duplicates", fmtCount(ctx, c.Duplicates)},
		{"Reserved addresses", fmtCount(ctx, c.Reserved)},
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// hostImportText says what an import did on one host.
func hostImportText(ctx context.Context, h models.ImportHostResult) string {
	switch {
	case h.Error != "":
		return "did not import: " + h.Error
	case h.Unchanged:
		return "unchanged"
	}
	return fmt.Sprintf("%s imported, %s already banned", fmtCount(ctx, h.Imported), fmtCount(ctx, h.AlreadyBanned))
}
