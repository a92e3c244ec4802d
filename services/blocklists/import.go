package blocklists

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"bangui/events"
	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// Start runs the start-up work in the background — make sure the jail
// exists, then finish runs an earlier process left unfinished — and makes
// ctx the lifetime of imports started later with StartImport: when ctx
// ends they stop, leave their run pending and are finished at the next
// start. Pass resume false before setup is complete (fail2ban's location
// is not known yet). Wait waits for the background work.
func (b *Service) Start(ctx context.Context, resume bool) {
	b.mu.Lock()
	b.bg = ctx
	b.mu.Unlock()
	if !resume {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.EnsureJail(ctx, importHost); err != nil {
			b.log.Warn("blocklist jail", "err", err)
		}
		if _, err := b.ResumePending(ctx); err != nil && !errors.Is(err, ErrImportRunning) && ctx.Err() == nil {
			b.log.Warn("resuming blocklist imports", "err", err)
		}
	}()
}

// Wait blocks until background imports have returned.
func (b *Service) Wait() { b.wg.Wait() }

// StartImport starts an import of one source (sourceID > 0) or of every
// enabled source in the background and returns at once; Progress follows
// it. It returns ErrImportRunning when an import runs already.
func (b *Service) StartImport(sourceID int64, by models.ImportTrigger) error {
	b.mu.Lock()
	ctx := b.bg
	b.mu.Unlock()
	ctx, release, err := b.acquire(ctx)
	if err != nil {
		return err
	}
	b.begin(by)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer release()
		b.importSources(ctx, sourceID, by)
	}()
	return nil
}

// Import runs an import of one source (sourceID > 0) or of every enabled
// source and returns when it is done. It returns ErrImportRunning when an
// import runs already; problems of single sources are in the results.
func (b *Service) Import(ctx context.Context, sourceID int64, by models.ImportTrigger) (models.ImportProgress, error) {
	ctx, release, err := b.acquire(ctx)
	if err != nil {
		return b.Progress(), err
	}
	defer release()
	b.begin(by)
	b.importSources(ctx, sourceID, by)
	return b.Progress(), nil
}

// Names of the blocklist import's leases (see services.Leases).
const (
	// importLease is held while an import runs, in whichever panel process.
	importLease = "blocklist-import"
	// scheduleLease is a scheduled time's turn: the panel process that
	// takes it runs that time's import; the others skip theirs.
	scheduleLease = "blocklist-schedule"
	// scheduleTurn is how long the turn is kept after a scheduled run:
	// longer than the panel processes' clocks and cron wake-ups differ,
	// shorter than the hourly schedule, the most frequent there is.
	scheduleTurn = 15 * time.Minute
)

// RunScheduled is what the scheduler calls: import every enabled source.
// When several panel processes share the database, only the one that takes
// the scheduled time's turn imports.
func (b *Service) RunScheduled(ctx context.Context) {
	ran := b.opts.Leases.Turn(ctx, scheduleLease, scheduleTurn, func(ctx context.Context) {
		p, err := b.Import(ctx, 0, models.TriggerSchedule)
		switch {
		case errors.Is(err, ErrImportRunningElsewhere):
			b.log.Info("scheduled blocklist import skipped: another panel process is importing")
		case errors.Is(err, ErrImportRunning):
			b.log.Warn("scheduled blocklist import skipped: an import is running")
		case err != nil:
			b.log.Warn("scheduled blocklist import failed", "err", err)
		case p.HasErrors():
			b.log.Warn("scheduled blocklist import had errors", "error", p.Error, "sources", len(p.Results))
		default:
			b.log.Info("scheduled blocklist import done", "sources", len(p.Results))
		}
	})
	if !ran && ctx.Err() == nil {
		b.log.Info("scheduled blocklist import left to another panel process")
	}
}

// acquire takes this process's one import slot and the import lease shared
// with the other panel processes on the database. The returned context
// ends with ctx or when the lease is lost; release gives both back.
func (b *Service) acquire(ctx context.Context) (_ context.Context, release func(), err error) {
	select {
	case b.running <- struct{}{}:
	default:
		return ctx, nil, ErrImportRunning
	}
	work, unlease, held, err := b.opts.Leases.Hold(ctx, importLease)
	switch {
	case err != nil:
		<-b.running
		return ctx, nil, fmt.Errorf("blocklist import: %w", err)
	case !held:
		<-b.running
		return ctx, nil, ErrImportRunningElsewhere
	}
	return work, func() { unlease(0); <-b.running }, nil
}

