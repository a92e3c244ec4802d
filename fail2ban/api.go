package fail2ban

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Typed wrappers around fail2ban's socket commands. Every method that takes
// jail names, addresses or values validates them first and returns a
// *ValidationError without sending anything when they are wrong. Errors
// from fail2ban (*CommandError, *ProtocolError) carry the command in their
// message; I/O errors are classified as for Call.

// call sends one command and adds the command to fail2ban's own errors.
func (c *Client) call(ctx context.Context, args ...string) (any, error) {
	v, err := c.Call(ctx, args...)
	if err != nil {
		return nil, withCommand(args, err)
	}
	return v, nil
}

// jailCall validates jail and sends "verb jail rest...".
func (c *Client) jailCall(ctx context.Context, verb, jail string, rest ...string) (any, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	return c.call(ctx, append([]string{verb, jail}, rest...)...)
}

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

// targetArgs validates and normalizes addresses for a command.
func targetArgs(prefix []string, ips []string) ([]string, error) {
	norm, err := NormalizeTargets(ips)
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(prefix), norm...), nil
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

func (c *Client) intCall(ctx context.Context, args ...string) (int, error) {
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := toInt(args, v)
	return int(n), err
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

func (c *Client) secondsGet(ctx context.Context, jail, key string) (time.Duration, error) {
	v, err := c.jailCall(ctx, "get", jail, key)
	if err != nil {
		return 0, err
	}
	return toSeconds([]string{"get", jail, key}, v)
}

// BanTime returns how long the jail bans; negative means permanently.
func (c *Client) BanTime(ctx context.Context, jail string) (time.Duration, error) {
	return c.secondsGet(ctx, jail, "bantime")
}

// FindTime returns the window in which failures are counted.
func (c *Client) FindTime(ctx context.Context, jail string) (time.Duration, error) {
	return c.secondsGet(ctx, jail, "findtime")
}

// MaxRetry returns the number of failures that leads to a ban.
func (c *Client) MaxRetry(ctx context.Context, jail string) (int64, error) {
	v, err := c.jailCall(ctx, "get", jail, "maxretry")
	if err != nil {
		return 0, err
	}
	return toInt([]string{"get", jail, "maxretry"}, v)
}

// SetBanTime changes a jail's ban time until the next reload. value uses
// fail2ban's notation (see ParseTimeSpec; "-1" bans permanently). It
// returns the effective value.
func (c *Client) SetBanTime(ctx context.Context, jail, value string) (time.Duration, error) {
	return c.setSeconds(ctx, jail, "bantime", value, true)
}

// SetFindTime changes a jail's find time until the next reload and returns
// the effective value; value as for SetBanTime, but not negative.
func (c *Client) SetFindTime(ctx context.Context, jail, value string) (time.Duration, error) {
	return c.setSeconds(ctx, jail, "findtime", value, false)
}

func (c *Client) setSeconds(ctx context.Context, jail, key, value string, allowNegative bool) (time.Duration, error) {
	if err := checkJailArg(jail); err != nil {
		return 0, err
	}
	d, err := ParseTimeSpec(value)
	if err != nil {
		return 0, err
	}
	if d < 0 && !allowNegative {
		return 0, invalid(FieldValue, "The %s cannot be negative.", key)
	}
	args := []string{"set", jail, key, secondsArg(d)}
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	return toSeconds(args, v)
}

// SetMaxRetry changes a jail's retry limit until the next reload and
// returns the effective value. n must be at least 1.
func (c *Client) SetMaxRetry(ctx context.Context, jail string, n int64) (int64, error) {
	if err := checkJailArg(jail); err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, invalid(FieldValue, "The retry limit must be at least 1.")
	}
	args := []string{"set", jail, "maxretry", fmt.Sprint(n)}
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	return toInt(args, v)
}

func (c *Client) stringsCall(ctx context.Context, args ...string) ([]string, error) {
	v, err := c.call(ctx, args...)
	if err != nil {
		return nil, err
	}
	return toStrings(args, v)
}

