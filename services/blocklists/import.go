package blocklists

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"bangui/events"
	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
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
	if b.opts.OnFinish != nil {
		b.opts.OnFinish(b.Progress())
	}
	if by == models.TriggerSchedule {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultImportLogTimeout)
		defer cancel()
		_, _ = b.lastScheduled(ctx)
	}
	b.mu.Lock()
	touched := b.touched
	b.touched = nil
	b.mu.Unlock()
	if len(touched) == 0 {
		touched = []string{importHost}
	}
	for _, id := range touched {
		b.probe.RefreshHost(context.WithoutCancel(ctx), id)
	}
}

// importEnv is what every source of one run shares.
type importEnv struct {
	by     models.ImportTrigger
	batch  int64               // run start, unix ns
	hosts  map[string]*hostEnv // target hosts ready to ban, by id
	failed map[string]error    // target hosts that could not be prepared, by id
	ids    []string            // the registered hosts' ids, in registry order
}

// hostEnv is one target host of a run.
type hostEnv struct {
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
		b.update(func(p *models.ImportProgress) { p.Error = lang.M("blk.imp.read_sources", "Reason", err) })
		return
	}
	b.update(func(p *models.ImportProgress) { p.Sources = len(srcs) })
	if len(srcs) == 0 {
		return
	}
	env := b.newEnv(by)
	var want []string
	for _, s := range srcs {
		ids, _ := s.Hosts.IDs(env.ids)
		for _, id := range ids {
			if !slices.Contains(want, id) {
				want = append(want, id)
			}
		}
	}
	b.prepare(ctx, env, want)
	if ctx.Err() != nil {
		return // stopped, not failed
	}
	if len(env.hosts) == 0 && len(env.failed) == 1 {
		// The one target host is not ready: the run as a whole failed.
		for _, err := range env.failed {
			msg := describeImportError(err)
			b.update(func(p *models.ImportProgress) { p.Error = msg })
		}
	}
	for _, s := range srcs {
		if ctx.Err() != nil {
			return
		}
		res := b.importSource(ctx, env, s)
		if ctx.Err() != nil && res.Error.IsZero() {
			return // interrupted: the runs stay pending and are resumed later
		}
		b.record(ctx, env, s, res)
	}
}

// newEnv starts the shared state of a run.
func (b *Service) newEnv(by models.ImportTrigger) *importEnv {
	env := &importEnv{by: by, batch: b.now().UnixNano(), hosts: map[string]*hostEnv{}, failed: map[string]error{}}
	b.mu.Lock()
	if !b.progress.StartedAt.IsZero() {
		env.batch = b.progress.StartedAt.UnixNano()
	}
	b.mu.Unlock()
	for _, h := range b.hosts.All() {
		env.ids = append(env.ids, h.ID())
	}
	return env
}

// prepare makes sure the jail runs on each host in ids and reads what
// every source needs from it, every host at once. A host that is not
// ready lands in env.failed; the others in env.hosts.
func (b *Service) prepare(ctx context.Context, env *importEnv, ids []string) {
	b.update(func(p *models.ImportProgress) { p.Phase = models.PhaseCheckingJail })
	b.mu.Lock()
	for _, id := range ids {
		if !slices.Contains(b.touched, id) {
			b.touched = append(b.touched, id)
		}
	}
	b.mu.Unlock()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			he, err := b.prepareHost(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				env.failed[id] = err
				return
			}
			env.hosts[id] = he
		})
	}
	wg.Wait()
}

