// Package bulk runs one action (unban, allow-list, ban for a chosen time)
// on many addresses at once, in the background, in batches: one call of
// the action per host, jail and batch, never one per address. Each job
// keeps its progress and a result for every address until the panel
// stops; the audit log and the history archive are the lasting record.
package bulk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
)

// Target is one selected row: an address as it shows on a host, in a jail.
type Target struct {
	Host string
	Jail string
	IP   string
}

// Request is one bulk action on many targets.
type Request struct {
	Action  models.BulkAction
	Targets []Target
	By      string // who asked, for the job page
	Note    string // allow and ban: why
	// Expires ends an allow-list entry (zero: never).
	Expires time.Time
	// EveryJail: an allow-list entry holds in every jail, not only the
	// row's jail.
	EveryJail bool
	// Duration of a ban (0: permanent).
	Duration time.Duration
}

// Unbanner lifts bans of many addresses in one jail of a host with one
// call and says what happened to each (services.Jails.UnbanEach).
type Unbanner interface {
	UnbanEach(ctx context.Context, host, jail string, ips []string) ([]models.AddressResult, error)
}

// Allower puts addresses on a host's allow-list (the allow-list service).
type Allower interface {
	Allow(ctx context.Context, host string, reqs []models.AllowRequest) ([]models.AddressResult, error)
}

// TimedBanner bans addresses for a chosen time (the timed-ban service).
type TimedBanner interface {
	BanFor(ctx context.Context, host string, reqs []models.TimedBanRequest) ([]models.AddressResult, error)
}

// Limits of a job.
const (
	// MaxTargets is the most addresses one job takes.
	MaxTargets = 10_000
	// DefaultBatch is how many addresses go in one call.
	DefaultBatch = 500
	// CallTimeout bounds one batch's calls: fail2ban runs its actions for
	// every address of a batch before it answers.
	CallTimeout = 5 * time.Minute
	// keptJobs is how many finished jobs stay readable.
	keptJobs = 50
)

// Errors of Start, with the messages a user sees (lang.Of finds them).
var (
	ErrEmpty       error = &refusal{lang.M("bans.bulk_empty")}
	ErrUnsupported error = &refusal{lang.M("bans.bulk_unsupported")}
)

// refusal is an error of Start that is one message for a person.
type refusal struct{ msg lang.Message }

func (e *refusal) Error() string { return e.msg.Error() }

// Unwrap is the message, for lang.Of.
func (e *refusal) Unwrap() error { return e.msg }

// TooManyError refuses a selection above MaxTargets.
type TooManyError struct{ N int }

func (e *TooManyError) Error() string { return e.Unwrap().Error() }

// Unwrap is the refusal's message, for lang.Of.
func (e *TooManyError) Unwrap() error {
	return lang.M("bans.bulk_too_many", "N", e.N, "Max", MaxTargets)
}

// Service runs bulk jobs. The zero value is not usable: see New.
type Service struct {
	unbans Unbanner
	allows Allower
	bans   TimedBanner
	// Batch is how many addresses go in one call (DefaultBatch when 0).
	Batch int
	// OnFinish, when set, hears every job that ended.
	OnFinish func(models.BulkJob)

	ctx   context.Context // ends the jobs at shutdown
	now   func() time.Time
	wg    sync.WaitGroup
	mu    sync.Mutex
	jobs  map[string]*models.BulkJob
	order []string // job ids, oldest first
}

// New returns a service whose jobs run until ctx ends. allows and bans may
// be nil: their actions are then not offered (see Supports).
func New(ctx context.Context, unbans Unbanner, allows Allower, bans TimedBanner) *Service {
	return &Service{unbans: unbans, allows: allows, bans: bans, ctx: ctx, now: time.Now, jobs: map[string]*models.BulkJob{}}
}

// Supports reports whether the action can run here.
func (s *Service) Supports(a models.BulkAction) bool {
	switch a {
	case models.BulkUnban:
		return s.unbans != nil
	case models.BulkAllow:
		return s.allows != nil
	case models.BulkBan:
		return s.bans != nil
	}
	return false
}

// Dedupe drops repeated targets, keeping the first of each. An allow-list
// entry for every jail is one per host and address.
func Dedupe(ts []Target, everyJail bool) []Target {
	seen := make(map[Target]bool, len(ts))
	out := ts[:0:0]
	for _, t := range ts {
		k := t
		if everyJail {
			k.Jail = ""
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// Start checks req and runs it in the background; Job follows it.
func (s *Service) Start(req Request) (models.BulkJob, error) {
	if !s.Supports(req.Action) {
		return models.BulkJob{}, ErrUnsupported
	}
	req.Targets = Dedupe(req.Targets, req.Action == models.BulkAllow && req.EveryJail)
	if len(req.Targets) == 0 {
		return models.BulkJob{}, ErrEmpty
	}
	if len(req.Targets) > MaxTargets {
		return models.BulkJob{}, &TooManyError{N: len(req.Targets)}
	}
	id := make([]byte, 8)
	rand.Read(id)
	j := &models.BulkJob{ID: hex.EncodeToString(id), Action: req.Action, By: req.By, Total: len(req.Targets),
		Hosts: HostsOf(req.Targets), StartedAt: s.now(), Running: true}
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.order = append(s.order, j.ID)
	s.forgetOld()
	snap := s.copyOf(j)
	s.mu.Unlock()
	s.wg.Go(func() { s.run(j, req) })
	return snap, nil
}

// HostsOf names the hosts of ts, in order of first appearance.
func HostsOf(ts []Target) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range ts {
		if !seen[t.Host] {
			seen[t.Host] = true
			out = append(out, t.Host)
		}
	}
	return out
}

// Job returns a copy of the job with this id.
func (s *Service) Job(id string) (models.BulkJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return models.BulkJob{}, false
	}
	return s.copyOf(j), true
}

// Wait returns once every job has ended (at shutdown, after ctx ended).
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) copyOf(j *models.BulkJob) models.BulkJob {
	c := *j
	c.Results = append([]models.BulkResult(nil), j.Results...)
	c.Hosts = append([]string(nil), j.Hosts...)
	return c
}

