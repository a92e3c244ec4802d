package fail2ban

import (
	"context"
	"fmt"
	"time"
)

// Server settings: log level and target, database, log rotation.

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

// SyslogSocket returns the socket fail2ban logs to when its log target is
// SYSLOG ("auto" by default), or "" when it names none.
func (c *Client) SyslogSocket(ctx context.Context) (string, error) {
	return c.optionalString(ctx, "get", "syslogsocket")
}

// DBFile returns the path of fail2ban's database, or "" when it runs
// without one.
func (c *Client) DBFile(ctx context.Context) (string, error) {
	return c.optionalString(ctx, "get", "dbfile")
}

// optionalString is stringGet for settings fail2ban answers with None
// when it has none: then it returns "".
func (c *Client) optionalString(ctx context.Context, args ...string) (string, error) {
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
		return 0, invalid(FieldValue, "f2b.negative_purge_age")
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
		return 0, invalid(FieldValue, "f2b.negative_max_matches")
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
