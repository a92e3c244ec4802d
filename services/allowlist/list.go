package allowlist

import (
	"context"
	"slices"
	"time"

	f2bconf "bangui/fail2ban/config"
	"bangui/lang"
	"bangui/models"
)

// Listing is a host's allow-list as the page shows it.
type Listing struct {
	Host    string
	Items   []models.AllowItem
	Jails   []string     // the jails of the configuration, for the form
	Offline lang.Message // why the running jails could not be asked; zero when they answered
	Problem lang.Message // why the configuration could not be read; zero when it was
}

// List returns a host's allow-list, merged: the entries BanGUI wrote (with
// note, author and expiry, and whether the running jails have them), the
// entries of the configuration files BanGUI did not write (read-only, with
// file and line) and entries only the running jails have.
func (a *AllowList) List(ctx context.Context, host string) (Listing, error) {
	out := Listing{Host: host}
	h, err := a.hosts.Get(host)
	if err != nil {
		return out, err
	}
	mine, err := a.store.List(ctx, host)
	if err != nil {
		return out, err
	}
	base, err := h.LoadConfig(ctx, "jail", map[string][]byte{File: nil})
	if err != nil {
		out.Problem = lang.M("bans.allow_config_unread", "Reason", err)
		base = nil
	} else {
		out.Jails = jailNames(base)
	}
	live := map[string][]string{}
	liveSet := map[string]map[string]bool{}
	st, err := h.Status(ctx)
	if err != nil {
		out.Offline = lang.M("bans.allow_offline", "Reason", err)
	} else {
		for _, j := range st.Jails {
			if l, err := h.IgnoreIPs(ctx, j); err == nil {
				live[j], liveSet[j] = l, setOf(l)
			}
		}
	}
	for _, e := range mine {
		item := models.AllowItem{ID: e.ID, Host: host, Address: e.Address, Jails: e.JailList(), Note: e.Note,
			AddedBy: e.CreatedBy, AddedAt: time.Unix(e.CreatedAt, 0), Applied: out.Offline.IsZero()}
		if e.ExpiresAt > 0 {
			item.ExpiresAt = time.Unix(e.ExpiresAt, 0)
		}
		for j, l := range liveSet {
			if e.Covers(j) && !isName(e.Address) && !l[e.Address] {
				item.Applied = false
			}
		}
		out.Items = append(out.Items, item)
	}
	if base != nil {
		out.Items = append(out.Items, fileItems(host, base)...)
	}
	out.Items = append(out.Items, liveItems(host, base, mine, live)...)
	return out, nil
}

// fileItems are the entries of ignoreip options in files BanGUI did not
// write: [DEFAULT]'s for every jail and each jail's own.
func fileItems(host string, base *f2bconf.Set) []models.AllowItem {
	var out []models.AllowItem
	add := func(v f2bconf.Value, jails []string) {
		for _, e := range entriesOf(v.Raw) {
			out = append(out, models.AllowItem{Host: host, Address: e, Jails: jails, File: v.Source.File, Line: v.Source.Line})
		}
	}
	if v, _, ok := base.Lookup(f2bconf.DefaultSection, "ignoreip"); ok {
		add(v, nil)
	}
	for _, j := range jailNames(base) {
		if v, inherited, ok := base.Lookup(j, "ignoreip"); ok && !inherited {
			add(v, []string{j})
		}
	}
	return out
}

// liveItems are the entries the running jails hold that no file gives
// them (added on the jail page, say): they last until the next reload.
func liveItems(host string, base *f2bconf.Set, mine []models.AllowEntry, live map[string][]string) []models.AllowItem {
	byAddr := map[string]*models.AllowItem{}
	var order []string
	jails := make([]string, 0, len(live))
	for j := range live {
		jails = append(jails, j)
	}
	slices.Sort(jails)
	byAddress := make(map[string]models.AllowEntry, len(mine))
	for _, m := range mine {
		byAddress[m.Address] = m
	}
	for _, j := range jails {
		known := setOf(baseEntries(base, j))
		for _, e := range live[j] {
			if m, ok := byAddress[e]; known[e] || ok && m.Covers(j) {
				continue
			}
			it := byAddr[e]
			if it == nil {
				it = &models.AllowItem{Host: host, Address: e, Live: true}
				byAddr[e] = it
				order = append(order, e)
			}
			it.Jails = append(it.Jails, j)
		}
	}
	out := make([]models.AllowItem, 0, len(order))
	for _, e := range order {
		out = append(out, *byAddr[e])
	}
	return out
}

// JailNames lists the jails of a host's configuration, for the form's
// scope.
func (a *AllowList) JailNames(ctx context.Context, host string) ([]string, error) {
	h, err := a.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	base, err := h.LoadConfig(ctx, "jail", map[string][]byte{File: nil})
	if err != nil {
		return nil, err
	}
	return jailNames(base), nil
}

// setOf is the set of the strings of l.
func setOf(l []string) map[string]bool {
	out := make(map[string]bool, len(l))
	for _, s := range l {
		out[s] = true
	}
	return out
}
