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
// fail2ban for a big list is slow (about 0.3 s for 20,000 bans on fail2ban
// 1.0.2) while its counters are cheap (under a millisecond), so a list is
// reused as long as the jail's counters are unchanged: every ban raises the
// total, every unban or expiry lowers the current count. A maximum age
// guards against the rare case of a restart that ends with equal counters.
type banCache struct {
	mu     sync.Mutex
	jails  map[jailKey]cachedBans
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
	return &banCache{jails: map[jailKey]cachedBans{}, maxAge: time.Minute, now: time.Now}
}

// get returns the bans of a host's jail if the cached list still matches
// the counters.
func (c *banCache) get(host string, st fail2ban.JailStatus) ([]models.ActiveBan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.jails[jailKey{host, st.Name}]
	if !ok || e.current != st.CurrentlyBanned || e.total != st.TotalBanned || c.now().Sub(e.at) > c.maxAge {
		return nil, false
	}
	return e.bans, true
}

func (c *banCache) put(host string, st fail2ban.JailStatus, bans []models.ActiveBan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jails[jailKey{host, st.Name}] = cachedBans{current: st.CurrentlyBanned, total: st.TotalBanned, at: c.now(), bans: bans}
}

// jailBans returns the current bans of one of h's jails whose short status
// is st, from the cache or from fail2ban.
func (j *Jails) jailBans(ctx context.Context, h hosts.Host, st fail2ban.JailStatus) ([]models.ActiveBan, error) {
	if bans, ok := j.cache.get(h.ID(), st); ok {
		return bans, nil
	}
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
