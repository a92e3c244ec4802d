package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
)

// Field names of the blocklist forms, used in *ValidationError.
const (
	FieldSourceName = "name"
	FieldSourceURL  = "url"
	FieldFrequency  = "frequency"
	FieldTime       = "time"
	FieldWeekday    = "weekday"
)

// MaxSourceNameLen is the longest source name accepted, in characters.
const MaxSourceNameLen = 100

// Blocklist defaults.
const (
	DefaultImportBatch      = 500
	DefaultBanCallTimeout   = 10 * time.Minute
	DefaultPreviewBytes     = 256 << 10
	DefaultPreviewSample    = 15
	DefaultPreviewAttempts  = 2
	defaultImportLogTimeout = 10 * time.Second
)

// ErrImportRunning is returned when an import is asked for while one runs.
var ErrImportRunning = errors.New("an import is already running")

// ImportScheduler runs imports on the blocklist schedule (jobs implements it).
type ImportScheduler interface {
	// Apply replaces the schedule; times are in loc.
	Apply(s models.BlocklistSchedule, loc *time.Location) error
	// NextRun is the time of the next scheduled run, zero when none.
	NextRun() time.Time
}

// BlocklistOptions tune Blocklists; zero values take the defaults.
type BlocklistOptions struct {
	Downloader     Downloader
	BatchSize      int           // addresses per banip call; default DefaultImportBatch
	BanCallTimeout time.Duration // limit of one banip call; default DefaultBanCallTimeout
	PreviewBytes   int64         // how much of a list the preview reads; default DefaultPreviewBytes
	Logger         *slog.Logger
	// OnBatch, when set, is called after each batch of a run is banned and
	// recorded, with the run's progress. It must not block.
	OnBatch func(runID, done, total int64)
}

// Blocklists is the use case behind /blocklists: sources, preview, imports
// with progress, idempotent re-runs and resumption, the managed jail, the
// schedule and the import log.
type Blocklists struct {
	sources  repo.Blocklists
	logs     repo.ImportLogs
	runs     repo.ImportRuns
	settings repo.Settings
	hosts    *hosts.Registry
	probe    *StatusProbe
	opts     BlocklistOptions
	log      *slog.Logger
	now      func() time.Time

	running chan struct{} // holds one token while an import runs
	wg      sync.WaitGroup

	mu        sync.Mutex
	bg        context.Context // lifetime of background imports
	progress  models.ImportProgress
	jailMsg   map[string]string // why the last EnsureJail failed, by host
	sched     ImportScheduler
	applied   string                     // schedule and zone last handed to sched
	lastSched *models.ImportBatchSummary // cached for the navigation badge
	lastKnown bool
}

// NewBlocklists wires the blocklist use case on BanGUI's database. Imports
// ban in the blocklist jail of the local host of reg.
func NewBlocklists(db *bun.DB, reg *hosts.Registry, probe *StatusProbe, opts BlocklistOptions) *Blocklists {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultImportBatch
	}
	if opts.BanCallTimeout <= 0 {
		opts.BanCallTimeout = DefaultBanCallTimeout
	}
	if opts.PreviewBytes <= 0 {
		opts.PreviewBytes = DefaultPreviewBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Blocklists{
		sources: repo.NewBlocklistStore(db), logs: repo.NewImportLogStore(db),
		runs: repo.NewImportRunStore(db), settings: repo.NewSettingsStore(db),
		hosts: reg, probe: probe, opts: opts, log: log, now: time.Now,
		running: make(chan struct{}, 1), bg: context.Background(), jailMsg: map[string]string{},
	}
}

// importHost is the host whose blocklist jail imports fill.
const importHost = models.LocalHost

// SourceInput is what the source form submits.
type SourceInput struct {
	Name    string
	URL     string
	Enabled bool
}

