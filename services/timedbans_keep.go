package services

import (
	"context"
	"errors"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// Keep makes one pass over the chosen ban times (see TimedBans): it lifts
// the bans whose time ended, bans again what fail2ban dropped or will drop
// before the chosen end, and returns when the next pass is due.
func (t *TimedBans) Keep(ctx context.Context) time.Time {
	now := t.now()
	next := now.Add(t.MaxWait)
	rows, err := t.store.All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("chosen ban times not read", "err", err)
		}
		return now.Add(timedRetry)
	}
	for from := 0; from < len(rows); {
		to := from
		for to < len(rows) && rows[to].Host == rows[from].Host && rows[to].Jail == rows[from].Jail {
			to++
		}
		next = minTime(next, t.keepJail(ctx, rows[from].Host, rows[from].Jail, rows[from:to], now))
		from = to
	}
	return next
}

// keepJail is Keep for the chosen times of one jail of one host.
func (t *TimedBans) keepJail(ctx context.Context, host, jail string, rows []models.TimedBan, now time.Time) time.Time {
	next := now.Add(t.MaxWait)
	var ended []string
	var live []models.TimedBan
	for _, r := range rows {
		if !r.Permanent() && !r.End().After(now) {
			ended = append(ended, r.IP)
			continue
		}
		live = append(live, r)
		if !r.Permanent() {
			next = minTime(next, r.End())
		}
	}
	if len(ended) > 0 {
		_, err := t.jails.Unban(ctx, host, jail, ended) // forgets their times (Jails.Timed)
		switch {
		case err == nil:
			t.log.Info("chosen ban times ended; bans lifted", "host", host, "jail", jail, "count", len(ended))
		case errors.Is(err, fail2ban.ErrUnknownJail), errors.Is(err, hosts.ErrUnknownHost):
			// Nothing holds these bans any more: the jail or host is gone.
			t.forget(ctx, host, jail, ended)
		default:
			t.log.Warn("bans at the end of their chosen time not lifted; trying again", "host", host, "jail", jail, "err", err)
			next = minTime(next, now.Add(timedRetry))
		}
	}
	if len(live) == 0 {
		return next
	}
	c, err := t.hosts.Get(host)
	if err != nil {
		return next // a host that left the registry; its bans wait for it
	}
	held, err := c.BannedWithTime(ctx, jail, t.jails.loc())
	if err != nil {
		// A stopped jail or a host that does not answer: the bans wait.
		return next
	}
	byIP := make(map[string]fail2ban.BanEntry, len(held))
	for _, e := range held {
		byIP[e.IP] = e
	}
	var again, lost []string
	for _, r := range live {
		e, ok := byIP[r.IP]
		switch {
		case !ok && now.Before(time.Unix(r.CreatedAt, 0).Add(timedSettle)):
			// BanFor stores the time before it bans: leave it that long.
			next = minTime(next, time.Unix(r.CreatedAt, 0).Add(timedSettle))
		case !ok:
			again = append(again, r.IP)
			lost = append(lost, r.IP)
		case e.Permanent, !r.Permanent() && !e.End.Before(r.End()):
			// fail2ban holds it to the chosen end or beyond.
		default:
			renew := e.End.Add(-e.BanTime / 2)
			if !renew.After(now) {
				again = append(again, r.IP)
				renew = now.Add(e.BanTime / 2)
			}
			next = minTime(next, renew)
		}
	}
	if again, lost = t.stillChosen(ctx, host, jail, again, lost); len(again) > 0 {
		_, err := c.Ban(ctx, jail, again...)
		t.jails.cache.forget(host, jail)
		if err != nil {
			t.log.Warn("bans of chosen time not renewed; trying again", "host", host, "jail", jail, "err", err)
			return minTime(next, now.Add(timedRetry))
		}
		if len(lost) > 0 {
			// fail2ban restarted without restoring them, or they ran out
			// while no panel kept them.
			t.log.Info("bans of chosen time that fail2ban no longer held banned again", "host", host, "jail", jail, "count", len(lost))
			// Their ends in fail2ban are known at the next pass.
			next = minTime(next, now.Add(time.Second))
		}
	}
	return next
}

// stillChosen keeps of again and lost the addresses whose chosen time in
// jail is still stored: an unban through the panel forgets the time before
// it unbans (see Jails.Unban), so a pass that read the times before that
// does not ban the address again.
func (t *TimedBans) stillChosen(ctx context.Context, host, jail string, again, lost []string) ([]string, []string) {
	if len(again) == 0 {
		return nil, nil
	}
	rows, err := t.store.OfIPs(ctx, host, again)
	if err != nil {
		t.log.Warn("chosen ban times not read; no ban renewed", "host", host, "jail", jail, "err", err)
		return nil, nil
	}
	kept := map[string]bool{}
	for _, r := range rows {
		if r.Jail == jail {
			kept[r.IP] = true
		}
	}
	keep := func(ips []string) []string {
		var out []string
		for _, ip := range ips {
			if kept[ip] {
				out = append(out, ip)
			}
		}
		return out
	}
	return keep(again), keep(lost)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// forget drops the chosen times of ips on host in jail ("" every jail;
// nil ips: every address), after the panel lifted their bans. A nil
// *TimedBans has none.
func (t *TimedBans) forget(ctx context.Context, host, jail string, ips []string) {
	if t == nil {
		return
	}
	if _, err := t.store.Delete(ctx, host, jail, ips); err != nil {
		t.log.Warn("chosen ban times of lifted bans not removed; their bans come back until their end", "host", host, "jail", jail, "err", err)
	}
}

// overlay returns bans (a copy; bans may be shared with the cache) with
// the chosen ends and who chose them in place of the ends fail2ban holds
// the bans to. A nil *TimedBans returns bans as they are.
func (t *TimedBans) overlay(ctx context.Context, host string, bans []models.ActiveBan) []models.ActiveBan {
	if t == nil || len(bans) == 0 {
		return bans
	}
	ips := make([]string, len(bans))
	for i, b := range bans {
		ips[i] = b.IP
	}
	rows, err := t.store.OfIPs(ctx, host, ips)
	if err != nil {
		t.log.Warn("chosen ban times not read for a ban table", "host", host, "err", err)
		return bans
	}
	if len(rows) == 0 {
		return bans
	}
	type key struct{ jail, ip string }
	chosen := make(map[key]models.TimedBan, len(rows))
	for _, r := range rows {
		chosen[key{r.Jail, r.IP}] = r
	}
	out := make([]models.ActiveBan, len(bans))
	for i, b := range bans {
		if r, ok := chosen[key{b.Jail, b.IP}]; ok {
			b.End, b.Permanent = r.End(), r.Permanent()
			b.Chosen, b.ChosenBy = true, r.SetBy
		}
		out[i] = b
	}
	return out
}
