package allowlist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
	"bangui/services/configuration"
)

// changed is what one change of a host's allow-list did.
type changed struct {
	res     models.ApplyResult
	before  []models.AllowEntry // the host's entries before
	after   []models.AllowEntry // and after
	running []string            // the jails fail2ban ran
}

// mutation returns a host's entries after a change from the jail
// configuration without File and the entries before. It runs under the
// host's configuration lock.
type mutation func(base *f2bconf.Set, cur []models.AllowEntry) ([]models.AllowEntry, error)

// change applies one change of a host's allow-list: File is rewritten from
// the entries mutate returns and tested; then the database and the running
// jails follow (addignoreip, delignoreip; jails whose DNS names changed are
// reloaded). When a step fails, everything is put back.
func (a *AllowList) change(ctx context.Context, h hosts.Host, mutate mutation) (changed, error) {
	var ch changed
	st, err := h.Status(ctx)
	if err != nil {
		return ch, fmt.Errorf("%w (%v)", configuration.ErrOffline, err)
	}
	ch.running = st.Jails
	var base *f2bconf.Set
	var undoLive func(context.Context) error
	res, err := a.config.ApplyOwned(ctx, h.ID(), configuration.OwnedEdit{
		File: File,
		Content: func(ctx context.Context, b *f2bconf.Set, _ []byte) ([]byte, error) {
			cur, err := a.store.List(ctx, h.ID())
			if err != nil {
				return nil, err
			}
			next, err := mutate(b, cur)
			if err != nil {
				return nil, err
			}
			base, ch.before, ch.after = b, cur, next
			if slices.Equal(cur, next) {
				return nil, errUnchanged
			}
			return render(b, next), nil
		},
		Reload: func() []string { return nameJails(ch.before, ch.after, ch.running) },
		Apply: func(ctx context.Context) error {
			if err := a.saveDiff(ctx, h.ID(), ch.before, ch.after); err != nil {
				return err
			}
			var err error
			undoLive, err = syncLive(ctx, h, base, ch.running, ch.before, ch.after)
			return err
		},
		Undo: func(ctx context.Context) error {
			var errs []error
			if undoLive != nil {
				errs = append(errs, undoLive(ctx))
			}
			return errors.Join(append(errs, a.store.Restore(ctx, h.ID(), ch.before))...)
		},
	})
	if errors.Is(err, errUnchanged) {
		ch.res = models.ApplyResult{File: File, OK: true}
		return ch, nil
	}
	ch.res = res
	return ch, err
}

// errUnchanged stops a change that leaves the entries as they are: nothing
// is written.
var errUnchanged = errors.New("allow-list: nothing to change")

// saveDiff stores the difference between two states of a host's entries.
func (a *AllowList) saveDiff(ctx context.Context, host string, before, after []models.AllowEntry) error {
	had := make(map[int64]models.AllowEntry, len(before))
	for _, b := range before {
		had[b.ID] = b
	}
	var save []models.AllowEntry
	for _, e := range after {
		if b, ok := had[e.ID]; e.ID == 0 || !ok || b != e {
			save = append(save, e)
		}
		delete(had, e.ID)
	}
	gone := make([]int64, 0, len(had))
	for id := range had {
		gone = append(gone, id)
	}
	if _, err := a.store.Delete(ctx, host, gone); err != nil {
		return err
	}
	return a.store.Save(ctx, save)
}

// header opens File.
const header = `# BanGUI's allow-list of this host, written by BanGUI (the Allow-list page).
# Do not edit by hand: BanGUI writes this file anew on every change of the
# allow-list. Each jail's ignoreip is what the other files give it
# (%(known/ignoreip)s) plus the entries BanGUI keeps for it.
`

