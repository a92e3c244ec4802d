package services

import (
	"context"
	"errors"
	"slices"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
)

// UnbanEach lifts the bans of ips in jail on host, for bulk actions: one
// question (where is each banned) and one unban for the whole batch,
// archived first like every unban (see Unban). It says for each address
// what happened, in the order of ips; an address that is not valid, or
// not banned in the jail, is reported and left alone. err is set when the
// batch as a whole could not be done (host unknown or down, jail not
// running).
func (j *Jails) UnbanEach(ctx context.Context, host, jail string, ips []string) ([]models.AddressResult, error) {
	c, err := j.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	if err := c.RequireJail(ctx, jail); err != nil {
		if errors.Is(err, fail2ban.ErrUnknownJail) {
			return nil, lang.M("bans.no_jail_on_host", "Jail", jail)
		}
		return nil, j.probe.Observe(host, err)
	}
	out := make([]models.AddressResult, len(ips))
	var valid []string
	var at []int // index in ips of each valid address
	for i, ip := range ips {
		out[i].Address = ip
		norm, err := fail2ban.NormalizeTargets([]string{ip})
		if err != nil {
			out[i].Message = lang.M("bans.result_not_target")
			continue
		}
		out[i].Address = norm[0]
		valid = append(valid, norm[0])
		at = append(at, i)
	}
	if len(valid) == 0 {
		return out, nil
	}
	where, err := c.JailsOf(ctx, valid...)
	if err != nil {
		return nil, j.probe.Observe(host, err)
	}
	var banned []string
	for k, ip := range valid {
		i := at[k]
		if k < len(where) && slices.Contains(where[k], jail) {
			banned = append(banned, ip)
			out[i].OK, out[i].Message = true, lang.M("bans.result_unbanned")
		} else {
			out[i].Message = lang.M("bans.result_not_banned", "Jail", jail)
		}
	}
	if len(banned) == 0 {
		return out, nil
	}
	if _, err := j.Unban(ctx, host, jail, banned); err != nil {
		return nil, err
	}
	return out, nil
}
