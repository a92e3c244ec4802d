package services

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"bangui/events"
	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
)

// statusTimeout bounds one refresh of every host's status.
const statusTimeout = 10 * time.Second

// StatusProbe keeps the latest status of every fail2ban host for the status
// bar. A job refreshes them; commands that find a host unreachable mark it
// offline at once, and the next successful refresh brings it back. A nil
// probe ignores Observe and RefreshHost.
type StatusProbe struct {
	hosts *hosts.Registry
	now   func() time.Time
	// Events, when set, receives a TopicStatus event each time a host's
	// status changes (not when only the time of the check does).
	Events *events.Broker
	// OnJails, when set, hears every jail's counters of a host each time
	// the probe reads them, or the error that kept it from reading them
	// (Jails.KeepCurrent keeps the ban lists current with it). It runs
	// before the refresh returns.
	OnJails func(ctx context.Context, h hosts.Host, jails []fail2ban.JailStatus, err error)

	mu       sync.Mutex
	cur      map[string]models.ServerStatus // by host id
	jails    map[string][]JailCounters      // by host id, as last read; none while offline
	checking map[string]bool                // hosts a Recheck refreshes now
}

// JailCounters are one jail's counters as the probe last read them.
type JailCounters struct {
	Name                         string
	CurrentlyBanned, TotalBanned int64
	CurrentlyFailed, TotalFailed int64
}

// HostSnapshot is what the probe knows of one host: its status and, while
// it is online, its jails' counters.
type HostSnapshot struct {
	Host   string // host id
	Status models.ServerStatus
	Jails  []JailCounters
}

// NewStatusProbe returns a probe of the hosts in reg. Each host is offline
// until its first refresh.
func NewStatusProbe(reg *hosts.Registry) *StatusProbe {
	return &StatusProbe{hosts: reg, now: time.Now, cur: map[string]models.ServerStatus{}, jails: map[string][]JailCounters{}, checking: map[string]bool{}}
}

// Snapshot returns what the probe knows of every host it has checked, by
// host id, without asking any host (metrics read it on each scrape).
func (p *StatusProbe) Snapshot() []HostSnapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]HostSnapshot, 0, len(p.cur))
	for id, st := range p.cur {
		out = append(out, HostSnapshot{Host: id, Status: st, Jails: slices.Clone(p.jails[id])})
	}
	slices.SortFunc(out, func(a, b HostSnapshot) int { return strings.Compare(a.Host, b.Host) })
	return out
}

// Current returns the last known status of a host.
func (p *StatusProbe) Current(host string) models.ServerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.cur[host]; ok {
		return st
	}
	return models.ServerStatus{Error: lang.M("fleet.status.unchecked")}
}

// store keeps st as host's status and publishes it when it changed.
func (p *StatusProbe) store(host string, st models.ServerStatus) {
	p.mu.Lock()
	old, known := p.cur[host]
	p.cur[host] = st
	p.mu.Unlock()
	old.CheckedAt, old.LastContact = st.CheckedAt, st.LastContact
	if !known || !sameStatus(old, st) {
		p.Events.Publish(events.Event{Topic: events.TopicStatus, Host: host, Time: st.CheckedAt, Data: st})
	}
}

// sameStatus reports whether a and b say the same, their errors compared
// as English texts.
func sameStatus(a, b models.ServerStatus) bool {
	return a.Online == b.Online && a.Version == b.Version && a.ActiveJails == b.ActiveJails &&
		a.Banned == b.Banned && a.Failed == b.Failed && a.CheckedAt.Equal(b.CheckedAt) &&
		a.Error.Error() == b.Error.Error() && a.LastContact.Equal(b.LastContact) && a.NewFingerprint == b.NewFingerprint
}

// Refresh asks every host, in parallel and within one deadline, for its
// version and every jail's counters.
func (p *StatusProbe) Refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, h := range p.hosts.All() {
		wg.Go(func() { p.refresh(ctx, h) })
	}
	wg.Wait()
}

