package fail2ban

import (
	"context"
	"strings"
)

// A jail's ignore list and watched log files.

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
