package services

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"bangui/fail2ban"
	"bangui/models"
)

// StatusProbe keeps the latest fail2ban server status for the status bar.
// A job refreshes it; commands that find fail2ban unreachable mark it offline
// at once, and the next successful refresh brings it back.
type StatusProbe struct {
	f2b     *Fail2ban
	cur     atomic.Pointer[models.ServerStatus]
	now     func() time.Time
	checkMu sync.Mutex // one Recheck at a time
}

// NewStatusProbe returns a probe that reads through f2b. It starts offline
// until the first refresh.
func NewStatusProbe(f2b *Fail2ban) *StatusProbe {
	p := &StatusProbe{f2b: f2b, now: time.Now}
	p.cur.Store(&models.ServerStatus{Error: "not checked yet"})
	return p
}

// Current returns the last known status.
func (p *StatusProbe) Current() models.ServerStatus { return *p.cur.Load() }

// Refresh asks fail2ban for its version and every jail's counters.
func (p *StatusProbe) Refresh(ctx context.Context) models.ServerStatus {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st := models.ServerStatus{CheckedAt: p.now()}
	c := p.f2b.Client()
	version, err := c.Version(ctx)
	if err == nil {
		var jails []fail2ban.JailStatus
		jails, err = c.AllJailStatus(ctx)
		if err == nil {
			st.Online, st.Version, st.ActiveJails = true, version, len(jails)
			for _, j := range jails {
				st.Banned += j.CurrentlyBanned
				st.Failed += j.CurrentlyFailed
			}
		}
	}
	if err != nil {
		st.Error = describeFail2banError(err)
	}
	p.cur.Store(&st)
	return st
}

// Recheck refreshes the status when it says offline and was checked at
// least minAge ago, so a polling status bar notices at once that fail2ban is
// back; otherwise, or while another Recheck runs, it returns the current
// status.
func (p *StatusProbe) Recheck(ctx context.Context, minAge time.Duration) models.ServerStatus {
	cur := p.Current()
	if cur.Online || p.now().Sub(cur.CheckedAt) < minAge || !p.checkMu.TryLock() {
		return cur
	}
	defer p.checkMu.Unlock()
	return p.Refresh(ctx)
}

// Observe marks fail2ban offline when err says it cannot be reached.
func (p *StatusProbe) Observe(err error) {
	if err == nil || !fail2ban.IsUnreachable(err) {
		return
	}
	old := p.Current()
	old.Online = false
	old.Error = describeFail2banError(err)
	old.CheckedAt = p.now()
	p.cur.Store(&old)
}

// describeFail2banError turns a client error into a sentence for the banner.
func describeFail2banError(err error) string {
	switch {
	case errors.Is(err, fail2ban.ErrPermission):
		return "BanGUI may not use fail2ban's socket (permission denied)."
	case errors.Is(err, fail2ban.ErrTimeout):
		return "fail2ban did not answer in time."
	case errors.Is(err, fail2ban.ErrUnreachable):
		return "fail2ban's socket does not answer: fail2ban is stopped or restarting."
	}
	return "fail2ban answered with an error: " + err.Error()
}
