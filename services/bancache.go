package services

import (
	"context"
	"sort"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// banCache keeps each jail's list of current bans between requests. Asking
// fail2ban for a big list is slow (about 35 ms for 5,000 bans and 0.3 s for
// 20,000 on fail2ban 1.0.2) while its counters are cheap (under a
// millisecond), so a list is reused as long as the jail's counters are
// unchanged: every ban raises the total, every unban or expiry lowers the
// current count. The status probe keeps the lists current each time it
// reads the counters (every 30 s, and after the panel's own bans and
// unbans; see Jails.KeepCurrent), so a page waits for fail2ban's list only
// when fail2ban banned or unbanned since the probe's last look.
type banCache struct {
	mu      sync.Mutex
	jails   map[jailKey]cachedBans
	warming map[string]bool // hosts whose lists KeepCurrent is fetching now
	// maxAge guards against the rare restart of fail2ban that ends with
	// equal counters and that the probe did not see: KeepCurrent fetches a
	// list again once it is older than this.
	maxAge time.Duration
	now    func() time.Time
}

// jailKey names a jail of a host.
type jailKey struct{ host, jail string }

type cachedBans struct {
	current, total int64
	at             time.Time
	bans           []models.ActiveBan // sorted newest first
}

func newBanCache() *banCache {
	return &banCache{jails: map[jailKey]cachedBans{}, warming: map[string]bool{}, maxAge: 5 * time.Minute, now: time.Now}
}

// get returns the bans of a host's jail if the cached list still matches
// the counters.
func (c *banCache) get(host string, st fail2ban.JailStatus) ([]models.ActiveBan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.jails[jailKey{host, st.Name}]
	if !ok || e.current != st.CurrentlyBanned || e.total != st.TotalBanned {
		return nil, false
	}
	return e.bans, true
}

// put keeps bans as the list of a host's jail whose counters, read before
// the list was fetched, are st. A ban or unban between the two reads moves
// the counters away from st, so the list is fetched again when a page
// reads them: the cache may fetch once too often, never serve a stale list.
func (c *banCache) put(host string, st fail2ban.JailStatus, bans []models.ActiveBan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jails[jailKey{host, st.Name}] = cachedBans{current: st.CurrentlyBanned, total: st.TotalBanned, at: c.now(), bans: bans}
}

// forget drops the lists of a host's jail, or of every jail of the host
// when jail is empty.
func (c *banCache) forget(host, jail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.jails {
		if k.host == host && (jail == "" || k.jail == jail) {
			delete(c.jails, k)
		}
	}
}

// stale returns the jails of a host whose cached list does not match the
// counters in jails or is older than maxAge, and drops the lists of jails
// that are no longer running. It returns nothing while a previous
// KeepCurrent of the host is still fetching; otherwise the caller must
// call doneWarming(host) when it is done.
func (c *banCache) stale(host string, jails []fail2ban.JailStatus) []fail2ban.JailStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	running := make(map[string]bool, len(jails))
	var out []fail2ban.JailStatus
	for _, st := range jails {
		running[st.Name] = true
		e, ok := c.jails[jailKey{host, st.Name}]
		if !ok || e.current != st.CurrentlyBanned || e.total != st.TotalBanned || c.now().Sub(e.at) > c.maxAge {
			out = append(out, st)
		}
	}
	for k := range c.jails {
		if k.host == host && !running[k.jail] {
			delete(c.jails, k)
		}
	}
	if len(out) == 0 || c.warming[host] {
		return nil
	}
	c.warming[host] = true
	return out
}

func (c *banCache) doneWarming(host string) {
	c.mu.Lock()
	delete(c.warming, host)
	c.mu.Unlock()
}

// KeepCurrent is the status probe's hook (StatusProbe.OnJails): given every
// jail's counters of a host as the probe just read them, it fetches the ban
// lists whose counters moved (or that are older than maxAge), so the jails
// pages find them ready whether or not anyone looked lately. err says the
// probe could not reach the host: its lists are dropped, since fail2ban may
// come back with other bans. While another KeepCurrent of the host is
// fetching, it returns at once.
func (j *Jails) KeepCurrent(ctx context.Context, h hosts.Host, jails []fail2ban.JailStatus, err error) {
	if err != nil {
		j.cache.forget(h.ID(), "")
		return
	}
	todo := j.cache.stale(h.ID(), jails)
	if len(todo) == 0 {
		return
	}
	defer j.cache.doneWarming(h.ID())
	for _, st := range todo {
		if _, err := j.fetchBans(ctx, h, st); err != nil {
			return // the next probe tries again; pages fetch on demand
		}
	}
}

// jailBans returns the current bans of one of h's jails whose short status
// is st, from the cache or from fail2ban.
func (j *Jails) jailBans(ctx context.Context, h hosts.Host, st fail2ban.JailStatus) ([]models.ActiveBan, error) {
	if bans, ok := j.cache.get(h.ID(), st); ok {
		return bans, nil
	}
	return j.fetchBans(ctx, h, st)
}

// fetchBans asks fail2ban for the bans of one of h's jails whose counters,
// read just before, are st, and caches them.
func (j *Jails) fetchBans(ctx context.Context, h hosts.Host, st fail2ban.JailStatus) ([]models.ActiveBan, error) {
	entries, err := h.BannedWithTime(ctx, st.Name, j.loc())
	if err != nil {
		return nil, err
	}
	bans := make([]models.ActiveBan, 0, len(entries))
	for _, e := range entries {
		bans = append(bans, models.ActiveBan{IP: e.IP, Jail: st.Name, Start: e.Start, End: e.End, Permanent: e.Permanent})
	}
	sortBans(bans)
	j.cache.put(h.ID(), st, bans)
	return bans, nil
}

// sortBans orders bans newest first, then by address and jail.
func sortBans(bans []models.ActiveBan) {
	sort.Slice(bans, func(a, b int) bool {
		if !bans[a].Start.Equal(bans[b].Start) {
			return bans[a].Start.After(bans[b].Start)
		}
		if bans[a].IP != bans[b].IP {
			return bans[a].IP < bans[b].IP
		}
		return bans[a].Jail < bans[b].Jail
	})
}
