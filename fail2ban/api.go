package fail2ban

import (
	"context"
	"slices"
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

// targetArgs validates and normalizes addresses for a command.
func targetArgs(prefix []string, ips []string) ([]string, error) {
	norm, err := NormalizeTargets(ips)
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(prefix), norm...), nil
}

func (c *Client) intCall(ctx context.Context, args ...string) (int, error) {
	v, err := c.call(ctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := toInt(args, v)
	return int(n), err
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

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
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

func (c *Client) stringGet(ctx context.Context, args ...string) (string, error) {
	v, err := c.call(ctx, args...)
	if err != nil {
		return "", err
	}
	return toString(args, v)
}