func (c *Client) jailStrings(ctx context.Context, jail string, rest ...string) ([]string, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	return c.stringsCall(ctx, append([]string{"get", jail}, rest...)...)
}

// IgnoreIPs returns the jail's ignore list (addresses, ranges and possibly
// host names).
func (c *Client) IgnoreIPs(ctx context.Context, jail string) ([]string, error) {
	return c.jailStrings(ctx, jail, "ignoreip")
}

// AddIgnoreIP adds addresses or ranges to the jail's ignore list until the
// next reload and returns the new list.
func (c *Client) AddIgnoreIP(ctx context.Context, jail string, ips ...string) ([]string, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	args, err := targetArgs([]string{"set", jail, "addignoreip"}, ips)
	if err != nil {
		return nil, err
	}
	return c.stringsCall(ctx, args...)
}

// DelIgnoreIP removes one entry (address, range or host name, as listed)
// from the jail's ignore list and returns the new list. Removing an entry
// that is not in the list is an error from fail2ban.
func (c *Client) DelIgnoreIP(ctx context.Context, jail, ip string) ([]string, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	entry := strings.TrimSpace(ip)
	if p, err := ParseTarget(entry); err == nil {
		entry = targetString(p)
	} else if !validHostName(entry) {
		return nil, err
	}
	return c.stringsCall(ctx, "set", jail, "delignoreip", entry)
}

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}

// IgnoreSelf reports whether the jail ignores the host's own addresses.
func (c *Client) IgnoreSelf(ctx context.Context, jail string) (bool, error) {
	v, err := c.jailCall(ctx, "get", jail, "ignoreself")
	if err != nil {
		return false, err
	}
	return toBool([]string{"get", jail, "ignoreself"}, v)
}

// SetIgnoreSelf switches ignoring of the host's own addresses until the
// next reload and returns the effective setting.
func (c *Client) SetIgnoreSelf(ctx context.Context, jail string, on bool) (bool, error) {
	v, err := c.jailCall(ctx, "set", jail, "ignoreself", onOff(on, "true", "false"))
	if err != nil {
		return false, err
	}
	return toBool([]string{"set", jail, "ignoreself"}, v)
}

// SetIdle switches the jail's idle mode, in which it keeps running but
// bans nothing.
func (c *Client) SetIdle(ctx context.Context, jail string, on bool) error {
	_, err := c.jailCall(ctx, "set", jail, "idle", onOff(on, "on", "off"))
	return err
}

// Idle reports whether the jail is idle ("get <jail> idle"). fail2ban 1.0
// has no way to read this flag (the command is unknown to it); then Idle
// reports false for any running jail, and the server is not asked again.
func (c *Client) Idle(ctx context.Context, jail string) (bool, error) {
	if err := checkJailArg(jail); err != nil {
		return false, err
	}
	if !c.getIdle.unsupported() {
		args := []string{"get", jail, "idle"}
		v, err := c.Call(ctx, args...)
		switch {
		case err == nil:
			c.getIdle.set(true)
			return truthy(v), nil
		case isInvalidCommand(err):
			c.getIdle.set(false)
		default:
			return false, withCommand(args, err)
		}
	}
	// Unsupported: still tell unknown jails apart.
	_, err := c.call(ctx, "get", jail, "maxretry")
	return false, err
}

// StartJail starts a loaded jail; starting a running jail only clears its
// idle mode. A jail that is not loaded (never started, or stopped, which
// unloads it) yields an error matching ErrUnknownJail: it has to be loaded
// from the configuration with Runner.Reload.
func (c *Client) StartJail(ctx context.Context, jail string) error {
	_, err := c.jailCall(ctx, "start", jail)
	return err
}

// StopJail stops and unloads a jail. Stopping a jail that is not running
// succeeds.
func (c *Client) StopJail(ctx context.Context, jail string) error {
	_, err := c.jailCall(ctx, "stop", jail)
	if errors.Is(err, ErrUnknownJail) {
		return nil
	}
	return err
}

// LogPaths returns the log files the jail watches.
func (c *Client) LogPaths(ctx context.Context, jail string) ([]string, error) {
	return c.jailStrings(ctx, jail, "logpath")
}

