package agent

import (
	"context"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/hosts/wire"
	"bangui/repo"
)

// method is one call of the API: it decodes its arguments strictly, checks
// what the local host does not (sizes, counts), and runs the local host's
// method.
type method func(ctx context.Context, a *Agent, body []byte) (any, error)

// badRequest is input refused before the host is asked.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// with decodes the arguments of type A and calls f.
func with[A any](f func(ctx context.Context, l *hosts.Local, a A) (any, error)) method {
	return func(ctx context.Context, ag *Agent, body []byte) (any, error) {
		var args A
		if err := decodeStrict(body, &args); err != nil {
			return nil, err
		}
		return f(ctx, ag.opts.Host, args)
	}
}

// plain is a call without arguments that returns a value.
func plain[T any](f func(l *hosts.Local, ctx context.Context) (T, error)) method {
	return with(func(ctx context.Context, l *hosts.Local, _ wire.Empty) (any, error) { return f(l, ctx) })
}

// ofJail is a call about one jail that returns a value.
func ofJail[T any](f func(l *hosts.Local, ctx context.Context, jail string) (T, error)) method {
	return with(func(ctx context.Context, l *hosts.Local, a wire.Jail) (any, error) { return f(l, ctx, a.Jail) })
}

// ofValue is a call with one text value.
func ofValue[T any](f func(l *hosts.Local, ctx context.Context, v string) (T, error)) method {
	return with(func(ctx context.Context, l *hosts.Local, a wire.Value) (any, error) { return f(l, ctx, a.Value) })
}

// done turns an error-only method into a value-and-error one.
func done(err error) (any, error) { return wire.Empty{}, err }

// addresses checks a list of addresses from the wire for its length (each
// address is checked by the fail2ban client).
func addresses(ips []string) error {
	if len(ips) > wire.MaxAddresses {
		return bad("at most %d addresses per call", wire.MaxAddresses)
	}
	return nil
}