// begin resets the progress for a new run.
func (b *Service) begin(by models.ImportTrigger) {
	b.update(func(p *models.ImportProgress) {
		*p = models.ImportProgress{Running: true, StartedBy: by, StartedAt: b.now()}
	})
}

// update changes the progress under the lock and publishes the result.
func (b *Service) update(fn func(p *models.ImportProgress)) {
	b.mu.Lock()
	fn(&b.progress)
	b.mu.Unlock()
	if b.opts.Events != nil {
		b.opts.Events.Publish(events.Event{Topic: events.TopicImport, Host: importHost, Data: b.Progress()})
	}
}

// finish ends the run and refreshes what the page and badge show.
func (b *Service) finish(ctx context.Context, by models.ImportTrigger) {
	b.update(func(p *models.ImportProgress) {
		p.Running, p.FinishedAt, p.Current, p.Phase = false, b.now(), "", ""
	})
	if by == models.TriggerSchedule {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultImportLogTimeout)
		defer cancel()
		_, _ = b.lastScheduled(ctx)
	}
	b.probe.RefreshHost(context.WithoutCancel(ctx), importHost)
}

// importEnv is what every source of one run shares.
type importEnv struct {
	by      models.ImportTrigger
	batch   int64      // run start, unix ns
	host    hosts.Host // where the addresses are banned
	ignore  []netip.Prefix
	banned  map[string]bool // banned in the jail now, kept up to date
	banTime time.Duration   // the jail's ban time; negative: permanent
}

func (b *Service) importSources(ctx context.Context, sourceID int64, by models.ImportTrigger) {
	defer b.finish(ctx, by)
	var srcs []models.BlocklistSource
	var err error
	if sourceID > 0 {
		var s models.BlocklistSource
		if s, err = b.sources.Get(ctx, sourceID); err == nil {
			srcs = []models.BlocklistSource{s}
		}
	} else {
		srcs, err = b.sources.ListEnabled(ctx)
	}
	if err != nil {
		b.update(func(p *models.ImportProgress) { p.Error = "Could not read the sources: " + err.Error() })
		return
	}
	b.update(func(p *models.ImportProgress) { p.Sources = len(srcs) })
	if len(srcs) == 0 {
		return
	}
	env, err := b.prepare(ctx, by)
	if err != nil && ctx.Err() != nil {
		return // stopped, not failed
	}
	if err != nil {
		msg := describeImportError(err)
		b.update(func(p *models.ImportProgress) { p.Error = msg })
		for _, s := range srcs {
			b.record(ctx, env, s, models.ImportSourceResult{SourceID: s.ID, Name: s.Name, URL: s.URL, Error: msg})
		}
		return
	}
	for _, s := range srcs {
		if ctx.Err() != nil {
			return
		}
		res := b.importSource(ctx, env, s)
		if ctx.Err() != nil && res.Error == "" {
			return // interrupted: the run stays pending and is resumed later
		}
		b.record(ctx, env, s, res)
	}
}

// prepare makes sure the jail runs and reads what every source needs.
func (b *Service) prepare(ctx context.Context, by models.ImportTrigger) (*importEnv, error) {
	env := &importEnv{by: by, batch: b.now().UnixNano()}
	b.mu.Lock()
	if !b.progress.StartedAt.IsZero() {
		env.batch = b.progress.StartedAt.UnixNano()
	}
	b.mu.Unlock()
	b.update(func(p *models.ImportProgress) { p.Phase = "checking the jail" })
	if err := b.EnsureJail(ctx, importHost); err != nil {
		return env, err
	}
	c, err := b.hosts.Get(importHost)
	if err != nil {
		return env, err
	}
	env.host = c
	st, err := c.Status(ctx)
	if err != nil {
		return env, b.probe.Observe(importHost, err)
	}
	var ignores []string
	for _, jail := range st.Jails {
		list, err := c.IgnoreIPs(ctx, jail)
		if err != nil && !errors.Is(err, fail2ban.ErrUnknownJail) {
			return env, b.probe.Observe(importHost, err)
		}
		ignores = append(ignores, list...)
	}
	env.ignore = IgnorePrefixes(ignores)
	if env.banTime, err = c.BanTime(ctx, models.BlocklistJail); err != nil {
		return env, b.probe.Observe(importHost, err)
	}
	// The full list of a big jail takes long to send.
	js, err := c.JailStatus(fail2ban.WithCallTimeout(ctx, b.opts.BanCallTimeout), models.BlocklistJail)
	if err != nil {
		return env, b.probe.Observe(importHost, err)
	}
	env.banned = make(map[string]bool, len(js.Banned))
	for _, ip := range js.Banned {
		env.banned[ip] = true
	}
	return env, nil
}

