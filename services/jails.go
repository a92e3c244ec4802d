package services

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"bangui/events"
	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// BanRecorder keeps the panel's own bans and unbans in the archive, because
// fail2ban deletes a ban's rows when it is unbanned by hand.
type BanRecorder interface {
	Archive(ctx context.Context, events []models.ArchivedBan) (int64, error)
}

// Jails is the use case behind the jails pages and the ban and unban forms.
// Every method acts on the fail2ban host with the given id.
type Jails struct {
	// Preserver, when set, runs before every command that makes fail2ban
	// unban or stop (see beforeUnban).
	Preserver Preserver
	// Events, when set, hears every address a command unbanned (see
	// unbanned), for the open per-IP pages of those addresses.
	Events *events.Broker
	// Timed, when set, holds the bans whose time a user chose: the ban
	// tables show their chosen ends, and unbans forget them.
	Timed *TimedBans

	hosts    *hosts.Registry
	probe    *StatusProbe
	recorder BanRecorder
	cache    *banCache
	loc      func() *time.Location
	now      func() time.Time
}

// NewJails wires the jails use case. recorder may be nil. fail2ban writes
// ban times in the host's local zone, which is how they are parsed.
func NewJails(reg *hosts.Registry, probe *StatusProbe, recorder BanRecorder) *Jails {
	return &Jails{hosts: reg, probe: probe, recorder: recorder, cache: newBanCache(),
		loc: func() *time.Location { return time.Local }, now: time.Now}
}

// List returns every running jail with its counters and key settings.
func (j *Jails) List(ctx context.Context, host string) ([]models.JailSummary, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	statuses, err := c.AllJailStatus(ctx)
	if err != nil {
		return nil, j.probe.Observe(host, err)
	}
	out := make([]models.JailSummary, 0, len(statuses))
	for _, st := range statuses {
		s := summaryFrom(st)
		basics, err := c.JailBasics(ctx, st.Name)
		if err != nil && !errors.Is(err, fail2ban.ErrUnknownJail) {
			return nil, j.probe.Observe(host, err)
		}
		s.BanTime, s.FindTime, s.MaxRetry, s.Idle = basics.BanTime, basics.FindTime, basics.MaxRetry, basics.Idle
		out = append(out, s)
	}
	return out, nil
}

func summaryFrom(st fail2ban.JailStatus) models.JailSummary {
	return models.JailSummary{
		Name: st.Name, Running: true,
		CurrentlyFailed: st.CurrentlyFailed, TotalFailed: st.TotalFailed,
		CurrentlyBanned: st.CurrentlyBanned, TotalBanned: st.TotalBanned,
	}
}

// Detail returns one jail's counters and settings.
func (j *Jails) Detail(ctx context.Context, host, name string) (models.JailDetail, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return models.JailDetail{}, err
	}
	st, err := c.JailStatusShort(ctx, name)
	if err != nil {
		return models.JailDetail{}, j.probe.Observe(host, err)
	}
	set, err := c.JailSettings(ctx, name)
	if err != nil {
		return models.JailDetail{}, j.probe.Observe(host, err)
	}
	d := models.JailDetail{
		JailSummary: summaryFrom(st),
		Backend:     set.Backend, DatePattern: set.DatePattern, LogEncoding: set.LogEncoding,
		Actions: set.Actions, LogPaths: set.LogPaths, FailRegex: set.FailRegex, IgnoreRegex: set.IgnoreRegex,
		IgnoreIPs: set.IgnoreIPs, IgnoreSelf: set.IgnoreSelf,
		Increment: models.BanTimeIncrement(set.Increment),
	}
	d.BanTime, d.FindTime, d.MaxRetry, d.Idle = set.BanTime, set.FindTime, set.MaxRetry, set.Idle
	return d, nil
}

// Banned returns one page of a jail's current bans, newest first, filtered
// by a substring of the address.
func (j *Jails) Banned(ctx context.Context, host, jail, search string, page models.Page) ([]models.ActiveBan, int64, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, 0, err
	}
	st, err := c.JailStatusShort(ctx, jail)
	if err != nil {
		return nil, 0, j.probe.Observe(host, err)
	}
	bans, err := j.jailBans(ctx, c, st)
	if err != nil {
		return nil, 0, j.probe.Observe(host, err)
	}
	out, total := pageOfBans(bans, search, page)
	return j.Timed.overlay(ctx, host, out), total, nil
}

