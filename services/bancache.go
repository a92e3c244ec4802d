package services

import (
	"context"
	"slices"
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
	warming map[string]bool        // hosts whose lists KeepCurrent is fetching now
	names   map[string]cachedNames // each host's running jails, sorted
	// fetching holds the list fetches under way, so that the pages that
	// find a jail's list outdated at once share one answer of fail2ban.
	fetching map[jailKey]*banFetch
	// statuses holds each host's jail counters as read for a page, shared
	// with the pages that ask within statusTTL (see Jails.jailStatuses).
	statuses map[string]*statusRead
	// maxAge guards against the rare restart of fail2ban that ends with
	// equal counters and that the probe did not see: KeepCurrent fetches a
	// list again once it is older than this.
	maxAge time.Duration
	now    func() time.Time
}

// namesTTL is how long a host's list of running jails is reused. The
// status probe renews it on every look and the panel's own jail commands
// drop it, so only a jail started or stopped outside the panel shows late,
// by at most this long.
const namesTTL = 5 * time.Second

// cachedNames is a host's running jails as last read.
type cachedNames struct {
	names []string
	at    time.Time
}

// statusTTL is how long one read of a host's jail counters serves the
// per-IP pages: a ban or unban made outside the panel shows there at most
// this late (the panel's own drop it, see forget).
const statusTTL = time.Second

// statusRead is one read of a host's jail counters.
type statusRead struct {
	at    time.Time     // when it was asked for
	done  chan struct{} // closed when jails and err are set
	jails []fail2ban.JailStatus
	err   error
}

// banFetch is one fetch of a jail's list for the counters st.
type banFetch struct {
	st   fail2ban.JailStatus
	done chan struct{} // closed when bans and err are set
	bans []models.ActiveBan
	err  error
}

// join returns the fetch under way of a host's jail for the counters st,
// or starts one (first true: the caller fetches and calls finish).
func (c *banCache) join(host string, st fail2ban.JailStatus) (f *banFetch, first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := jailKey{host, st.Name}
	if f := c.fetching[k]; f != nil && f.st.CurrentlyBanned == st.CurrentlyBanned && f.st.TotalBanned == st.TotalBanned {
		return f, false
	}
	f = &banFetch{st: st, done: make(chan struct{})}
	c.fetching[k] = f
	return f, true
}

// finish ends the fetch f of a host's jail.
func (c *banCache) finish(host string, f *banFetch) {
	c.mu.Lock()
	if k := (jailKey{host, f.st.Name}); c.fetching[k] == f {
		delete(c.fetching, k)
	}
	c.mu.Unlock()
	close(f.done)
}

// jailKey names a jail of a host.
type jailKey struct{ host, jail string }

type cachedBans struct {
	current, total int64
	at             time.Time
	bans           []models.ActiveBan // sorted newest first
}

func newBanCache() *banCache {
	return &banCache{jails: map[jailKey]cachedBans{}, warming: map[string]bool{}, names: map[string]cachedNames{},
		fetching: map[jailKey]*banFetch{}, statuses: map[string]*statusRead{}, maxAge: 5 * time.Minute, now: time.Now}
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
// when jail is empty, and the host's jail names.
func (c *banCache) forget(host, jail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.names, host)
	delete(c.statuses, host)
	for k := range c.jails {
		if k.host == host && (jail == "" || k.jail == jail) {
			delete(c.jails, k)
		}
	}
}

// forgetCounters drops the shared read of a host's jail counters, so the
// next page reads them again.
func (c *banCache) forgetCounters(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.statuses, host)
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

// bannedIn tells, from the cached lists, in which of the jails ip is
// banned; known is false unless every jail with bans has a list that
// matches its counters in jails.
func (c *banCache) bannedIn(host string, jails []fail2ban.JailStatus, ip string) (banned map[string]bool, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	banned = map[string]bool{}
	for _, st := range jails {
		if st.CurrentlyBanned == 0 {
			continue
		}
		e, ok := c.jails[jailKey{host, st.Name}]
		if !ok || e.current != st.CurrentlyBanned || e.total != st.TotalBanned {
			return nil, false
		}
		for _, b := range e.bans {
			if b.IP == ip {
				banned[st.Name] = true
				break
			}
		}
	}
	return banned, true
}

// jailNames returns a host's running jails, sorted, if read within namesTTL.
func (c *banCache) jailNames(host string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.names[host]
	if !ok || c.now().Sub(e.at) > namesTTL {
		return nil, false
	}
	return e.names, true
}

// putNames keeps a host's running jails (sorted; not changed afterwards).
func (c *banCache) putNames(host string, names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names[host] = cachedNames{names: names, at: c.now()}
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
	names := make([]string, len(jails))
	for i, st := range jails {
		names[i] = st.Name
	}
	slices.Sort(names)
	j.cache.putNames(h.ID(), names)
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

// jailStatuses returns the counters of h's jails as read at most statusTTL
// ago, or reads them; pages that ask while a read is under way share it.
func (j *Jails) jailStatuses(ctx context.Context, h hosts.Host) ([]fail2ban.JailStatus, error) {
	c := j.cache
	c.mu.Lock()
	r := c.statuses[h.ID()]
	if r == nil || c.now().Sub(r.at) > statusTTL {
		r = &statusRead{at: c.now(), done: make(chan struct{})}
		c.statuses[h.ID()] = r
		c.mu.Unlock()
		r.jails, r.err = h.AllJailStatus(ctx)
		if r.err != nil {
			c.mu.Lock()
			if c.statuses[h.ID()] == r {
				delete(c.statuses, h.ID())
			}
			c.mu.Unlock()
		}
		close(r.done)
		return r.jails, r.err
	}
	c.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil { // the shared read failed (perhaps its caller left): on our own
		return h.AllJailStatus(ctx)
	}
	return r.jails, nil
}

// Names returns the names of a host's running jails, sorted: those the
// status probe or a page read within namesTTL, or fail2ban's answer to one
// status command. Pages that only name the jails (filters, action forms)
// use it instead of asking for every jail's status.
func (j *Jails) Names(ctx context.Context, host string) ([]string, error) {
	if names, ok := j.cache.jailNames(host); ok {
		return slices.Clone(names), nil
	}
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, j.probe.Observe(host, err)
	}
	names := slices.Clone(st.Jails)
	slices.Sort(names)
	j.cache.putNames(host, names)
	return slices.Clone(names), nil
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
// read just before, are st, and caches them. Callers that ask for the same
// jail and counters while a fetch is under way share its answer.
func (j *Jails) fetchBans(ctx context.Context, h hosts.Host, st fail2ban.JailStatus) ([]models.ActiveBan, error) {
	f, first := j.cache.join(h.ID(), st)
	if !first {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err == nil {
			return f.bans, nil
		}
		return j.fetchBansNow(ctx, h, st) // the shared fetch failed (perhaps its caller left): on our own
	}
	f.bans, f.err = j.fetchBansNow(ctx, h, st)
	j.cache.finish(h.ID(), f)
	return f.bans, f.err
}

// fetchBansNow is fetchBans without sharing.
func (j *Jails) fetchBansNow(ctx context.Context, h hosts.Host, st fail2ban.JailStatus) ([]models.ActiveBan, error) {
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