// methods is the whole API. Nothing else reaches the host.
var methods = map[string]method{
	// ServerCommands
	wire.Ping:          with(func(ctx context.Context, l *hosts.Local, _ wire.Empty) (any, error) { return done(l.Ping(ctx)) }),
	wire.Version:       plain((*hosts.Local).Version),
	wire.Status:        plain((*hosts.Local).Status),
	wire.AllJailStatus: plain((*hosts.Local).AllJailStatus),
	wire.LogLevel:      plain((*hosts.Local).LogLevel),
	wire.SetLogLevel:   ofValue((*hosts.Local).SetLogLevel),
	wire.LogTarget:     plain((*hosts.Local).LogTarget),
	wire.SetLogTarget:  ofValue((*hosts.Local).SetLogTarget),
	wire.SyslogSocket:  plain((*hosts.Local).SyslogSocket),
	wire.DBFile:        plain((*hosts.Local).DBFile),
	wire.DBPurgeAge:    plain((*hosts.Local).DBPurgeAge),
	wire.SetDBPurgeAge: ofValue((*hosts.Local).SetDBPurgeAge),
	wire.DBMaxMatches:  plain((*hosts.Local).DBMaxMatches),
	wire.SetDBMaxMatches: with(func(ctx context.Context, l *hosts.Local, a wire.Number) (any, error) {
		return l.SetDBMaxMatches(ctx, a.N)
	}),
	wire.FlushLogs: plain((*hosts.Local).FlushLogs),

	// JailCommands
	wire.RequireJail: with(func(ctx context.Context, l *hosts.Local, a wire.Jail) (any, error) {
		return done(l.RequireJail(ctx, a.Jail))
	}),
	wire.JailStatus:      ofJail((*hosts.Local).JailStatus),
	wire.JailStatusShort: ofJail((*hosts.Local).JailStatusShort),
	wire.JailBasics:      ofJail((*hosts.Local).JailBasics),
	wire.JailSettings:    ofJail((*hosts.Local).JailSettings),
	wire.BanTime:         ofJail((*hosts.Local).BanTime),
	wire.FindTime:        ofJail((*hosts.Local).FindTime),
	wire.MaxRetry:        ofJail((*hosts.Local).MaxRetry),
	wire.StartJail: with(func(ctx context.Context, l *hosts.Local, a wire.Jail) (any, error) {
		return done(l.StartJail(ctx, a.Jail))
	}),
	wire.StopJail: with(func(ctx context.Context, l *hosts.Local, a wire.Jail) (any, error) {
		return done(l.StopJail(ctx, a.Jail))
	}),
	wire.SetIdle: with(func(ctx context.Context, l *hosts.Local, a wire.JailBool) (any, error) {
		return done(l.SetIdle(ctx, a.Jail, a.On))
	}),
	wire.IgnoreIPs: ofJail((*hosts.Local).IgnoreIPs),
	wire.AddIgnoreIP: with(func(ctx context.Context, l *hosts.Local, a wire.JailIPs) (any, error) {
		if err := addresses(a.IPs); err != nil {
			return nil, err
		}
		return l.AddIgnoreIP(ctx, a.Jail, a.IPs...)
	}),
	wire.DelIgnoreIP: with(func(ctx context.Context, l *hosts.Local, a wire.JailIPs) (any, error) {
		if len(a.IPs) != 1 {
			return nil, bad("remove one address at a time")
		}
		return l.DelIgnoreIP(ctx, a.Jail, a.IPs[0])
	}),
	wire.SetIgnoreSelf: with(func(ctx context.Context, l *hosts.Local, a wire.JailBool) (any, error) {
		return l.SetIgnoreSelf(ctx, a.Jail, a.On)
	}),

	// BanCommands: times are read in the agent's zone and travel as instants.
	wire.BannedWithTime: with(func(ctx context.Context, l *hosts.Local, a wire.Jail) (any, error) {
		return l.BannedWithTime(ctx, a.Jail, time.Local)
	}),
	wire.BannedAll: plain((*hosts.Local).BannedAll),
	wire.JailsOf: with(func(ctx context.Context, l *hosts.Local, a wire.IPs) (any, error) {
		if err := addresses(a.IPs); err != nil {
			return nil, err
		}
		return l.JailsOf(ctx, a.IPs...)
	}),
	wire.Ban: with(func(ctx context.Context, l *hosts.Local, a wire.JailIPs) (any, error) {
		if err := addresses(a.IPs); err != nil {
			return nil, err
		}
		return l.Ban(ctx, a.Jail, a.IPs...)
	}),
	wire.Unban: with(func(ctx context.Context, l *hosts.Local, a wire.JailIPs) (any, error) {
		if err := addresses(a.IPs); err != nil {
			return nil, err
		}
		return l.Unban(ctx, a.Jail, a.IPs...)
	}),
	wire.UnbanEverywhere: with(func(ctx context.Context, l *hosts.Local, a wire.IPs) (any, error) {
		if err := addresses(a.IPs); err != nil {
			return nil, err
		}
		return l.UnbanEverywhere(ctx, a.IPs...)
	}),
	wire.UnbanAll: plain((*hosts.Local).UnbanAll),

	// Control
	wire.Reload:     ofJail((*hosts.Local).Reload),
	wire.Restart:    plain((*hosts.Local).Restart),
	wire.TestConfig: plain((*hosts.Local).TestConfig),

	// ConfigFiles
	wire.LoadConfig: with(func(ctx context.Context, l *hosts.Local, a wire.LoadConfigArgs) (any, error) {
		if err := checkStack(a.Stack); err != nil {
			return nil, err
		}
		if len(a.Overlay) > maxOverlay {
			return nil, bad("at most %d files may be overlaid", maxOverlay)
		}
		for name := range a.Overlay {
			if _, err := f2bconf.CleanEditable(name); err != nil {
				return nil, err
			}
		}
		return l.LoadConfig(ctx, a.Stack, a.Overlay)
	}),
	wire.ConfigItems: with(func(ctx context.Context, l *hosts.Local, a wire.Folder) (any, error) {
		return l.ConfigItems(ctx, a.Folder)
	}),
	wire.EditableFiles: plain((*hosts.Local).EditableFiles),
	wire.ReadConfigFile: with(func(ctx context.Context, l *hosts.Local, a wire.File) (any, error) {
		return l.ReadConfigFile(ctx, a.Name)
	}),
	wire.CreateConfigFile: with(func(ctx context.Context, l *hosts.Local, a wire.File) (any, error) {
		return l.CreateConfigFile(ctx, a.Name, a.Data)
	}),
	wire.WriteConfigFile: func(ctx context.Context, ag *Agent, body []byte) (any, error) {
		var a wire.File
		if err := decodeStrict(body, &a); err != nil {
			return nil, err
		}
		rep, err := ag.opts.Host.WriteConfigFile(ctx, a.Name, a.Data)
		if err != nil {
			return nil, err
		}
		return wire.Written{Existed: rep.Existed, RestoreID: ag.held.keep(rep.Restore)}, nil
	},
	wire.RestoreConfigFile: func(ctx context.Context, ag *Agent, body []byte) (any, error) {
		var a wire.ID
		if err := decodeStrict(body, &a); err != nil {
			return nil, err
		}
		return done(ag.held.restore(ctx, a.ID))
	},
	wire.LockConfig: func(ctx context.Context, ag *Agent, body []byte) (any, error) {
		var a wire.LockWait
		if err := decodeStrict(body, &a); err != nil {
			return nil, err
		}
		if a.WaitMS < 0 || a.WaitMS > wire.MaxLockWaitMS {
			return nil, bad("wait between 0 and %d ms for the lock", wire.MaxLockWaitMS)
		}
		ctx, cancel := context.WithTimeout(ctx, time.Duration(a.WaitMS)*time.Millisecond)
		defer cancel()
		id, err := ag.held.lock(ctx, ag.opts.Host)
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			// The panel gave up as the lock came: nobody would know its id,
			// and every edit would wait for its TTL.
			_ = ag.held.unlock(id)
			return nil, ctx.Err()
		}
		return wire.Lock{ID: id, TTLSeconds: int(ag.held.ttl / time.Second)}, nil
	},
	wire.UnlockConfig: func(ctx context.Context, ag *Agent, body []byte) (any, error) {
		var a wire.ID
		if err := decodeStrict(body, &a); err != nil {
			return nil, err
		}
		return done(ag.held.unlock(a.ID))
	},

	// RegexTester
	wire.TestRegex: with(func(ctx context.Context, l *hosts.Local, a fail2ban.RegexTest) (any, error) {
		return l.TestRegex(ctx, a)
	}),
	wire.CheckFilter: with(func(ctx context.Context, l *hosts.Local, a wire.Name) (any, error) {
		return done(l.CheckFilter(ctx, a.Name))
	}),

	// LogFiles
	wire.TailLog: with(func(ctx context.Context, l *hosts.Local, a wire.Tail) (any, error) {
		if a.N < 1 {
			return nil, bad("ask for at least one line")
		}
		if len(a.Filter) > 1000 {
			return nil, bad("the filter is longer than 1000 bytes")
		}
		t, err := l.TailLog(ctx, a.Path, min(a.N, wire.MaxTailLines), a.Filter)
		return wire.LogTail{Lines: t.Lines, Truncated: t.Truncated}, err
	}),

	// BanRows
	wire.OpenRows: with(func(ctx context.Context, l *hosts.Local, _ wire.Empty) (any, error) {
		_, err := l.BanRows(ctx)
		return done(err)
	}),
	wire.NewRowsSince: rows(func(ctx context.Context, src repo.BanRowSource, a wire.Rows) (any, error) {
		return src.NewRowsSince(ctx, a.AfterRowID, a.Limit)
	}),
	wire.RowsAtOrAfter: rows(func(ctx context.Context, src repo.BanRowSource, a wire.Rows) (any, error) {
		return src.RowsAtOrAfter(ctx, a.Since, a.AfterRowID, a.MaxRowID, a.Limit)
	}),
	wire.RowByID: rowID(func(ctx context.Context, src repo.BanRowSource, id int64) (any, error) {
		row, found, err := src.RowByID(ctx, id)
		return wire.FoundRow{Row: row, Found: found}, err
	}),
	wire.LastRowAtOrBelow: rowID(func(ctx context.Context, src repo.BanRowSource, id int64) (any, error) {
		row, found, err := src.LastRowAtOrBelow(ctx, id)
		return wire.FoundRow{Row: row, Found: found}, err
	}),
	wire.MaxRowID: with(func(ctx context.Context, l *hosts.Local, _ wire.Empty) (any, error) {
		src, err := l.BanRows(ctx)
		if err != nil {
			return nil, err
		}
		return src.MaxRowID(ctx)
	}),
}