// describeImportError turns an error of a whole run into a sentence.
func describeImportError(err error) string {
	var jp *JailProblem
	switch {
	case errors.As(err, &jp):
		return jp.Error()
	case fail2ban.IsUnreachable(err):
		return services.DescribeFail2banError(err)
	}
	return err.Error()
}

// importSource downloads, parses and bans one source.
func (b *Service) importSource(ctx context.Context, env *importEnv, src models.BlocklistSource) models.ImportSourceResult {
	res := models.ImportSourceResult{SourceID: src.ID, Name: src.Name, URL: src.URL}
	b.update(func(p *models.ImportProgress) {
		p.Current, p.Phase, p.Done, p.Total, p.Bytes = src.Name, "downloading", 0, 0, 0
	})
	var parsed ParsedList
	var hash string
	err := b.opts.Downloader.Fetch(ctx, src.URL, func(r io.Reader) error {
		h := sha256.New()
		cr := &countingReader{r: io.TeeReader(r, h), report: func(n int64) {
			b.update(func(p *models.ImportProgress) { p.Bytes = n })
		}}
		var err error
		parsed, err = Parse(cr, env.ignore, 0)
		hash = hex.EncodeToString(h.Sum(nil))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			res.Error = err.Error()
		}
		return res
	}
	res.Counts, res.Skipped = parsed.Counts, parsed.Counts.Skipped()
	if parsed.Counts.Valid() == 0 {
		res.Error = "The list holds no IP addresses or CIDR ranges (" + describeCounts(parsed.Counts) + ")."
		return res
	}

	run, err := b.runs.BySourceAndHash(ctx, src.ID, hash)
	var targets []string
	switch {
	case errors.Is(err, repo.ErrNotFound):
		targets = parsed.Targets
		run.ID, err = b.runs.CreatePending(ctx, src.ID, hash, targets, res.Skipped)
		run.Total = int64(len(targets))
	case err != nil:
	case run.State == models.ImportCompleted && !b.stale(run, env):
		res.Unchanged = true
		for _, t := range parsed.Targets {
			if env.banned[t] {
				res.AlreadyBanned++
			}
		}
		return res
	case run.State == models.ImportCompleted:
		// Same content, but its bans have run out since: ban it again.
		targets = parsed.Targets
		err = b.runs.Restart(ctx, run.ID, targets, res.Skipped)
		run.Done, run.ImportedCount, run.AlreadyBanned, run.Total = 0, 0, 0, int64(len(targets))
	default: // pending (interrupted) or failed: go on where it stopped
		targets, err = b.runs.Targets(ctx, run.ID)
		if errors.Is(err, repo.ErrNotFound) {
			targets = parsed.Targets
			err = b.runs.Restart(ctx, run.ID, targets, res.Skipped)
			run.Done, run.ImportedCount, run.AlreadyBanned, run.Total = 0, 0, 0, int64(len(targets))
		} else if err == nil {
			res.Resumed = run.Done > 0
			if run.State == models.ImportFailed {
				err = b.runs.Reopen(ctx, run.ID)
			}
		}
	}
	if err == nil {
		err = b.runs.SupersedeOthers(ctx, src.ID, run.ID, "The list changed before this import finished.")
	}
	if err != nil {
		res.Error = "Could not record the import: " + err.Error()
		return res
	}
	return b.banRun(ctx, env, run, targets, res)
}

// stale reports whether a completed run's bans have run out: it completed
// longer ago than the jail bans.
func (b *Service) stale(run models.ImportRun, env *importEnv) bool {
	if env.banTime <= 0 {
		return false
	}
	return b.now().Sub(time.Unix(run.UpdatedAt, 0)) >= env.banTime
}

