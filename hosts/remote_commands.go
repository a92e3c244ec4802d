package hosts

import (
	"context"
	"time"

	"bangui/fail2ban"
	"bangui/hosts/wire"
)

// The typed fail2ban commands of a Remote: each is one call of the agent,
// which runs the same method of its local host (and so the same checks).

// get runs method with args within the read deadline and returns its result.
func get[T any](ctx context.Context, r *Remote, method string, args any) (T, error) {
	return getWithin[T](ctx, r, r.opts.Timeout, method, args)
}

// set is get within the deadline of changes.
func set[T any](ctx context.Context, r *Remote, method string, args any) (T, error) {
	return getWithin[T](ctx, r, max(r.opts.Timeout, remoteWriteTimeout), method, args)
}

func getWithin[T any](ctx context.Context, r *Remote, d time.Duration, method string, args any) (T, error) {
	var out T
	err := r.call(ctx, d, method, args, &out)
	return out, err
}

// Ping checks that fail2ban answers.
func (r *Remote) Ping(ctx context.Context) error {
	return r.call(ctx, r.opts.Timeout, wire.Ping, nil, nil)
}

// Version is fail2ban's version.
func (r *Remote) Version(ctx context.Context) (string, error) {
	return get[string](ctx, r, wire.Version, nil)
}

// Status lists the running jails.
func (r *Remote) Status(ctx context.Context) (fail2ban.ServerStatus, error) {
	return get[fail2ban.ServerStatus](ctx, r, wire.Status, nil)
}

// AllJailStatus is the status of every jail.
func (r *Remote) AllJailStatus(ctx context.Context) ([]fail2ban.JailStatus, error) {
	return get[[]fail2ban.JailStatus](ctx, r, wire.AllJailStatus, nil)
}

// LogLevel is fail2ban's log level.
func (r *Remote) LogLevel(ctx context.Context) (string, error) {
	return get[string](ctx, r, wire.LogLevel, nil)
}

// SetLogLevel changes fail2ban's log level.
func (r *Remote) SetLogLevel(ctx context.Context, level string) (string, error) {
	return set[string](ctx, r, wire.SetLogLevel, wire.Value{Value: level})
}

// LogTarget is where fail2ban logs.
func (r *Remote) LogTarget(ctx context.Context) (string, error) {
	return get[string](ctx, r, wire.LogTarget, nil)
}

// SetLogTarget changes where fail2ban logs.
func (r *Remote) SetLogTarget(ctx context.Context, target string) (string, error) {
	return set[string](ctx, r, wire.SetLogTarget, wire.Value{Value: target})
}

// SyslogSocket is the socket fail2ban logs to for SYSLOG.
func (r *Remote) SyslogSocket(ctx context.Context) (string, error) {
	return get[string](ctx, r, wire.SyslogSocket, nil)
}

// DBFile is fail2ban's database path on the host.
func (r *Remote) DBFile(ctx context.Context) (string, error) {
	return get[string](ctx, r, wire.DBFile, nil)
}

// DBPurgeAge is how long fail2ban keeps bans in its database.
func (r *Remote) DBPurgeAge(ctx context.Context) (time.Duration, error) {
	return get[time.Duration](ctx, r, wire.DBPurgeAge, nil)
}

// SetDBPurgeAge changes the purge age.
func (r *Remote) SetDBPurgeAge(ctx context.Context, value string) (time.Duration, error) {
	return set[time.Duration](ctx, r, wire.SetDBPurgeAge, wire.Value{Value: value})
}

// DBMaxMatches is how many matches fail2ban keeps per ban.
func (r *Remote) DBMaxMatches(ctx context.Context) (int64, error) {
	return get[int64](ctx, r, wire.DBMaxMatches, nil)
}

// SetDBMaxMatches changes it.
func (r *Remote) SetDBMaxMatches(ctx context.Context, n int64) (int64, error) {
	return set[int64](ctx, r, wire.SetDBMaxMatches, wire.Number{N: n})
}

// FlushLogs makes fail2ban reopen its log.
func (r *Remote) FlushLogs(ctx context.Context) (string, error) {
	return set[string](ctx, r, wire.FlushLogs, nil)
}

// RequireJail fails with fail2ban.ErrUnknownJail unless the jail runs.
func (r *Remote) RequireJail(ctx context.Context, name string) error {
	return r.call(ctx, r.opts.Timeout, wire.RequireJail, wire.Jail{Jail: name}, nil)
}

// JailStatus is one jail's status with its banned addresses.
func (r *Remote) JailStatus(ctx context.Context, jail string) (fail2ban.JailStatus, error) {
	return get[fail2ban.JailStatus](ctx, r, wire.JailStatus, wire.Jail{Jail: jail})
}

// JailStatusShort is one jail's counters.
func (r *Remote) JailStatusShort(ctx context.Context, jail string) (fail2ban.JailStatus, error) {
	return get[fail2ban.JailStatus](ctx, r, wire.JailStatusShort, wire.Jail{Jail: jail})
}