// ActiveBans returns one page of the current bans of every jail.
func (j *Jails) ActiveBans(ctx context.Context, host, search string, page models.Page) ([]models.ActiveBan, int64, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, 0, err
	}
	statuses, err := c.AllJailStatus(ctx)
	if err != nil {
		return nil, 0, j.probe.Observe(host, err)
	}
	var all []models.ActiveBan
	for _, st := range statuses {
		bans, err := j.jailBans(ctx, c, st)
		if err != nil {
			return nil, 0, j.probe.Observe(host, err)
		}
		all = append(all, bans...)
	}
	if len(statuses) > 1 {
		sortBans(all)
	}
	out, total := pageOfBans(all, search, page)
	return j.Timed.overlay(ctx, host, out), total, nil
}

// pageOfBans filters sorted bans by a substring of the address and cuts one
// page. It never changes bans, which may be shared with the cache.
func pageOfBans(bans []models.ActiveBan, search string, page models.Page) ([]models.ActiveBan, int64) {
	if search = strings.TrimSpace(search); search != "" {
		var hits []models.ActiveBan
		for _, b := range bans {
			if strings.Contains(b.IP, search) {
				hits = append(hits, b)
			}
		}
		bans = hits
	}
	total := int64(len(bans))
	from := min(page.Offset(), len(bans))
	to := min(from+page.Size, len(bans))
	return bans[from:to], total
}

// BanResult says what a ban request did.
type BanResult struct {
	Jail     string
	Targets  []string // normalized addresses and ranges sent to fail2ban
	NewBans  int      // how many were not banned before
	Recorded bool     // written to the archive
}

// Ban bans targets (IPs or CIDR ranges) in jail with one fail2ban call and
// records the bans in the archive with origin manual.
func (j *Jails) Ban(ctx context.Context, host, jail string, targets []string) (BanResult, error) {
	res := BanResult{Jail: jail}
	c, err := j.hosts.Get(host)
	if err != nil {
		return res, err
	}
	norm, err := fail2ban.NormalizeTargets(targets)
	if err != nil {
		return res, err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return res, j.probe.Observe(host, err)
	}
	n, err := c.Ban(ctx, jail, norm...)
	j.cache.forget(host, jail)
	if err != nil {
		return res, j.probe.Observe(host, err)
	}
	res.Targets, res.NewBans = norm, n
	res.Recorded = j.record(ctx, host, "ban", jail, norm)
	j.probe.RefreshHost(ctx, host)
	return res, nil
}

// Unban lifts bans of targets in jail, or in every jail when jail is empty,
// and records the unbans in the archive.
func (j *Jails) Unban(ctx context.Context, host, jail string, targets []string) (int, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return 0, err
	}
	norm, err := fail2ban.NormalizeTargets(targets)
	if err != nil {
		return 0, err
	}
	var n int
	if jail == "" {
		// Find where they are banned first, so the archive names the jails.
		where, err := c.JailsOf(ctx, norm...)
		if err != nil {
			return 0, j.probe.Observe(host, err)
		}
		j.beforeUnban(ctx, host)
		j.Timed.forget(ctx, host, "", norm) // first, so that no renewal bans them again
		n, err = c.UnbanEverywhere(ctx, norm...)
		j.cache.forget(host, "")
		if err != nil {
			return 0, j.probe.Observe(host, err)
		}
		for i, ip := range norm {
			if i < len(where) {
				for _, jl := range where[i] {
					j.record(ctx, host, "unban", jl, []string{ip})
				}
			}
		}
		j.probe.RefreshHost(ctx, host)
		j.unbanned(host, norm)
		return n, nil
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return 0, j.probe.Observe(host, err)
	}
	j.beforeUnban(ctx, host)
	j.Timed.forget(ctx, host, jail, norm) // first, so that no renewal bans them again
	n, err = c.Unban(ctx, jail, norm...)
	j.cache.forget(host, jail)
	if err != nil {
		return 0, j.probe.Observe(host, err)
	}
	j.record(ctx, host, "unban", jail, norm)
	j.probe.RefreshHost(ctx, host)
	j.unbanned(host, norm)
	return n, nil
}

