package fail2ban

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Jail settings: times, retry limit, ignore-self, idle mode, start and
// stop, escalation, patterns and actions.

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
		return 0, invalid(FieldValue, "f2b.negative_time", "Key", key)
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
		return 0, invalid(FieldValue, "f2b.maxretry_min")
	}
	args := []string{"set", jail, "maxretry", fmt.Sprint(n)}
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	return toInt(args, v)
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