// AddLogPath makes the jail watch another file (which must exist) until the
// next reload, from its end when tail is set, otherwise from the start. It
// returns the new list.
func (c *Client) AddLogPath(ctx context.Context, jail, path string, tail bool) ([]string, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	if err := validPath(path); err != nil {
		return nil, err
	}
	return c.stringsCall(ctx, "set", jail, "addlogpath", path, onOff(tail, "tail", "head"))
}

// DelLogPath stops watching a file and returns the new list; removing a
// path that is not watched changes nothing.
func (c *Client) DelLogPath(ctx context.Context, jail, path string) ([]string, error) {
	if err := checkJailArg(jail); err != nil {
		return nil, err
	}
	if err := validPath(path); err != nil {
		return nil, err
	}
	return c.stringsCall(ctx, "set", jail, "dellogpath", path)
}

// nIncrement is the number of bantime.* options read by incrementCmds.
const nIncrement = 7

// incrementCmds reads the bantime.* options, in BanTimeIncrement field
// order.
func incrementCmds(jail string) [][]string {
	keys := [nIncrement]string{"increment", "factor", "formula", "multipliers", "maxtime", "rndtime", "overalljails"}
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = []string{"get", jail, "bantime." + k}
	}
	return cmds
}

func parseIncrement(vals []any) BanTimeIncrement {
	return BanTimeIncrement{
		Enabled:      truthy(vals[0]),
		Factor:       text(vals[1]),
		Formula:      text(vals[2]),
		Multipliers:  text(vals[3]),
		MaxTime:      text(vals[4]),
		RndTime:      text(vals[5]),
		OverallJails: truthy(vals[6]),
	}
}

// BanTimeIncrement returns the jail's ban time escalation settings.
func (c *Client) BanTimeIncrement(ctx context.Context, jail string) (BanTimeIncrement, error) {
	if err := checkJailArg(jail); err != nil {
		return BanTimeIncrement{}, err
	}
	cmds := incrementCmds(jail)
	vals, err := c.batch(ctx, cmds)
	if err != nil {
		return BanTimeIncrement{}, err
	}
	return parseIncrement(vals), nil
}

// batch runs cmds over one connection and returns their values, failing on
// the first command error.
func (c *Client) batch(ctx context.Context, cmds [][]string) ([]any, error) {
	res, err := c.CallMany(ctx, cmds)
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(res))
	for i, r := range res {
		if r.Err != nil {
			return nil, withCommand(cmds[i], r.Err)
		}
		vals[i] = r.Value
	}
	return vals, nil
}

// FailRegex returns the jail's failure patterns as fail2ban compiled them
// (with <HOST> expanded).
func (c *Client) FailRegex(ctx context.Context, jail string) ([]string, error) {
	return c.jailStrings(ctx, jail, "failregex")
}

// IgnoreRegex returns the jail's ignore patterns.
func (c *Client) IgnoreRegex(ctx context.Context, jail string) ([]string, error) {
	return c.jailStrings(ctx, jail, "ignoreregex")
}

// Actions returns the names of the jail's actions.
func (c *Client) Actions(ctx context.Context, jail string) ([]string, error) {
	return c.jailStrings(ctx, jail, "actions")
}

// JailBasics returns ban time, find time, retry limit and idle mode in one
// round trip (see Idle for servers that cannot report idle mode).
func (c *Client) JailBasics(ctx context.Context, jail string) (JailBasics, error) {
	if err := checkJailArg(jail); err != nil {
		return JailBasics{}, err
	}
	cmds := basicsCmds(jail, !c.getIdle.unsupported())
	res, err := c.CallMany(ctx, cmds)
	if err != nil {
		return JailBasics{}, err
	}
	return c.parseBasics(cmds, res)
}

func basicsCmds(jail string, withIdle bool) [][]string {
	cmds := [][]string{
		{"get", jail, "bantime"},
		{"get", jail, "findtime"},
		{"get", jail, "maxretry"},
	}
	if withIdle {
		cmds = append(cmds, []string{"get", jail, "idle"})
	}
	return cmds
}

