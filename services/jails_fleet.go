package services

import (
	"context"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// The fleet-wide side of Jails: the same use cases asked of every host at
// once through EachHost, so a slow or dead host costs at most HostDeadline
// (HostWriteDeadline for bans and unbans) and never hides the others'
// answers.

// ListEveryHost returns the running jails of every host, in the registry's
// order (the local host first). A host that did not answer carries its
// error; the others their jails.
func (j *Jails) ListEveryHost(ctx context.Context) []HostResult[[]models.JailSummary] {
	return EachHost(ctx, j.hosts.All(), func(ctx context.Context, h hosts.Host) ([]models.JailSummary, error) {
		return j.List(ctx, h.ID())
	})
}

// BanOnEveryHost bans targets in jail on every host at once and returns
// each host's result in the registry's order. The addresses and the jail
// name are checked once, before any host is asked: refused input is the
// returned error (a *fail2ban.ValidationError) and no host bans anything.
// A host without the jail, or one that did not answer, carries its error
// in its result; the others ban regardless.
func (j *Jails) BanOnEveryHost(ctx context.Context, jail string, targets []string) ([]HostResult[BanResult], error) {
	norm, err := checkFleetInput(jail, true, targets)
	if err != nil {
		return nil, err
	}
	return EachHostWithin(ctx, j.hosts.All(), HostWriteDeadline, func(ctx context.Context, h hosts.Host) (BanResult, error) {
		return j.Ban(ctx, h.ID(), jail, norm)
	}), nil
}

// UnbanOnEveryHost lifts bans of targets in jail, or in every jail when
// jail is "", on every host at once, and returns how many bans each host
// lifted. Input is checked once, as in BanOnEveryHost.
func (j *Jails) UnbanOnEveryHost(ctx context.Context, jail string, targets []string) ([]HostResult[int], error) {
	norm, err := checkFleetInput(jail, false, targets)
	if err != nil {
		return nil, err
	}
	return EachHostWithin(ctx, j.hosts.All(), HostWriteDeadline, func(ctx context.Context, h hosts.Host) (int, error) {
		return j.Unban(ctx, h.ID(), jail, norm)
	}), nil
}

// checkFleetInput normalizes targets and checks the jail name (required
// when needJail) before a fan-out.
func checkFleetInput(jail string, needJail bool, targets []string) ([]string, error) {
	norm, err := fail2ban.NormalizeTargets(targets)
	if err != nil {
		return nil, err
	}
	if needJail || jail != "" {
		if err := fail2ban.ValidJailName(jail); err != nil {
			return nil, err
		}
	}
	return norm, nil
}