// UnbanAll lifts every ban in every jail and records each in the archive.
func (j *Jails) UnbanAll(ctx context.Context, host string) (int, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return 0, err
	}
	byJail, err := c.BannedAll(ctx)
	if err != nil {
		return 0, j.probe.Observe(host, err)
	}
	j.beforeUnban(ctx, host)
	j.Timed.forget(ctx, host, "", nil) // first, so that no renewal bans them again
	n, err := c.UnbanAll(ctx)
	j.cache.forget(host, "")
	if err != nil {
		return 0, j.probe.Observe(host, err)
	}
	for jail, ips := range byJail {
		j.record(ctx, host, "unban", jail, ips)
	}
	j.probe.RefreshHost(ctx, host)
	j.unbanned(host, nil)
	return n, nil
}

// record writes manual ban or unban events of a host; a failure is logged
// by the caller's error handling only through the returned flag, never
// fatal.
func (j *Jails) record(ctx context.Context, host, action, jail string, ips []string) bool {
	if j.recorder == nil || len(ips) == 0 {
		return false
	}
	now := j.now().Unix()
	events := make([]models.ArchivedBan, 0, len(ips))
	for _, ip := range ips {
		events = append(events, models.ArchivedBan{
			Host: host, Jail: jail, IP: ip, TimeOfBan: now, BanCount: 1, Data: "{}",
			Action: action, Origin: string(models.OriginManual),
		})
	}
	_, err := j.recorder.Archive(ctx, events)
	return err == nil
}

// Lookup says where ip is banned and which jails ignore it.
func (j *Jails) Lookup(ctx context.Context, host, raw string) (models.IPLookup, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return models.IPLookup{}, err
	}
	norm, err := fail2ban.NormalizeTargets([]string{raw})
	if err != nil {
		return models.IPLookup{}, err
	}
	ip := norm[0]
	res := models.IPLookup{IP: ip}
	st, err := c.Status(ctx)
	if err != nil {
		return res, j.probe.Observe(host, err)
	}
	res.Jails = st.Jails
	where, err := c.JailsOf(ctx, ip)
	if err != nil {
		return res, j.probe.Observe(host, err)
	}
	if len(where) > 0 {
		res.BannedIn = where[0]
	}
	addr, addrErr := netip.ParseAddr(ip)
	for _, jail := range st.Jails {
		ignores, err := c.IgnoreIPs(ctx, jail)
		if err != nil {
			return res, j.probe.Observe(host, err)
		}
		if addrErr == nil && ignoreListHolds(ignores, addr) {
			res.IgnoredIn = append(res.IgnoredIn, jail)
		}
	}
	return res, nil
}

// ignoreListHolds reports whether an ignore list (IPs, CIDR ranges, maybe
// host names) covers addr.
func ignoreListHolds(list []string, addr netip.Addr) bool {
	for _, entry := range list {
		if p, err := netip.ParsePrefix(entry); err == nil && p.Contains(addr) {
			return true
		}
		if a, err := netip.ParseAddr(entry); err == nil && a == addr {
			return true
		}
	}
	return false
}

// Start starts a jail. A jail that is not loaded is (re)loaded from the
// configuration through fail2ban-client.
func (j *Jails) Start(ctx context.Context, host, jail string) (string, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return "", err
	}
	if err := fail2ban.ValidJailName(jail); err != nil {
		return "", err
	}
	err = c.StartJail(ctx, jail)
	j.cache.forget(host, jail)
	if errors.Is(err, fail2ban.ErrUnknownJail) {
		out, rerr := c.Reload(ctx, jail)
		return out, rerr
	}
	return "", j.probe.Observe(host, err)
}

// Stop stops a jail; stopping a stopped jail succeeds.
func (j *Jails) Stop(ctx context.Context, host, jail string) error {
	c, err := j.hosts.Get(host)
	if err != nil {
		return err
	}
	if err := fail2ban.ValidJailName(jail); err != nil {
		return err
	}
	j.beforeUnban(ctx, host)
	err = c.StopJail(ctx, jail)
	j.cache.forget(host, jail)
	if err == nil {
		j.unbanned(host, nil) // its bans are lifted
	}
	return j.probe.Observe(host, err)
}

// unbanned tells the live pages that a command lifted the bans of ips on
// host (nil: any address's, as when every ban is lifted or a jail stops):
// fail2ban's database records no unban for the archive tail to see.
func (j *Jails) unbanned(host string, ips []string) {
	j.Events.Publish(events.Event{Topic: events.TopicAddresses, Host: host, Data: events.AddressesChanged{IPs: ips}})
}

