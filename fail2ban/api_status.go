package fail2ban

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Server and jail status: the running jails and their counters.

// Status lists the running jails.
func (c *Client) Status(ctx context.Context) (ServerStatus, error) {
	args := []string{"status"}
	v, err := c.call(ctx, args...)
	if err != nil {
		return ServerStatus{}, err
	}
	return parseServerStatus(args, v)
}

func parseServerStatus(args []string, v any) (ServerStatus, error) {
	l, ok := v.([]any)
	if !ok {
		return ServerStatus{}, shapeErr(args, "a server status", v)
	}
	for _, e := range l {
		k, val, ok := pair(e)
		if !ok || k != "Jail list" {
			continue
		}
		list, ok := val.(string)
		if !ok {
			return ServerStatus{}, shapeErr(args, "a server status", v)
		}
		st := ServerStatus{Jails: []string{}}
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name != "" {
				st.Jails = append(st.Jails, name)
			}
		}
		return st, nil
	}
	return ServerStatus{}, shapeErr(args, "a server status", v)
}

// JailStatus returns a jail's counters, watched files and banned addresses
// ("status <jail>"). For jails with many bans prefer JailStatusShort.
func (c *Client) JailStatus(ctx context.Context, jail string) (JailStatus, error) {
	return c.jailStatus(ctx, jail, false)
}

// JailStatusShort is JailStatus without the list of banned addresses
// ("status <jail> short"), which stays cheap for big jails.
func (c *Client) JailStatusShort(ctx context.Context, jail string) (JailStatus, error) {
	return c.jailStatus(ctx, jail, true)
}

func (c *Client) jailStatus(ctx context.Context, jail string, short bool) (JailStatus, error) {
	var rest []string
	if short {
		rest = []string{"short"}
	}
	v, err := c.jailCall(ctx, "status", jail, rest...)
	if err != nil {
		return JailStatus{}, err
	}
	return parseJailStatus(append([]string{"status", jail}, rest...), jail, v)
}

// parseJailStatus reads the ("Filter", [...]), ("Actions", [...]) sections
// of a jail status.
func parseJailStatus(args []string, name string, v any) (JailStatus, error) {
	st := JailStatus{Name: name}
	sections, ok := v.([]any)
	if !ok {
		return st, shapeErr(args, "a jail status", v)
	}
	var haveFailed, haveBanned bool
	for _, s := range sections {
		_, items, ok := pair(s)
		if !ok {
			return st, shapeErr(args, "a jail status", v)
		}
		list, ok := items.([]any)
		if !ok {
			return st, shapeErr(args, "a jail status", v)
		}
		for _, it := range list {
			k, val, ok := pair(it)
			if !ok {
				continue
			}
			var err error
			switch k {
			case "Currently failed":
				st.CurrentlyFailed, err = toInt(args, val)
				haveFailed = true
			case "Total failed":
				st.TotalFailed, err = toInt(args, val)
			case "Currently banned":
				st.CurrentlyBanned, err = toInt(args, val)
				haveBanned = true
			case "Total banned":
				st.TotalBanned, err = toInt(args, val)
			case "File list":
				st.Files, err = toStrings(args, val)
			case "Journal matches":
				st.JournalMatches, err = toStrings(args, val)
			case "Banned IP list":
				st.Banned, err = toStrings(args, val)
			}
			if err != nil {
				return st, err
			}
		}
	}
	if !haveFailed || !haveBanned {
		return st, shapeErr(args, "a jail status", v)
	}
	return st, nil
}

// AllJailStatus returns the short status of every running jail, sorted by
// name. fail2ban 1.1 and later answer this with one "status --all short";
// older servers take "--all" for a jail name (or answer in an unknown
// shape), and then the jails are asked one by one over a single connection
// after a "status". Which of both works is remembered.
func (c *Client) AllJailStatus(ctx context.Context) ([]JailStatus, error) {
	if !c.statusAll.unsupported() {
		args := []string{"status", "--all", "short"}
		v, err := c.Call(ctx, args...)
		switch {
		case err == nil:
			if st, err := parseAllStatus(args, v); err == nil {
				c.statusAll.set(true)
				return st, nil
			}
			// An answer in a shape this client does not know: use the
			// per-jail commands, whose replies are stable across versions.
			c.statusAll.set(false)
		case isAllUnsupported(err):
			c.statusAll.set(false)
		default:
			return nil, withCommand(args, err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([][]string, len(st.Jails))
	for i, j := range st.Jails {
		cmds[i] = []string{"status", j, "short"}
	}
	res, err := c.CallMany(ctx, cmds)
	if err != nil {
		return nil, err
	}
	out := make([]JailStatus, 0, len(res))
	for i, r := range res {
		if errors.Is(r.Err, ErrUnknownJail) {
			continue // stopped in between
		}
		if r.Err != nil {
			return nil, withCommand(cmds[i], r.Err)
		}
		js, err := parseJailStatus(cmds[i], st.Jails[i], r.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, js)
	}
	sortStatuses(out)
	return out, nil
}

// parseAllStatus reads the reply to "status --all short":
// [("Number of jail", n), ("Jail list", "..."), {jail: status, ...}].
func parseAllStatus(args []string, v any) ([]JailStatus, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, shapeErr(args, "a status of all jails", v)
	}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			if _, val, isPair := pair(e); isPair {
				m, ok = val.(map[string]any)
			}
		}
		if !ok {
			continue
		}
		out := make([]JailStatus, 0, len(m))
		for name, js := range m {
			st, err := parseJailStatus(args, name, js)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		sortStatuses(out)
		return out, nil
	}
	return nil, shapeErr(args, "a status of all jails", v)
}

func sortStatuses(l []JailStatus) {
	slices.SortFunc(l, func(a, b JailStatus) int { return strings.Compare(a.Name, b.Name) })
}