// prepareHost makes sure one host runs the jail and reads its ignore
// lists, ban time and current bans.
func (b *Service) prepareHost(ctx context.Context, id string) (*hostEnv, error) {
	if err := b.EnsureJail(ctx, id); err != nil {
		return nil, err
	}
	c, err := b.hosts.Get(id)
	if err != nil {
		return nil, err
	}
	he := &hostEnv{host: c}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, b.probe.Observe(id, err)
	}
	var ignores []string
	for _, jail := range st.Jails {
		list, err := c.IgnoreIPs(ctx, jail)
		if err != nil && !errors.Is(err, fail2ban.ErrUnknownJail) {
			return nil, b.probe.Observe(id, err)
		}
		ignores = append(ignores, list...)
	}
	he.ignore = IgnorePrefixes(ignores)
	if he.banTime, err = c.BanTime(ctx, models.BlocklistJail); err != nil {
		return nil, b.probe.Observe(id, err)
	}
	// The full list of a big jail takes long to send.
	js, err := c.JailStatus(fail2ban.WithCallTimeout(ctx, b.opts.BanCallTimeout), models.BlocklistJail)
	if err != nil {
		return nil, b.probe.Observe(id, err)
	}
	he.banned = make(map[string]bool, len(js.Banned))
	for _, ip := range js.Banned {
		he.banned[ip] = true
	}
	return he, nil
}

// describeImportError turns an error of a whole run into a sentence.
func describeImportError(err error) lang.Message {
	var jp *JailProblem
	var uh *hosts.UnknownHostError
	switch {
	case errors.As(err, &jp):
		return jp.Text()
	case errors.As(err, &uh):
		return lang.M("blk.imp.host_gone", "Host", uh.ID)
	case fail2ban.IsUnreachable(err):
		return services.Fail2banProblem(err)
	}
	return lang.Of(err)
}

// importSource downloads and parses one source once and bans it on each
// of its target hosts at once. A host that is not ready or fails keeps
// its error in its result; the others' results stand.
func (b *Service) importSource(ctx context.Context, env *importEnv, src models.BlocklistSource) models.ImportSourceResult {
	res := models.ImportSourceResult{SourceID: src.ID, Name: src.Name, URL: src.URL}
	ids, missing := src.Hosts.IDs(env.ids)
	var ready []*hostEnv
	var ignore []netip.Prefix
	for _, id := range ids {
		if he := env.hosts[id]; he != nil {
			ready = append(ready, he)
			ignore = append(ignore, he.ignore...)
		}
	}
	hostErr := func(id string, err error) models.ImportHostResult {
		return models.ImportHostResult{Host: id, Error: describeImportError(err)}
	}
	if len(ready) == 0 {
		for _, id := range ids {
			if err := env.failed[id]; err != nil {
				res.Hosts = append(res.Hosts, hostErr(id, err))
			}
		}
		for _, id := range missing {
			res.Hosts = append(res.Hosts, hostErr(id, &hosts.UnknownHostError{ID: id}))
		}
		res.Sum()
		return res
	}
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
		parsed, err = Parse(cr, ignore, 0)
		hash = hex.EncodeToString(h.Sum(nil))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			res.Error = lang.Of(err)
		}
		return res
	}
	res.Counts, res.Skipped = parsed.Counts, parsed.Counts.Skipped()
	if parsed.Counts.Valid() == 0 {
		res.Error = lang.M("blk.imp.no_addresses", "Counts", countsMessage(parsed.Counts))
		return res
	}
	b.update(func(p *models.ImportProgress) { p.Phase = "banning" })
	out := make([]models.ImportHostResult, len(ready))
	var wg sync.WaitGroup
	for i, he := range ready {
		wg.Go(func() { out[i] = b.importOnHost(ctx, he, src, hash, parsed, res.Skipped) })
	}
	wg.Wait()
	for _, id := range ids {
		if i := slices.IndexFunc(ready, func(he *hostEnv) bool { return he.host.ID() == id }); i >= 0 {
			res.Hosts = append(res.Hosts, out[i])
		} else if err := env.failed[id]; err != nil {
			res.Hosts = append(res.Hosts, hostErr(id, err))
		}
	}
	for _, id := range missing {
		res.Hosts = append(res.Hosts, hostErr(id, &hosts.UnknownHostError{ID: id}))
	}
	res.Sum()
	return res
}