// rows is a page of fail2ban rows: the limit is 1..wire.MaxRowsPage.
func rows(f func(ctx context.Context, src repo.BanRowSource, a wire.Rows) (any, error)) method {
	return with(func(ctx context.Context, l *hosts.Local, a wire.Rows) (any, error) {
		if a.Limit < 1 || a.AfterRowID < 0 || a.MaxRowID < 0 {
			return nil, bad("ask for at least one row after a rowid of 0 or more")
		}
		a.Limit = min(a.Limit, wire.MaxRowsPage)
		src, err := l.BanRows(ctx)
		if err != nil {
			return nil, err
		}
		out, err := f(ctx, src, a)
		if err != nil {
			return nil, err
		}
		return out, nil
	})
}

func rowID(f func(ctx context.Context, src repo.BanRowSource, id int64) (any, error)) method {
	return with(func(ctx context.Context, l *hosts.Local, a wire.RowID) (any, error) {
		if a.RowID < 0 {
			return nil, bad("a rowid is 0 or more")
		}
		src, err := l.BanRows(ctx)
		if err != nil {
			return nil, err
		}
		return f(ctx, src, a.RowID)
	})
}

// maxOverlay bounds the files one LoadConfig overlays.
const maxOverlay = 8

// stackRE is what LoadConfig reads: jail, fail2ban, or one filter or action.
var stackRE = regexp.MustCompile(`^(jail|fail2ban|(filter|action)\.d/[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,99})$`)

// checkStack refuses stacks outside the configuration's own (no "..", no
// absolute paths).
func checkStack(stack string) error {
	if !stackRE.MatchString(stack) || strings.Contains(stack, "..") {
		return bad("%s is not a configuration stack (jail, fail2ban, filter.d/NAME or action.d/NAME)", quote(stack))
	}
	return nil
}

func quote(s string) string { return strconv.Quote(clip(s, 80)) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func hexString(b []byte) string { return hex.EncodeToString(b) }