// banRun bans a run's targets from where it stopped, in batches of one
// banip call each, recording progress after every batch. Addresses banned
// already are not sent. When ctx ends the run stays pending; when fail2ban
// fails it is marked failed. Either way the next run of the same content
// goes on from the last recorded batch, and fail2ban ignores addresses it
// bans already, so nothing is banned twice and nothing is lost.
func (b *Service) banRun(ctx context.Context, env *importEnv, run models.ImportRun, targets []string, res models.ImportSourceResult) models.ImportSourceResult {
	done, imported, already := min(run.Done, int64(len(targets))), run.ImportedCount, run.AlreadyBanned
	total := int64(len(targets))
	b.update(func(p *models.ImportProgress) { p.Phase, p.Done, p.Total = "banning", done, total })
	size := int64(b.opts.BatchSize)
	for done < total {
		end := min(done+size, total)
		send := make([]string, 0, end-done)
		for _, t := range targets[done:end] {
			if env.banned[t] {
				already++
			} else {
				send = append(send, t)
			}
		}
		if len(send) > 0 {
			n, err := env.host.Ban(fail2ban.WithCallTimeout(ctx, b.opts.BanCallTimeout), models.BlocklistJail, send...)
			if err != nil {
				if ctx.Err() != nil {
					return res // interrupted: stays pending
				}
				b.probe.Observe(env.host.ID(), err)
				msg := "fail2ban refused a batch: " + err.Error()
				if fail2ban.IsUnreachable(err) {
					msg = services.DescribeFail2banError(err)
				}
				_ = b.runs.MarkFailed(context.WithoutCancel(ctx), run.ID, msg)
				res.Imported, res.AlreadyBanned = imported, already
				res.Error = fmt.Sprintf("%s Banned %d of %d addresses; the next import goes on from there.", msg, done, total)
				return res
			}
			imported += int64(n)
			already += int64(len(send) - n)
			for _, t := range send {
				env.banned[t] = true
			}
		}
		done = end
		if err := b.runs.Advance(context.WithoutCancel(ctx), run.ID, done, imported, already); err != nil {
			res.Error = "Could not record the progress: " + err.Error()
			return res
		}
		b.update(func(p *models.ImportProgress) { p.Done = done })
		if b.opts.OnBatch != nil {
			b.opts.OnBatch(run.ID, done, total)
		}
	}
	if err := b.runs.MarkCompleted(context.WithoutCancel(ctx), run.ID, imported, res.Skipped); err != nil {
		res.Error = "Could not record the import: " + err.Error()
		return res
	}
	res.Imported, res.AlreadyBanned = imported, already
	return res
}

// record writes a source's result to the import log and the progress.
func (b *Service) record(ctx context.Context, env *importEnv, src models.BlocklistSource, res models.ImportSourceResult) {
	b.update(func(p *models.ImportProgress) { p.Results = append(p.Results, res) })
	entry := models.ImportLog{
		SourceID: &src.ID, SourceURL: src.URL, SourceName: src.Name, Timestamp: b.now().Unix(),
		IPsImported: res.Imported, IPsSkipped: res.Skipped, IPsAlreadyBanned: res.AlreadyBanned,
		StartedBy: models.TriggerManual,
	}
	if env != nil {
		entry.StartedBy, entry.Batch = env.by, env.batch
	}
	if res.Error != "" {
		e := res.Error
		entry.Errors = &e
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultImportLogTimeout)
	defer cancel()
	if _, err := b.logs.Add(ctx, entry); err != nil {
		b.log.Error("writing the import log", "err", err, "source", src.Name)
	}
}

// ResumePending finishes the runs an earlier process left pending (it was
// stopped or killed while banning), from their last recorded batch, without
// downloading the lists again. It returns the results, one per run.
func (b *Service) ResumePending(ctx context.Context) ([]models.ImportSourceResult, error) {
	ctx, release, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	pending, err := b.runs.Pending(ctx)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	b.begin(models.TriggerResume)
	defer b.finish(ctx, models.TriggerResume)
	b.update(func(p *models.ImportProgress) { p.Sources = len(pending) })
	env, err := b.prepare(ctx, models.TriggerResume)
	if err != nil {
		b.update(func(p *models.ImportProgress) { p.Error = describeImportError(err) })
		return nil, err
	}
	var out []models.ImportSourceResult
	for _, run := range pending {
		src, err := b.sources.Get(ctx, run.SourceID)
		if err != nil {
			_ = b.runs.MarkFailed(ctx, run.ID, "The source was deleted.")
			continue
		}
		targets, err := b.runs.Targets(ctx, run.ID)
		if err != nil {
			_ = b.runs.MarkFailed(ctx, run.ID, "The addresses of the interrupted import are gone; the next import starts over.")
			continue
		}
		res := models.ImportSourceResult{SourceID: src.ID, Name: src.Name, URL: src.URL, Skipped: run.SkippedCount, Resumed: true}
		b.update(func(p *models.ImportProgress) { p.Current = src.Name })
		res = b.banRun(ctx, env, run, targets, res)
		if ctx.Err() != nil && res.Error == "" {
			return out, ctx.Err()
		}
		b.record(ctx, env, src, res)
		out = append(out, res)
	}
	return out, nil
}

// countingReader reports how many bytes went through it after
// every read.
type countingReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.report(c.n)
	}
	return n, err
}