// parseBasics reads the replies to basicsCmds at the start of res.
func (c *Client) parseBasics(cmds [][]string, res []Result) (JailBasics, error) {
	var b JailBasics
	for i := range 3 {
		if res[i].Err != nil {
			return b, withCommand(cmds[i], res[i].Err)
		}
	}
	var err error
	if b.BanTime, err = toSeconds(cmds[0], res[0].Value); err != nil {
		return b, err
	}
	if b.FindTime, err = toSeconds(cmds[1], res[1].Value); err != nil {
		return b, err
	}
	if b.MaxRetry, err = toInt(cmds[2], res[2].Value); err != nil {
		return b, err
	}
	if len(cmds) > 3 && len(cmds[3]) == 3 && cmds[3][2] == "idle" {
		switch r := res[3]; {
		case r.Err == nil:
			c.getIdle.set(true)
			b.Idle = truthy(r.Value)
		case isInvalidCommand(r.Err):
			c.getIdle.set(false)
		default:
			return b, withCommand(cmds[3], r.Err)
		}
	}
	return b, nil
}

// JailSettings gathers a jail's settings for the detail page in one round
// trip. Backend is known only from fail2ban 1.1 on, and on older servers
// for journal-based (systemd) jails; otherwise it is empty.
func (c *Client) JailSettings(ctx context.Context, jail string) (JailSettings, error) {
	var set JailSettings
	if err := checkJailArg(jail); err != nil {
		return set, err
	}
	withIdle := !c.getIdle.unsupported()
	cmds := basicsCmds(jail, withIdle)
	nBasics := len(cmds)
	keys := []string{"datepattern", "logencoding", "actions", "logpath", "failregex", "ignoreregex", "ignoreip", "ignoreself"}
	for _, k := range keys {
		cmds = append(cmds, []string{"get", jail, k})
	}
	cmds = append(cmds, incrementCmds(jail)...)
	// "status <jail> stats" names the backend on 1.1; older servers ignore
	// the flavour and would send the whole ban list, so they get the short
	// status, whose "Journal matches" betray the systemd backend.
	statusCmd := []string{"status", jail, "short"}
	if c.statusAll.supported() {
		statusCmd = []string{"status", jail, "stats"}
	}
	cmds = append(cmds, statusCmd)

	res, err := c.CallMany(ctx, cmds)
	if err != nil {
		return set, err
	}
	if set.JailBasics, err = c.parseBasics(cmds[:nBasics], res[:nBasics]); err != nil {
		return set, err
	}
	rest := res[nBasics:]
	restCmds := cmds[nBasics:]
	for i, r := range rest {
		if r.Err != nil {
			return set, withCommand(restCmds[i], r.Err)
		}
	}
	val := func(i int) (any, []string) { return rest[i].Value, restCmds[i] }

	set.DatePattern = datePatternText(val(0))
	if v, args := val(1); v != nil {
		if set.LogEncoding, err = toString(args, v); err != nil {
			return set, err
		}
	}
	lists := []*[]string{&set.Actions, &set.LogPaths, &set.FailRegex, &set.IgnoreRegex, &set.IgnoreIPs}
	for i, dst := range lists {
		v, args := val(2 + i)
		if *dst, err = toStrings(args, v); err != nil {
			return set, err
		}
	}
	if set.IgnoreSelf, err = toBool(restCmds[7], rest[7].Value); err != nil {
		return set, err
	}
	inc := make([]any, nIncrement)
	for i := range inc {
		inc[i] = rest[len(keys)+i].Value
	}
	set.Increment = parseIncrement(inc)
	set.Backend = backendOf(val(len(keys) + nIncrement))
	return set, nil
}