// JailBasics are a jail's ban time, find time, max retry and idle flag.
func (r *Remote) JailBasics(ctx context.Context, jail string) (fail2ban.JailBasics, error) {
	return get[fail2ban.JailBasics](ctx, r, wire.JailBasics, wire.Jail{Jail: jail})
}

// JailSettings is everything fail2ban reports about a jail.
func (r *Remote) JailSettings(ctx context.Context, jail string) (fail2ban.JailSettings, error) {
	return get[fail2ban.JailSettings](ctx, r, wire.JailSettings, wire.Jail{Jail: jail})
}

// BanTime is a jail's ban time.
func (r *Remote) BanTime(ctx context.Context, jail string) (time.Duration, error) {
	return get[time.Duration](ctx, r, wire.BanTime, wire.Jail{Jail: jail})
}

// FindTime is a jail's find time.
func (r *Remote) FindTime(ctx context.Context, jail string) (time.Duration, error) {
	return get[time.Duration](ctx, r, wire.FindTime, wire.Jail{Jail: jail})
}

// MaxRetry is a jail's max retry.
func (r *Remote) MaxRetry(ctx context.Context, jail string) (int64, error) {
	return get[int64](ctx, r, wire.MaxRetry, wire.Jail{Jail: jail})
}

// StartJail starts a jail.
func (r *Remote) StartJail(ctx context.Context, jail string) error {
	_, err := set[wire.Empty](ctx, r, wire.StartJail, wire.Jail{Jail: jail})
	return err
}

// StopJail stops a jail.
func (r *Remote) StopJail(ctx context.Context, jail string) error {
	_, err := set[wire.Empty](ctx, r, wire.StopJail, wire.Jail{Jail: jail})
	return err
}

// SetIdle switches a jail's idle mode.
func (r *Remote) SetIdle(ctx context.Context, jail string, on bool) error {
	_, err := set[wire.Empty](ctx, r, wire.SetIdle, wire.JailBool{Jail: jail, On: on})
	return err
}

// IgnoreIPs is a jail's ignore list.
func (r *Remote) IgnoreIPs(ctx context.Context, jail string) ([]string, error) {
	return get[[]string](ctx, r, wire.IgnoreIPs, wire.Jail{Jail: jail})
}

// AddIgnoreIP adds to a jail's ignore list.
func (r *Remote) AddIgnoreIP(ctx context.Context, jail string, ips ...string) ([]string, error) {
	return set[[]string](ctx, r, wire.AddIgnoreIP, wire.JailIPs{Jail: jail, IPs: ips})
}

// DelIgnoreIP removes from a jail's ignore list.
func (r *Remote) DelIgnoreIP(ctx context.Context, jail, ip string) ([]string, error) {
	return set[[]string](ctx, r, wire.DelIgnoreIP, wire.JailIPs{Jail: jail, IPs: []string{ip}})
}

// SetIgnoreSelf switches a jail's ignoreself.
func (r *Remote) SetIgnoreSelf(ctx context.Context, jail string, on bool) (bool, error) {
	return set[bool](ctx, r, wire.SetIgnoreSelf, wire.JailBool{Jail: jail, On: on})
}

// BannedWithTime lists a jail's bans with their times. The agent reads the
// times in its own zone; they are returned in loc.
func (r *Remote) BannedWithTime(ctx context.Context, jail string, loc *time.Location) ([]fail2ban.BanEntry, error) {
	out, err := get[wire.BanEntries](ctx, r, wire.BannedWithTime, wire.Jail{Jail: jail})
	if loc != nil {
		for i := range out {
			out[i].Start = out[i].Start.In(loc)
			if !out[i].End.IsZero() {
				out[i].End = out[i].End.In(loc)
			}
		}
	}
	return out, err
}

// BannedAll lists the banned addresses of every jail.
func (r *Remote) BannedAll(ctx context.Context) (map[string][]string, error) {
	return get[map[string][]string](ctx, r, wire.BannedAll, nil)
}

// JailsOf lists the jails that ban each address.
func (r *Remote) JailsOf(ctx context.Context, ips ...string) ([][]string, error) {
	return get[[][]string](ctx, r, wire.JailsOf, wire.IPs{IPs: ips})
}

// Ban bans addresses in a jail.
func (r *Remote) Ban(ctx context.Context, jail string, ips ...string) (int, error) {
	return set[int](ctx, r, wire.Ban, wire.JailIPs{Jail: jail, IPs: ips})
}

// Unban lifts bans in a jail.
func (r *Remote) Unban(ctx context.Context, jail string, ips ...string) (int, error) {
	return set[int](ctx, r, wire.Unban, wire.JailIPs{Jail: jail, IPs: ips})
}

// UnbanEverywhere lifts bans in every jail.
func (r *Remote) UnbanEverywhere(ctx context.Context, ips ...string) (int, error) {
	return set[int](ctx, r, wire.UnbanEverywhere, wire.IPs{IPs: ips})
}

// UnbanAll lifts every ban.
func (r *Remote) UnbanAll(ctx context.Context) (int, error) {
	return set[int](ctx, r, wire.UnbanAll, nil)
}