// render is File for the entries: one section per jail that an entry
// covers. fail2ban gives a jail with its own ignoreip nothing of DEFAULT's,
// so entries for every jail are written into every jail's section, on top
// of the value the jail has without this file.
func render(base *f2bconf.Set, entries []models.AllowEntry) []byte {
	var b strings.Builder
	b.WriteString(header)
	for _, jail := range jailNames(base) {
		var mine []string
		for _, e := range entries {
			if e.Covers(jail) {
				mine = append(mine, e.Address)
			}
		}
		if len(mine) == 0 {
			continue
		}
		b.WriteString("\n[" + jail + "]\nignoreip =")
		if _, _, ok := base.Lookup(jail, "ignoreip"); ok {
			b.WriteString(" %(known/ignoreip)s")
		}
		for _, a := range mine {
			b.WriteString("\n           " + a)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// isName reports an entry that is a DNS name rather than an address.
func isName(entry string) bool {
	_, err := netip.ParsePrefix(entry)
	if err == nil {
		return false
	}
	_, err = netip.ParseAddr(entry)
	return err != nil
}

// addressesIn lists the entries (not names) that hold in jail.
func addressesIn(entries []models.AllowEntry, jail string) []string {
	var out []string
	for _, e := range entries {
		if e.Covers(jail) && !isName(e.Address) {
			out = append(out, e.Address)
		}
	}
	return out
}

func namesIn(entries []models.AllowEntry, jail string) []string {
	var out []string
	for _, e := range entries {
		if e.Covers(jail) && isName(e.Address) {
			out = append(out, e.Address)
		}
	}
	slices.Sort(out)
	return out
}

// nameJails are the running jails whose DNS names change: fail2ban's
// socket takes addresses only, so these jails are reloaded.
func nameJails(before, after []models.AllowEntry, running []string) []string {
	var out []string
	for _, j := range running {
		if !slices.Equal(namesIn(before, j), namesIn(after, j)) {
			out = append(out, j)
		}
	}
	return out
}

var splitRE = regexp.MustCompile(`[\s,]+`)

// entriesOf splits an ignoreip value as fail2ban does, without the
// references a raw value may hold.
func entriesOf(v string) []string {
	var out []string
	for _, t := range splitRE.Split(v, -1) {
		if t != "" && !strings.Contains(t, "%(") && !strings.Contains(t, ")s") {
			out = append(out, t)
		}
	}
	return out
}

// baseEntries is a jail's ignore list without File, in canonical form
// (as fail2ban lists it: 127.0.0.1/8 is 127.0.0.0/8).
func baseEntries(base *f2bconf.Set, jail string) []string {
	if base == nil {
		return nil
	}
	v, err := base.Get(jail, "ignoreip")
	if err != nil {
		return nil
	}
	out := entriesOf(v)
	for i, e := range out {
		if c, err := fail2ban.ParseIgnoreEntry(e); err == nil {
			out[i] = c
		}
	}
	return out
}

// syncLive brings the running jails from the addresses of before to those
// of after: addignoreip what is new, delignoreip what went (unless another
// file lists it too). The returned undo reverts what was done, also when
// the error is not nil.
func syncLive(ctx context.Context, h hosts.Host, base *f2bconf.Set, running []string, before, after []models.AllowEntry) (func(context.Context) error, error) {
	type step struct {
		jail string
		add  []string // added: undo deletes them
		del  []string // deleted: undo adds them back
	}
	var done []step
	undo := func(ctx context.Context) error {
		var errs []error
		for _, s := range slices.Backward(done) {
			for _, ip := range s.add {
				if _, err := h.DelIgnoreIP(ctx, s.jail, ip); err != nil {
					errs = append(errs, err)
				}
			}
			if len(s.del) > 0 {
				if _, err := h.AddIgnoreIP(ctx, s.jail, s.del...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
	for _, jail := range running {
		want, had := addressesIn(after, jail), addressesIn(before, jail)
		if slices.Equal(want, had) {
			continue
		}
		l, err := h.IgnoreIPs(ctx, jail)
		if err != nil {
			return undo, fmt.Errorf("read the ignore list of %s: %w", jail, err)
		}
		list, keep, wanted := setOf(l), setOf(baseEntries(base, jail)), setOf(want)
		var add, del []string
		for _, ip := range want {
			if !list[ip] {
				add = append(add, ip)
				list[ip] = true
			}
		}
		for _, ip := range had {
			if !wanted[ip] && list[ip] && !keep[ip] {
				del = append(del, ip)
			}
		}
		s := step{jail: jail}
		if len(add) > 0 {
			if _, err := h.AddIgnoreIP(ctx, jail, add...); err != nil {
				return undo, fmt.Errorf("add to the ignore list of %s: %w", jail, err)
			}
			s.add = add
		}
		done = append(done, s)
		for _, ip := range del {
			if _, err := h.DelIgnoreIP(ctx, jail, ip); err != nil {
				return undo, fmt.Errorf("remove %s from the ignore list of %s: %w", ip, jail, err)
			}
			done[len(done)-1].del = append(done[len(done)-1].del, ip)
		}
	}
	return undo, nil
}

// unbanCovered lifts the bans, in the running jails they cover, of the
// entries named in added, and returns the jails each was unbanned in.
func (a *AllowList) unbanCovered(ctx context.Context, h hosts.Host, after []models.AllowEntry, added map[string]bool) map[string][]string {
	banned, err := h.BannedAll(ctx)
	if err != nil {
		slog.Warn("allow-list: read the bans to lift", "host", h.ID(), "err", err)
		return nil
	}
	jails := make([]string, 0, len(banned))
	for j := range banned {
		jails = append(jails, j)
	}
	slices.Sort(jails)
	out := map[string][]string{}
	for _, e := range after {
		if !added[e.Address] || isName(e.Address) {
			continue
		}
		p, err := netip.ParsePrefix(e.Address)
		if err != nil {
			addr, _ := netip.ParseAddr(e.Address) // not a name, so an address
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		for _, jail := range jails {
			if !e.Covers(jail) {
				continue
			}
			var hits []string
			for _, ip := range banned[jail] {
				if ad, err := netip.ParseAddr(ip); err == nil && p.Contains(ad.Unmap()) {
					hits = append(hits, ip)
				}
			}
			if len(hits) == 0 {
				continue
			}
			if _, err := a.jails.Unban(ctx, h.ID(), jail, hits); err != nil {
				slog.Warn("allow-list: unban", "host", h.ID(), "jail", jail, "err", err)
				continue
			}
			out[e.Address] = append(out[e.Address], jail)
		}
	}
	return out
}