// datePatternText turns "get <jail> datepattern" — (pattern, name), None or
// a plain string — into text for people: the name when there is one.
func datePatternText(v any, _ []string) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		for i := len(x) - 1; i >= 0; i-- {
			if s, ok := x[i].(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

// backendOf reads the backend from "status <jail> stats" (1.1:
// [backend, (failed...), (banned...)]) or guesses it from a plain status.
func backendOf(v any, args []string) string {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return ""
	}
	if s, ok := l[0].(string); ok {
		return s
	}
	st, err := parseJailStatus(args, "", v)
	if err == nil && st.JournalMatches != nil {
		return "systemd"
	}
	return ""
}

func (c *Client) stringGet(ctx context.Context, args ...string) (string, error) {
	v, err := c.call(ctx, args...)
	if err != nil {
		return "", err
	}
	return toString(args, v)
}

// LogLevel returns the server's log level, such as "INFO".
func (c *Client) LogLevel(ctx context.Context) (string, error) {
	return c.stringGet(ctx, "get", "loglevel")
}

// SetLogLevel changes the server's log level (CRITICAL, ERROR, WARNING,
// NOTICE, INFO, DEBUG, TRACEDEBUG or HEAVYDEBUG) and returns the new one.
func (c *Client) SetLogLevel(ctx context.Context, level string) (string, error) {
	l, err := validLogLevel(level)
	if err != nil {
		return "", err
	}
	return c.stringGet(ctx, "set", "loglevel", l)
}

// LogTarget returns where the server logs: a file path, or STDOUT, STDERR,
// SYSLOG or SYSTEMD-JOURNAL.
func (c *Client) LogTarget(ctx context.Context) (string, error) {
	return c.stringGet(ctx, "get", "logtarget")
}

// SetLogTarget changes where the server logs (see LogTarget; files need an
// absolute path) and returns the new target.
func (c *Client) SetLogTarget(ctx context.Context, target string) (string, error) {
	t, err := validLogTarget(target)
	if err != nil {
		return "", err
	}
	return c.stringGet(ctx, "set", "logtarget", t)
}

// DBFile returns the path of fail2ban's database, or "" when it runs
// without one.
func (c *Client) DBFile(ctx context.Context) (string, error) {
	args := []string{"get", "dbfile"}
	v, err := c.call(ctx, args...)
	if err != nil || v == nil {
		return "", err
	}
	return toString(args, v)
}

// DBPurgeAge returns how long fail2ban keeps old bans in its database; 0
// when it runs without a database.
func (c *Client) DBPurgeAge(ctx context.Context) (time.Duration, error) {
	args := []string{"get", "dbpurgeage"}
	v, err := c.call(ctx, args...)
	if err != nil || v == nil {
		return 0, err
	}
	return toSeconds(args, v)
}

// SetDBPurgeAge changes the database purge age (see ParseTimeSpec; not
// negative) and returns the effective value, or ErrNoDatabase.
func (c *Client) SetDBPurgeAge(ctx context.Context, value string) (time.Duration, error) {
	d, err := ParseTimeSpec(value)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, invalid(FieldValue, "The purge age cannot be negative.")
	}
	args := []string{"set", "dbpurgeage", secondsArg(d)}
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, ErrNoDatabase
	}
	return toSeconds(args, v)
}

// DBMaxMatches returns how many matched log lines fail2ban stores per ban;
// 0 when it runs without a database.
func (c *Client) DBMaxMatches(ctx context.Context) (int64, error) {
	args := []string{"get", "dbmaxmatches"}
	v, err := c.call(ctx, args...)
	if err != nil || v == nil {
		return 0, err
	}
	return toInt(args, v)
}

// SetDBMaxMatches changes how many matched lines are stored per ban (0 or
// more) and returns the effective value, or ErrNoDatabase.
func (c *Client) SetDBMaxMatches(ctx context.Context, n int64) (int64, error) {
	if n < 0 {
		return 0, invalid(FieldValue, "The number of stored matches cannot be negative.")
	}
	args := []string{"set", "dbmaxmatches", fmt.Sprint(n)}
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, ErrNoDatabase
	}
	return toInt(args, v)
}

// FlushLogs makes fail2ban reopen its log file (after rotation) and returns
// its answer, "rolled over" or "flushed".
func (c *Client) FlushLogs(ctx context.Context) (string, error) {
	return c.stringGet(ctx, "flushlogs")
}