// validate checks a source form; id is the source being edited (0: new).
func (b *Blocklists) validate(ctx context.Context, id int64, in SourceInput) (SourceInput, error) {
	verr := &ValidationError{}
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	switch {
	case in.Name == "":
		verr.add(FieldSourceName, "Enter a name for the list.")
	case utf8.RuneCountInString(in.Name) > MaxSourceNameLen:
		verr.add(FieldSourceName, fmt.Sprintf("Use at most %d characters.", MaxSourceNameLen))
	case strings.ContainsAny(in.Name, "\r\n\t"):
		verr.add(FieldSourceName, "Use a single line without tabs.")
	}
	if u, msg := CheckListURL(in.URL); msg != "" {
		verr.add(FieldSourceURL, msg)
	} else {
		in.URL = u.String()
	}
	if verr.empty() {
		all, err := b.sources.List(ctx)
		if err != nil {
			return in, err
		}
		for _, s := range all {
			if s.ID == id {
				continue
			}
			if strings.EqualFold(s.Name, in.Name) {
				verr.add(FieldSourceName, "Another list is already called “"+s.Name+"”.")
			}
			if s.URL == in.URL {
				verr.add(FieldSourceURL, "The list “"+s.Name+"” already has this address.")
			}
		}
	}
	if !verr.empty() {
		return in, verr
	}
	return in, nil
}

// duplicateSourceField turns a repository duplicate into a form message.
func duplicateSourceField(err error) error {
	var de *repo.DuplicateError
	if !errors.As(err, &de) {
		return err
	}
	verr := &ValidationError{}
	if de.Column == "url" {
		verr.add(FieldSourceURL, "Another list already has this address.")
	} else {
		verr.add(FieldSourceName, "Another list already has this name.")
	}
	return verr
}

// Sources returns every source by name.
func (b *Blocklists) Sources(ctx context.Context) ([]models.BlocklistSource, error) {
	return b.sources.List(ctx)
}

// Source returns one source, or an error matching repo.ErrNotFound.
func (b *Blocklists) Source(ctx context.Context, id int64) (models.BlocklistSource, error) {
	return b.sources.Get(ctx, id)
}

// CreateSource adds a source. Bad input yields a *ValidationError.
func (b *Blocklists) CreateSource(ctx context.Context, in SourceInput) (models.BlocklistSource, error) {
	in, err := b.validate(ctx, 0, in)
	if err != nil {
		return models.BlocklistSource{}, err
	}
	id, err := b.sources.Create(ctx, in.Name, in.URL, in.Enabled)
	if err != nil {
		return models.BlocklistSource{}, duplicateSourceField(err)
	}
	return b.sources.Get(ctx, id)
}

// UpdateSource changes a source's name, URL and enabled state.
func (b *Blocklists) UpdateSource(ctx context.Context, id int64, in SourceInput) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	if in, err = b.validate(ctx, id, in); err != nil {
		return src, err
	}
	src.Name, src.URL, src.Enabled = in.Name, in.URL, in.Enabled
	if err := b.sources.Update(ctx, src); err != nil {
		return src, duplicateSourceField(err)
	}
	return b.sources.Get(ctx, id)
}

// SetSourceEnabled switches a source on or off.
func (b *Blocklists) SetSourceEnabled(ctx context.Context, id int64, on bool) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	src.Enabled = on
	if err := b.sources.Update(ctx, src); err != nil {
		return src, err
	}
	return src, nil
}

// DeleteSource removes a source and its run records; its import log stays
// readable (name and URL are kept in every entry). A source that is being
// imported right now is not deleted (ErrImportRunning).
func (b *Blocklists) DeleteSource(ctx context.Context, id int64) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	if p := b.Progress(); p.Running {
		return src, ErrImportRunning
	}
	return src, b.sources.Delete(ctx, id)
}

// Preview reads the first part of a list (at most PreviewBytes) and
// returns its first lines and counts of what they hold. Ignore lists are
// not applied. Errors are *DownloadError with a message for the page.
func (b *Blocklists) Preview(ctx context.Context, rawURL string) (models.BlocklistPreview, error) {
	d := b.opts.Downloader
	d.Attempts = min(d.attempts(), DefaultPreviewAttempts)
	limit := b.opts.PreviewBytes
	pv := models.BlocklistPreview{URL: rawURL}
	err := d.Fetch(ctx, rawURL, func(r io.Reader) error {
		buf, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		pv.Truncated = false
		if int64(len(buf)) > limit {
			// The list goes on: keep whole lines only.
			pv.Truncated = true
			buf = buf[:limit]
			if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
				buf = buf[:i+1]
			}
		}
		parsed, err := ParseBlocklist(bytes.NewReader(buf), nil, DefaultPreviewSample)
		pv.Bytes, pv.Sample, pv.Counts = parsed.Bytes, parsed.Sample, parsed.Counts
		return err
	})
	return pv, err
}

// ImportLog returns one page of the import log, newest first, of one
// source or of all (sourceID 0).
func (b *Blocklists) ImportLog(ctx context.Context, sourceID int64, page models.Page) ([]models.ImportLog, int64, error) {
	var id *int64
	if sourceID != 0 {
		id = &sourceID
	}
	return b.logs.List(ctx, id, page)
}

