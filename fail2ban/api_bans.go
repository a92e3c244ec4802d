package fail2ban

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bans: who is banned where, banning and unbanning.

// BannedWithTime lists a jail's current bans with their times, ordered by
// end of ban as fail2ban returns them. loc is the time zone the fail2ban
// server runs in (see ParseBanEntry).
func (c *Client) BannedWithTime(ctx context.Context, jail string, loc *time.Location) ([]BanEntry, error) {
	v, err := c.jailCall(ctx, "get", jail, "banip", "--with-time")
	if err != nil {
		return nil, err
	}
	return parseBanEntries([]string{"get", jail, "banip", "--with-time"}, v, loc)
}

func parseBanEntries(args []string, v any, loc *time.Location) ([]BanEntry, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, shapeErr(args, "a list", v)
	}
	out := make([]BanEntry, len(l))
	for i, e := range l {
		line, ok := e.(string)
		if !ok {
			return nil, shapeErr(args, "a list of strings", v)
		}
		be, err := ParseBanEntry(line, loc)
		if err != nil {
			return nil, withCommand(args, err)
		}
		out[i] = be
	}
	return out, nil
}

// BannedWithTimeAll is BannedWithTime for every running jail: one "status"
// and then all jails over one connection. Jails that stop in between are
// left out.
func (c *Client) BannedWithTimeAll(ctx context.Context, loc *time.Location) (map[string][]BanEntry, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([][]string, len(st.Jails))
	for i, j := range st.Jails {
		cmds[i] = []string{"get", j, "banip", "--with-time"}
	}
	res, err := c.CallMany(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]BanEntry, len(res))
	for i, r := range res {
		if errors.Is(r.Err, ErrUnknownJail) {
			continue
		}
		if r.Err != nil {
			return nil, withCommand(cmds[i], r.Err)
		}
		entries, err := parseBanEntries(cmds[i], r.Value, loc)
		if err != nil {
			return nil, err
		}
		out[st.Jails[i]] = entries
	}
	return out, nil
}

// BannedAll returns the banned addresses of every jail ("banned").
func (c *Client) BannedAll(ctx context.Context) (map[string][]string, error) {
	args := []string{"banned"}
	v, err := c.call(ctx, args...)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	add := func(m map[string]any) error {
		for jail, ips := range m {
			l, err := toStrings(args, ips)
			if err != nil {
				return err
			}
			out[jail] = l
		}
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		if err := add(x); err != nil {
			return nil, err
		}
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, shapeErr(args, "a list of jail maps", v)
			}
			if err := add(m); err != nil {
				return nil, err
			}
		}
	default:
		return nil, shapeErr(args, "a list of jail maps", v)
	}
	return out, nil
}

// JailsOf says, for each address, which jails ban it ("banned ip ..."). The
// result has one entry per input, in order. Without addresses it returns an
// empty result without asking fail2ban.
func (c *Client) JailsOf(ctx context.Context, ips ...string) ([][]string, error) {
	if len(ips) == 0 {
		return [][]string{}, nil
	}
	args := []string{"banned"}
	for _, ip := range ips {
		p, err := ParseTarget(ip)
		if err != nil {
			return nil, err
		}
		args = append(args, targetString(p))
	}
	v, err := c.call(ctx, args...)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok || len(l) != len(ips) {
		return nil, shapeErr(args, fmt.Sprintf("a list of %d jail lists", len(ips)), v)
	}
	out := make([][]string, len(l))
	for i, e := range l {
		if out[i], err = toStrings(args, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ban bans addresses or ranges in a jail with a single "set <jail> banip"
// and returns how many were not banned before.
func (c *Client) Ban(ctx context.Context, jail string, ips ...string) (int, error) {
	return c.countCall(ctx, jail, []string{"set", jail, "banip"}, ips)
}

// Unban lifts bans in a jail with a single "set <jail> unbanip" and returns
// how many were banned. Addresses that are not banned are ignored.
func (c *Client) Unban(ctx context.Context, jail string, ips ...string) (int, error) {
	return c.countCall(ctx, jail, []string{"set", jail, "unbanip"}, ips)
}

func (c *Client) countCall(ctx context.Context, jail string, prefix, ips []string) (int, error) {
	if err := checkJailArg(jail); err != nil {
		return 0, err
	}
	args, err := targetArgs(prefix, ips)
	if err != nil {
		return 0, err
	}
	return c.intCall(ctx, args...)
}

// UnbanEverywhere lifts bans of the addresses in all jails and removes them
// from fail2ban's database ("unban ip ..."); it returns how many bans were
// lifted.
func (c *Client) UnbanEverywhere(ctx context.Context, ips ...string) (int, error) {
	args, err := targetArgs([]string{"unban"}, ips)
	if err != nil {
		return 0, err
	}
	return c.intCall(ctx, args...)
}

// UnbanAll lifts every ban in every jail ("unban --all") and returns the
// number lifted.
func (c *Client) UnbanAll(ctx context.Context) (int, error) {
	return c.intCall(ctx, "unban", "--all")
}