// beforeUnban runs the Preserver before any command that makes fail2ban
// unban (one address, in one jail or all, every ban, a jail stopping): the
// rows fail2ban is about to delete go to the archive first.
func (j *Jails) beforeUnban(ctx context.Context, host string) {
	if j.Preserver != nil {
		j.Preserver.BeforeUnban(ctx, host)
	}
}

// SetIdle switches a jail's idle mode.
func (j *Jails) SetIdle(ctx context.Context, host, jail string, on bool) error {
	c, err := j.hosts.Get(host)
	if err != nil {
		return err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return j.probe.Observe(host, err)
	}
	return j.probe.Observe(host, c.SetIdle(ctx, jail, on))
}

// Reload reloads one jail, or all when jail is empty, through fail2ban-client.
func (j *Jails) Reload(ctx context.Context, host, jail string) (string, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return "", err
	}
	if jail != "" {
		if err := fail2ban.ValidJailName(jail); err != nil {
			return "", err
		}
	}
	out, err := c.Reload(ctx, jail)
	j.cache.forget(host, jail)
	if err != nil {
		return out, fmt.Errorf("reload failed: %w", err)
	}
	return out, nil
}

// AddIgnore adds addresses to a jail's ignore list (until the next reload).
func (j *Jails) AddIgnore(ctx context.Context, host, jail string, targets []string) ([]string, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	norm, err := fail2ban.NormalizeTargets(targets)
	if err != nil {
		return nil, err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return nil, j.probe.Observe(host, err)
	}
	list, err := c.AddIgnoreIP(ctx, jail, norm...)
	return list, j.probe.Observe(host, err)
}

// RemoveIgnore removes one entry from a jail's ignore list.
func (j *Jails) RemoveIgnore(ctx context.Context, host, jail, entry string) ([]string, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return nil, j.probe.Observe(host, err)
	}
	list, err := c.DelIgnoreIP(ctx, jail, strings.TrimSpace(entry))
	return list, j.probe.Observe(host, err)
}

// SetIgnoreSelf switches whether the jail ignores the host's own addresses.
func (j *Jails) SetIgnoreSelf(ctx context.Context, host, jail string, on bool) error {
	c, err := j.hosts.Get(host)
	if err != nil {
		return err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		return j.probe.Observe(host, err)
	}
	_, err = c.SetIgnoreSelf(ctx, jail, on)
	return j.probe.Observe(host, err)
}

// Archived tells the jails that new bans of host reached the archive. The
// counters shared between pages (see CurrentBansOf) may have been read
// before those bans; the next page reads them again, so a per-IP page that
// asks because of the new bans finds them.
func (j *Jails) Archived(host string) { j.cache.forgetCounters(host) }

// CurrentBansOf returns where ip is banned right now, with start and end,
// and the names of all running jails, sorted. The jails' counters come from
// a status shared between pages for up to statusTTL (see jailStatuses);
// when the ban lists the cache holds match them, they say where ip is
// banned, and fail2ban is not asked about ip at all.
func (j *Jails) CurrentBansOf(ctx context.Context, host, ip string) ([]models.ActiveBan, []string, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, nil, err
	}
	statuses, err := j.jailStatuses(ctx, c)
	if err != nil {
		return nil, nil, j.probe.Observe(host, err)
	}
	names := make([]string, 0, len(statuses))
	for _, st := range statuses {
		names = append(names, st.Name)
	}
	sort.Strings(names)
	banned, known := j.cache.bannedIn(host, statuses, ip)
	if !known {
		where, err := c.JailsOf(ctx, ip)
		if err != nil {
			return nil, nil, j.probe.Observe(host, err)
		}
		banned = map[string]bool{}
		if len(where) > 0 {
			for _, jl := range where[0] {
				banned[jl] = true
			}
		}
	}
	var out []models.ActiveBan
	for _, st := range statuses {
		if !banned[st.Name] {
			continue
		}
		bans, err := j.jailBans(ctx, c, st)
		if err != nil {
			return nil, nil, j.probe.Observe(host, err)
		}
		found := false
		for _, b := range bans {
			if b.IP == ip {
				out = append(out, b)
				found = true
				break
			}
		}
		if !found {
			out = append(out, models.ActiveBan{IP: ip, Jail: st.Name})
		}
	}
	return j.Timed.overlay(ctx, host, out), names, nil
}