// Progress returns the state of the current or last import run.
func (b *Blocklists) Progress() models.ImportProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.progress
	p.Results = append([]models.ImportSourceResult(nil), p.Results...)
	return p
}

// location is the panel's time zone chosen at setup.
func (b *Blocklists) location(ctx context.Context) *time.Location {
	ps, err := LoadPanelSettings(ctx, b.settings)
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
func (b *Blocklists) Schedule(ctx context.Context) (models.BlocklistSchedule, error) {
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
func ValidateSchedule(in ScheduleInput) (models.BlocklistSchedule, *ValidationError) {
	verr := &ValidationError{}
	s := models.DefaultBlocklistSchedule
	switch f := models.ScheduleFrequency(strings.TrimSpace(in.Frequency)); f {
	case models.ScheduleOff, models.ScheduleHourly, models.ScheduleDaily, models.ScheduleWeekly:
		s.Frequency = f
	default:
		verr.add(FieldFrequency, "Choose off, hourly, daily or weekly.")
	}
	t := strings.TrimSpace(in.Time)
	if t == "" && (s.Frequency == models.ScheduleOff) {
		t = "03:00"
	}
	hh, mm, ok := strings.Cut(t, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mm) != 2 {
		verr.add(FieldTime, "Enter a time of day as hh:mm, for example 03:30.")
	} else {
		s.Hour, s.Minute = h, m
	}
	if s.Frequency == models.ScheduleWeekly || strings.TrimSpace(in.Weekday) != "" {
		d, err := strconv.Atoi(strings.TrimSpace(in.Weekday))
		if err != nil || d < 0 || d > 6 {
			verr.add(FieldWeekday, "Choose a day of the week.")
		} else {
			s.Weekday = time.Weekday(d)
		}
	}
	return s, verr
}

// SaveSchedule validates and stores the schedule and applies it at once.
func (b *Blocklists) SaveSchedule(ctx context.Context, in ScheduleInput) (models.BlocklistSchedule, error) {
	s, verr := ValidateSchedule(in)
	if !verr.empty() {
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
func (b *Blocklists) UseScheduler(s ImportScheduler) {
	b.mu.Lock()
	b.sched = s
	b.mu.Unlock()
}

// ApplySchedule hands the saved schedule and the panel's time zone to the
// scheduler. Call it again when the time zone changes.
func (b *Blocklists) ApplySchedule(ctx context.Context) error {
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

// ScheduleInfo returns the schedule, its next run and the outcome of the
// last scheduled run.
func (b *Blocklists) ScheduleInfo(ctx context.Context) (models.ScheduleInfo, error) {
	s, err := b.Schedule(ctx)
	info := models.ScheduleInfo{Schedule: s, Location: b.location(ctx)}
	if err != nil {
		return info, err
	}
	b.mu.Lock()
	sched, applied := b.sched, b.applied
	b.mu.Unlock()
	if sched != nil && applied != appliedKey(s, info.Location) {
		// The time zone changed since (setup, settings): follow it.
		if err := b.ApplySchedule(ctx); err != nil {
			return info, err
		}
	}
	if sched != nil && s.Frequency != models.ScheduleOff {
		info.NextRun = sched.NextRun()
	}
	last, err := b.lastScheduled(ctx)
	info.Last = last
	return info, err
}

// lastScheduled reads the last scheduled run from the import log and
// caches it for LastScheduledFailed.
func (b *Blocklists) lastScheduled(ctx context.Context) (*models.ImportBatchSummary, error) {
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
	s := &models.ImportBatchSummary{At: time.Unix(0, rows[0].Batch), StartedBy: rows[0].StartedBy, Sources: len(rows)}
	for _, r := range rows {
		s.Imported += r.IPsImported
		s.AlreadyBanned += r.IPsAlreadyBanned
		s.Skipped += r.IPsSkipped
		if r.Errors != nil && *r.Errors != "" {
			name := r.SourceName
			if name == "" {
				name = r.SourceURL
			}
			s.Errors = append(s.Errors, name+": "+*r.Errors)
		}
	}
	return s
}

// LastScheduledFailed reports whether the last scheduled run had errors,
// for the navigation badge. It reads the database once and then answers
// from memory (every import updates it).
func (b *Blocklists) LastScheduledFailed(ctx context.Context) bool {
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
