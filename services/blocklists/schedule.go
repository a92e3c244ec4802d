package blocklists

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/services/setup"
)

// location is the panel's time zone chosen at setup.
func (b *Service) location(ctx context.Context) *time.Location {
	ps, err := setup.LoadPanelSettings(ctx, b.settings)
	if err != nil || ps.Location == nil {
		return time.UTC
	}
	return ps.Location
}

// ScheduleInput is what the schedule form submits: a frequency, a time of
// day "hh:mm" (for hourly only the minutes count) and a weekday 0-6
// (Sunday is 0).
type ScheduleInput struct {
	Frequency string
	Time      string
	Weekday   string
}

// Schedule returns the saved schedule, or the default one.
func (b *Service) Schedule(ctx context.Context) (models.BlocklistSchedule, error) {
	all, err := b.settings.All(ctx)
	if err != nil {
		return models.DefaultBlocklistSchedule, err
	}
	s := models.DefaultBlocklistSchedule
	switch f := models.ScheduleFrequency(all[models.SettingBlocklistFrequency]); f {
	case models.ScheduleOff, models.ScheduleHourly, models.ScheduleDaily, models.ScheduleWeekly:
		s.Frequency = f
	}
	if h, err := strconv.Atoi(all[models.SettingBlocklistHour]); err == nil && h >= 0 && h < 24 {
		s.Hour = h
	}
	if m, err := strconv.Atoi(all[models.SettingBlocklistMinute]); err == nil && m >= 0 && m < 60 {
		s.Minute = m
	}
	if d, err := strconv.Atoi(all[models.SettingBlocklistWeekday]); err == nil && d >= 0 && d < 7 {
		s.Weekday = time.Weekday(d)
	}
	return s, nil
}

// ValidateSchedule checks the schedule form.
func ValidateSchedule(in ScheduleInput) (models.BlocklistSchedule, *services.ValidationError) {
	verr := &services.ValidationError{}
	s := models.DefaultBlocklistSchedule
	switch f := models.ScheduleFrequency(strings.TrimSpace(in.Frequency)); f {
	case models.ScheduleOff, models.ScheduleHourly, models.ScheduleDaily, models.ScheduleWeekly:
		s.Frequency = f
	default:
		verr.Add(FieldFrequency, lang.M("blk.sched.frequency"))
	}
	t := strings.TrimSpace(in.Time)
	if t == "" && (s.Frequency == models.ScheduleOff) {
		t = "03:00"
	}
	hh, mm, ok := strings.Cut(t, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mm) != 2 {
		verr.Add(FieldTime, lang.M("blk.sched.time"))
	} else {
		s.Hour, s.Minute = h, m
	}
	if s.Frequency == models.ScheduleWeekly || strings.TrimSpace(in.Weekday) != "" {
		d, err := strconv.Atoi(strings.TrimSpace(in.Weekday))
		if err != nil || d < 0 || d > 6 {
			verr.Add(FieldWeekday, lang.M("blk.sched.weekday"))
		} else {
			s.Weekday = time.Weekday(d)
		}
	}
	return s, verr
}

// SaveSchedule validates and stores the schedule and applies it at once.
func (b *Service) SaveSchedule(ctx context.Context, in ScheduleInput) (models.BlocklistSchedule, error) {
	s, verr := ValidateSchedule(in)
	if !verr.Empty() {
		return s, verr
	}
	err := b.settings.SetMany(ctx, map[string]string{
		models.SettingBlocklistFrequency: string(s.Frequency),
		models.SettingBlocklistHour:      strconv.Itoa(s.Hour),
		models.SettingBlocklistMinute:    strconv.Itoa(s.Minute),
		models.SettingBlocklistWeekday:   strconv.Itoa(int(s.Weekday)),
	})
	if err != nil {
		return s, err
	}
	return s, b.ApplySchedule(ctx)
}

// UseScheduler connects the scheduler that runs imports on the schedule.
func (b *Service) UseScheduler(s Scheduler) {
	b.mu.Lock()
	b.sched = s
	b.mu.Unlock()
}

// ApplySchedule hands the saved schedule and the panel's time zone to the
// scheduler. Call it again when the time zone changes.
func (b *Service) ApplySchedule(ctx context.Context) error {
	b.mu.Lock()
	sched := b.sched
	b.mu.Unlock()
	if sched == nil {
		return nil
	}
	s, err := b.Schedule(ctx)
	if err != nil {
		return err
	}
	loc := b.location(ctx)
	if err := sched.Apply(s, loc); err != nil {
		return err
	}
	b.mu.Lock()
	b.applied = appliedKey(s, loc)
	b.mu.Unlock()
	return nil
}