// forgetOld drops the oldest finished jobs beyond keptJobs.
func (s *Service) forgetOld() {
	for len(s.order) > keptJobs {
		kept := false
		for i, id := range s.order {
			if !s.jobs[id].Running {
				delete(s.jobs, id)
				s.order = append(s.order[:i], s.order[i+1:]...)
				kept = true
				break
			}
		}
		if !kept {
			return
		}
	}
}

// batch is the targets of one call: one host, one jail.
type batch struct {
	host, jail string
	targets    []Target
}

// batches groups ts by host and jail, in order, in batches of size n.
func batches(ts []Target, n int) []batch {
	type key struct{ host, jail string }
	var order []key
	groups := map[key][]Target{}
	for _, t := range ts {
		k := key{t.Host, t.Jail}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	var out []batch
	for _, k := range order {
		g := groups[k]
		for len(g) > 0 {
			m := min(n, len(g))
			out = append(out, batch{host: k.host, jail: k.jail, targets: g[:m]})
			g = g[m:]
		}
	}
	return out
}

func (s *Service) run(j *models.BulkJob, req Request) {
	n := s.Batch
	if n <= 0 {
		n = DefaultBatch
	}
	for _, b := range batches(req.Targets, n) {
		var res []models.AddressResult
		err := s.ctx.Err()
		if err == nil {
			res, err = s.call(req, b)
		}
		out := make([]models.BulkResult, len(b.targets))
		for i, t := range b.targets {
			out[i] = models.BulkResult{Host: t.Host, Jail: t.Jail, AddressResult: models.AddressResult{Address: t.IP}}
			switch {
			case err != nil:
				out[i].Message = failure(err)
			case i < len(res):
				out[i].AddressResult = res[i]
			default:
				out[i].Message = lang.M("bans.result_no_answer")
			}
		}
		s.mu.Lock()
		j.Batches++
		j.Done += len(out)
		for _, r := range out {
			if !r.OK {
				j.Failed++
			}
		}
		j.Results = append(j.Results, out...)
		s.mu.Unlock()
	}
	s.mu.Lock()
	j.Running, j.FinishedAt = false, s.now()
	snap := s.copyOf(j)
	s.mu.Unlock()
	if s.OnFinish != nil {
		s.OnFinish(snap)
	}
}

// call sends one batch; the answer has one result per target, in order.
func (s *Service) call(req Request, b batch) ([]models.AddressResult, error) {
	ips := make([]string, len(b.targets))
	for i, t := range b.targets {
		ips[i] = t.IP
	}
	ctx := services.WithActor(fail2ban.WithCallTimeout(s.ctx, CallTimeout), req.By)
	switch req.Action {
	case models.BulkUnban:
		return s.unbans.UnbanEach(ctx, b.host, b.jail, ips)
	case models.BulkAllow:
		reqs := make([]models.AllowRequest, len(ips))
		for i, ip := range ips {
			reqs[i] = models.AllowRequest{Address: ip, Note: req.Note, Expires: req.Expires}
			if !req.EveryJail {
				reqs[i].Jails = []string{b.jail}
			}
		}
		res, err := s.allows.Allow(ctx, b.host, reqs)
		return inOrder(ips, res, err)
	case models.BulkBan:
		reqs := make([]models.TimedBanRequest, len(ips))
		for i, ip := range ips {
			reqs[i] = models.TimedBanRequest{Address: ip, Jail: b.jail, Duration: req.Duration, Note: req.Note}
		}
		res, err := s.bans.BanFor(ctx, b.host, reqs)
		return inOrder(ips, res, err)
	}
	return nil, ErrUnsupported
}

// inOrder puts a service's results in the order of ips, matched by
// address, for services that answer in another order or leave some out.
func inOrder(ips []string, res []models.AddressResult, err error) ([]models.AddressResult, error) {
	if err != nil {
		return nil, err
	}
	by := make(map[string]models.AddressResult, len(res))
	for _, r := range res {
		by[r.Address] = r
	}
	out := make([]models.AddressResult, len(ips))
	for i, ip := range ips {
		r, ok := by[ip]
		if !ok {
			r = models.AddressResult{Address: ip, Message: lang.M("bans.result_no_answer")}
		}
		out[i] = r
	}
	return out, nil
}

// failure is the message of a batch that failed as a whole: fail2ban's
// and the hosts' transport errors in the panel's words, others as they
// say (a jail that does not run, an address fail2ban refused).
func failure(err error) lang.Message {
	switch {
	case errors.Is(err, context.Canceled):
		return lang.M("bans.result_panel_stopped")
	case fail2ban.IsUnreachable(err), errors.Is(err, fail2ban.ErrTimeout), errors.Is(err, fail2ban.ErrPermission):
		return services.Fail2banProblem(err)
	}
	return lang.Of(err)
}