// importOnHost bans one parsed list on one host, going on from the host's
// run of the same content when there is one.
func (b *Service) importOnHost(ctx context.Context, he *hostEnv, src models.BlocklistSource, hash string, parsed ParsedList, skipped int64) models.ImportHostResult {
	id := he.host.ID()
	res := models.ImportHostResult{Host: id}
	run, err := b.runs.BySourceAndHash(ctx, src.ID, id, hash)
	var targets []string
	switch {
	case errors.Is(err, repo.ErrNotFound):
		targets = parsed.Targets
		run.ID, err = b.runs.CreatePending(ctx, src.ID, id, hash, targets, skipped)
		run.Total = int64(len(targets))
	case err != nil:
	case run.State == models.ImportCompleted && !b.stale(run, he):
		res.Unchanged = true
		for _, t := range parsed.Targets {
			if he.banned[t] {
				res.AlreadyBanned++
			}
		}
		return res
	case run.State == models.ImportCompleted:
		// Same content, but its bans have run out since: ban it again.
		targets = parsed.Targets
		err = b.runs.Restart(ctx, run.ID, targets, skipped)
		run.Done, run.ImportedCount, run.AlreadyBanned, run.Total = 0, 0, 0, int64(len(targets))
	default: // pending (interrupted) or failed: go on where it stopped
		targets, err = b.runs.Targets(ctx, run.ID)
		if errors.Is(err, repo.ErrNotFound) {
			targets = parsed.Targets
			err = b.runs.Restart(ctx, run.ID, targets, skipped)
			run.Done, run.ImportedCount, run.AlreadyBanned, run.Total = 0, 0, 0, int64(len(targets))
		} else if err == nil {
			res.Resumed = run.Done > 0
			if run.State == models.ImportFailed {
				err = b.runs.Reopen(ctx, run.ID)
			}
		}
	}
	if err == nil {
		err = b.runs.SupersedeOthers(ctx, src.ID, id, run.ID, "The list changed before this import finished.")
	}
	if err != nil {
		res.Error = lang.M("blk.imp.record", "Reason", err)
		return res
	}
	return b.banRun(ctx, he, run, targets, skipped, res)
}

// stale reports whether a completed run's bans have run out: it completed
// longer ago than the jail bans.
func (b *Service) stale(run models.ImportRun, he *hostEnv) bool {
	if he.banTime <= 0 {
		return false
	}
	return b.now().Sub(time.Unix(run.UpdatedAt, 0)) >= he.banTime
}

// banRun bans a run's targets from where it stopped, in batches of one
// banip call each, recording progress after every batch. Addresses banned
// already are not sent. When ctx ends the run stays pending; when fail2ban
// fails it is marked failed. Either way the next run of the same content
// goes on from the last recorded batch, and fail2ban ignores addresses it
// bans already, so nothing is banned twice and nothing is lost.
func (b *Service) banRun(ctx context.Context, he *hostEnv, run models.ImportRun, targets []string, skipped int64, res models.ImportHostResult) models.ImportHostResult {
	done, imported, already := min(run.Done, int64(len(targets))), run.ImportedCount, run.AlreadyBanned
	total := int64(len(targets))
	// Several hosts may ban at once: the progress adds up theirs.
	b.update(func(p *models.ImportProgress) { p.Phase, p.Done, p.Total = "banning", p.Done+done, p.Total+total })
	size := int64(b.opts.BatchSize)
	for done < total {
		end := min(done+size, total)
		send := make([]string, 0, end-done)
		for _, t := range targets[done:end] {
			if he.banned[t] {
				already++
			} else {
				send = append(send, t)
			}
		}
		if len(send) > 0 {
			n, err := he.host.Ban(fail2ban.WithCallTimeout(ctx, b.opts.BanCallTimeout), models.BlocklistJail, send...)
			if err != nil {
				if ctx.Err() != nil {
					return res // interrupted: stays pending
				}
				b.probe.Observe(he.host.ID(), err)
				msg := lang.M("blk.imp.batch_refused", "Reason", err)
				if fail2ban.IsUnreachable(err) {
					msg = services.Fail2banProblem(err)
				}
				_ = b.runs.MarkFailed(context.WithoutCancel(ctx), run.ID, msg.Error())
				res.Imported, res.AlreadyBanned = imported, already
				res.Error = lang.M("blk.imp.batch_partial", "Reason", msg, "Done", done, "Total", total)
				return res
			}
			imported += int64(n)
			already += int64(len(send) - n)
			for _, t := range send {
				he.banned[t] = true
			}
		}
		step := end - done
		done = end
		if err := b.runs.Advance(context.WithoutCancel(ctx), run.ID, done, imported, already); err != nil {
			res.Error = lang.M("blk.imp.progress", "Reason", err)
			return res
		}
		b.update(func(p *models.ImportProgress) { p.Done += step })
		if b.opts.OnBatch != nil {
			b.opts.OnBatch(run.ID, done, total)
		}
	}
	if err := b.runs.MarkCompleted(context.WithoutCancel(ctx), run.ID, imported, skipped); err != nil {
		res.Error = lang.M("blk.imp.record", "Reason", err)
		return res
	}
	res.Imported, res.AlreadyBanned = imported, already
	return res
}