func appliedKey(s models.BlocklistSchedule, loc *time.Location) string {
	return fmt.Sprintf("%+v %s", s, loc)
}

// FollowSchedule applies the saved schedule and time zone when they differ
// from what the scheduler has: another panel process on the same database
// may have saved them (a job calls it every minute).
func (b *Service) FollowSchedule(ctx context.Context) error {
	s, err := b.Schedule(ctx)
	if err != nil {
		return err
	}
	return b.followSchedule(ctx, s, b.location(ctx))
}

func (b *Service) followSchedule(ctx context.Context, s models.BlocklistSchedule, loc *time.Location) error {
	b.mu.Lock()
	sched, applied := b.sched, b.applied
	b.mu.Unlock()
	if sched == nil || applied == appliedKey(s, loc) {
		return nil
	}
	return b.ApplySchedule(ctx)
}

// ScheduleInfo returns the schedule, its next run and the outcome of the
// last scheduled run.
func (b *Service) ScheduleInfo(ctx context.Context) (models.ScheduleInfo, error) {
	s, err := b.Schedule(ctx)
	info := models.ScheduleInfo{Schedule: s, Location: b.location(ctx)}
	if err != nil {
		return info, err
	}
	// The time zone changed since (setup, settings), or another panel
	// process saved a new schedule: follow it.
	if err := b.followSchedule(ctx, s, info.Location); err != nil {
		return info, err
	}
	b.mu.Lock()
	sched := b.sched
	b.mu.Unlock()
	if sched != nil && s.Frequency != models.ScheduleOff {
		info.NextRun = sched.NextRun()
	}
	last, err := b.lastScheduled(ctx)
	info.Last = last
	return info, err
}

// lastScheduled reads the last scheduled run from the import log and
// caches it for LastScheduledFailed.
func (b *Service) lastScheduled(ctx context.Context) (*models.ImportBatchSummary, error) {
	rows, err := b.logs.LastBatch(ctx, models.TriggerSchedule)
	if err != nil {
		return nil, err
	}
	sum := summarizeImportBatch(rows)
	b.mu.Lock()
	b.lastSched, b.lastKnown = sum, true
	b.mu.Unlock()
	return sum, nil
}

// summarizeImportBatch sums up the log rows of one run; nil for none.
func summarizeImportBatch(rows []models.ImportLog) *models.ImportBatchSummary {
	if len(rows) == 0 {
		return nil
	}
	s := &models.ImportBatchSummary{At: time.Unix(0, rows[0].Batch), StartedBy: rows[0].StartedBy}
	// A source that bans on several hosts has a row per host: it counts
	// once, and so do its skipped entries (the list is parsed once).
	seen := map[string]bool{}
	hosts := map[string]bool{}
	for _, r := range rows {
		hosts[r.Host] = true
	}
	for _, r := range rows {
		s.Imported += r.IPsImported
		s.AlreadyBanned += r.IPsAlreadyBanned
		if key := r.SourceName + "\x00" + r.SourceURL; !seen[key] {
			seen[key] = true
			s.Sources++
			s.Skipped += r.IPsSkipped
		}
		if r.Errors != nil && *r.Errors != "" {
			e := models.ImportLogError{Source: r.SourceName, Text: models.StoredText(*r.Errors)}
			if e.Source == "" {
				e.Source = r.SourceURL
			}
			if len(hosts) > 1 {
				e.Host = r.Host
			}
			s.Errors = append(s.Errors, e)
		}
	}
	return s
}

// LastScheduledFailed reports whether the last scheduled run had errors,
// for the navigation badge. It reads the database once and then answers
// from memory (every import updates it).
func (b *Service) LastScheduledFailed(ctx context.Context) bool {
	b.mu.Lock()
	known, last := b.lastKnown, b.lastSched
	b.mu.Unlock()
	if !known {
		ctx, cancel := context.WithTimeout(ctx, defaultImportLogTimeout)
		defer cancel()
		var err error
		if last, err = b.lastScheduled(ctx); err != nil {
			return false
		}
	}
	return last != nil && len(last.Errors) > 0
}