// RefreshHost asks one host for its version and every jail's counters and
// returns its new status.
func (p *StatusProbe) RefreshHost(ctx context.Context, host string) models.ServerStatus {
	if p == nil {
		return models.ServerStatus{}
	}
	h, err := p.hosts.Get(host)
	if err != nil {
		return models.ServerStatus{CheckedAt: p.now(), Error: lang.Of(err)}
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	return p.refresh(ctx, h)
}

func (p *StatusProbe) refresh(ctx context.Context, h hosts.Host) models.ServerStatus {
	st := models.ServerStatus{CheckedAt: p.now(), LastContact: p.Current(h.ID()).LastContact}
	var jails []fail2ban.JailStatus
	version, err := h.Version(ctx)
	if err == nil {
		jails, err = h.AllJailStatus(ctx)
		if err == nil {
			st.Online, st.Version, st.ActiveJails = true, version, len(jails)
			st.LastContact = st.CheckedAt
			for _, j := range jails {
				st.Banned += j.CurrentlyBanned
				st.Failed += j.CurrentlyFailed
			}
		}
	}
	if err != nil {
		st.Error = Fail2banProblem(err)
		var fe *hosts.FingerprintError
		if errors.As(err, &fe) {
			st.NewFingerprint = fe.Got
		}
	}
	if err == nil {
		p.keepJails(h.ID(), jails)
	} else {
		p.keepJails(h.ID(), nil)
	}
	p.store(h.ID(), st)
	if p.OnJails != nil {
		p.OnJails(ctx, h, jails, err)
	}
	return st
}

// keepJails keeps the counters of a host's jails (nil: it did not answer).
func (p *StatusProbe) keepJails(host string, jails []fail2ban.JailStatus) {
	counters := make([]JailCounters, 0, len(jails))
	for _, j := range jails {
		counters = append(counters, JailCounters{Name: j.Name, CurrentlyBanned: j.CurrentlyBanned, TotalBanned: j.TotalBanned,
			CurrentlyFailed: j.CurrentlyFailed, TotalFailed: j.TotalFailed})
	}
	p.mu.Lock()
	p.jails[host] = counters
	p.mu.Unlock()
}

// Recheck refreshes a host's status when it says offline and was checked
// at least minAge ago, so a polling status bar notices at once that
// fail2ban is back; otherwise, or while another Recheck of the host runs,
// it returns the current status.
func (p *StatusProbe) Recheck(ctx context.Context, host string, minAge time.Duration) models.ServerStatus {
	cur := p.Current(host)
	if cur.Online || p.now().Sub(cur.CheckedAt) < minAge || !p.startCheck(host) {
		return cur
	}
	defer p.endCheck(host)
	return p.RefreshHost(ctx, host)
}

func (p *StatusProbe) startCheck(host string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checking[host] {
		return false
	}
	p.checking[host] = true
	return true
}

func (p *StatusProbe) endCheck(host string) {
	p.mu.Lock()
	delete(p.checking, host)
	p.mu.Unlock()
}

// Forget drops what the probe knows of a host that the panel no longer
// manages (removed or disabled).
func (p *StatusProbe) Forget(host string) {
	p.mu.Lock()
	delete(p.cur, host)
	delete(p.jails, host)
	p.mu.Unlock()
}

// Observe marks a host offline when err says it cannot be reached, and
// returns err, so that a command's error can pass through it.
func (p *StatusProbe) Observe(host string, err error) error {
	if p == nil || err == nil || !fail2ban.IsUnreachable(err) {
		return err
	}
	p.keepJails(host, nil)
	st := p.Current(host)
	st.Online = false
	st.Error = Fail2banProblem(err)
	st.CheckedAt = p.now()
	p.store(host, st)
	return err
}

// Fail2banProblem turns a fail2ban client error into a sentence for the
// status banner and the pages.
func Fail2banProblem(err error) lang.Message {
	var agentDown *hosts.UnreachableError
	switch {
	case errors.As(err, &agentDown) && agentDown.Timeout:
		return lang.M("fleet.status.agent_timeout", "URL", agentDown.URL)
	case errors.As(err, &agentDown):
		return lang.M("fleet.status.agent_down", "URL", agentDown.URL, "Cause", agentDown.Reason())
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return lang.M("fleet.status.cert_changed")
	case errors.Is(err, hosts.ErrAgentRefused):
		return lang.M("fleet.status.agent_refused")
	case errors.Is(err, fail2ban.ErrPermission):
		return lang.M("fleet.status.permission")
	case errors.Is(err, fail2ban.ErrTimeout):
		return lang.M("fleet.status.f2b_timeout")
	case errors.Is(err, fail2ban.ErrUnreachable):
		return lang.M("fleet.status.f2b_down")
	}
	return lang.M("fleet.status.f2b_error", "Cause", err)
}