// record writes a source's result to the progress and the import log: one
// log entry per target host (one without a host when the list itself
// failed).
func (b *Service) record(ctx context.Context, env *importEnv, src models.BlocklistSource, res models.ImportSourceResult) {
	b.update(func(p *models.ImportProgress) { p.Results = append(p.Results, res) })
	base := models.ImportLog{
		SourceID: &src.ID, SourceURL: src.URL, SourceName: src.Name, Timestamp: b.now().Unix(),
		IPsSkipped: res.Skipped, StartedBy: models.TriggerManual, Host: importHost,
	}
	if env != nil {
		base.StartedBy, base.Batch = env.by, env.batch
	}
	var entries []models.ImportLog
	if len(res.Hosts) == 0 {
		e := base
		e.IPsImported, e.IPsAlreadyBanned = res.Imported, res.AlreadyBanned
		if !res.Error.IsZero() {
			msg := string(models.StoredTextOf(res.Error))
			e.Errors = &msg
		}
		entries = append(entries, e)
	}
	for _, h := range res.Hosts {
		e := base
		e.Host, e.IPsImported, e.IPsAlreadyBanned = h.Host, h.Imported, h.AlreadyBanned
		if !h.Error.IsZero() {
			msg := string(models.StoredTextOf(h.Error))
			e.Errors = &msg
		}
		entries = append(entries, e)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultImportLogTimeout)
	defer cancel()
	for _, e := range entries {
		if _, err := b.logs.Add(ctx, e); err != nil {
			b.log.Error("writing the import log", "err", err, "source", src.Name, "host", e.Host)
		}
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
	env := b.newEnv(models.TriggerResume)
	var want []string
	for _, run := range pending {
		if !slices.Contains(want, run.Host) {
			want = append(want, run.Host)
		}
	}
	b.prepare(ctx, env, want)
	if len(env.hosts) == 0 {
		var errs []error
		for _, id := range want {
			errs = append(errs, env.failed[id])
		}
		err := errors.Join(errs...)
		if len(errs) == 1 {
			err = errs[0]
		}
		b.update(func(p *models.ImportProgress) { p.Error = describeImportError(err) })
		return nil, err
	}
	var out []models.ImportSourceResult
	for _, run := range pending {
		he := env.hosts[run.Host]
		if he == nil {
			continue // its host is not ready: the run stays pending for the next start
		}
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
		res := models.ImportSourceResult{SourceID: src.ID, Name: src.Name, URL: src.URL, Skipped: run.SkippedCount}
		b.update(func(p *models.ImportProgress) { p.Current, p.Done, p.Total = src.Name, 0, 0 })
		hr := b.banRun(ctx, he, run, targets, run.SkippedCount, models.ImportHostResult{Host: run.Host, Resumed: true})
		if ctx.Err() != nil && hr.Error.IsZero() {
			return out, ctx.Err()
		}
		res.Hosts = []models.ImportHostResult{hr}
		res.Sum()
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
