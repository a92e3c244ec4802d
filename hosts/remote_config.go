package hosts

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts/wire"
	"bangui/repo"
)

// Control, configuration files, the regex tester, log files and the rows of
// fail2ban's database, through the agent.

// Reload re-reads the configuration for one jail, or all when jail is "".
func (r *Remote) Reload(ctx context.Context, jail string) (string, error) {
	return getWithin[string](ctx, r, remoteRunTimeout, wire.Reload, wire.Jail{Jail: jail})
}

// Restart restarts fail2ban on the host.
func (r *Remote) Restart(ctx context.Context) (string, error) {
	return getWithin[string](ctx, r, remoteRunTimeout, wire.Restart, nil)
}

// TestConfig runs "fail2ban-client -t" on the host.
func (r *Remote) TestConfig(ctx context.Context) (string, error) {
	return getWithin[string](ctx, r, remoteRunTimeout, wire.TestConfig, nil)
}

// ConfigDir is fail2ban's configuration directory on the host, as the
// agent reported it ("" while the agent has not answered yet).
func (r *Remote) ConfigDir() string {
	if info, ok := r.cachedInfo(); ok {
		return info.ConfigDir
	}
	return ""
}

// LogDirs are the folders the agent lets the panel read (none while it has
// not answered yet).
func (r *Remote) LogDirs() []string {
	if info, ok := r.cachedInfo(); ok {
		return slices.Clone(info.LogDirs)
	}
	return nil
}

// infoRetry is how long ConfigDir and LogDirs wait before they ask an agent
// that did not answer again, so a dead agent costs one deadline, not one
// per call.
const infoRetry = 10 * time.Second

// cachedInfo returns what the agent said about itself, asking it once
// (within the read deadline) when it has not been asked yet.
func (r *Remote) cachedInfo() (wire.Info, bool) {
	r.mu.Lock()
	info, failed := r.info, r.infoFailed
	r.mu.Unlock()
	if info != nil {
		return *info, true
	}
	if !failed.IsZero() && time.Since(failed) < infoRetry {
		return wire.Info{}, false
	}
	got, err := r.Info(context.Background())
	if err != nil {
		r.mu.Lock()
		r.infoFailed = time.Now()
		r.mu.Unlock()
		return wire.Info{}, false
	}
	return got, true
}

// LoadConfig reads one stack with fail2ban's merge rules on the host.
func (r *Remote) LoadConfig(ctx context.Context, stack string, overlay map[string][]byte) (*f2bconf.Set, error) {
	var s f2bconf.Set
	if err := r.call(ctx, r.opts.Timeout, wire.LoadConfig, wire.LoadConfigArgs{Stack: stack, Overlay: overlay}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ConfigItems lists the filters or actions of folder.
func (r *Remote) ConfigItems(ctx context.Context, folder string) ([]ConfigItem, error) {
	return get[[]ConfigItem](ctx, r, wire.ConfigItems, wire.Folder{Folder: folder})
}

// EditableFiles lists the editable files that exist.
func (r *Remote) EditableFiles(ctx context.Context) ([]ConfigFile, error) {
	return get[[]ConfigFile](ctx, r, wire.EditableFiles, nil)
}

// ReadConfigFile reads one editable file.
func (r *Remote) ReadConfigFile(ctx context.Context, name string) (ConfigFile, error) {
	f, err := get[ConfigFile](ctx, r, wire.ReadConfigFile, wire.File{Name: name})
	if err != nil {
		return ConfigFile{Name: name}, err
	}
	return f, nil
}

// WriteConfigFile replaces an editable file; the agent keeps the previous
// version for Restore (for a while, see the agent's RestoreTTL).
func (r *Remote) WriteConfigFile(ctx context.Context, name string, data []byte) (Replaced, error) {
	w, err := set[wire.Written](ctx, r, wire.WriteConfigFile, wire.File{Name: name, Data: data})
	if err != nil {
		return Replaced{}, err
	}
	return Replaced{Existed: w.Existed, Restore: func(ctx context.Context) error {
		_, err := set[wire.Empty](ctx, r, wire.RestoreConfigFile, wire.ID{ID: w.RestoreID})
		return err
	}}, nil
}

// CreateConfigFile writes an editable file that does not exist yet.
func (r *Remote) CreateConfigFile(ctx context.Context, name string, data []byte) (bool, error) {
	return set[bool](ctx, r, wire.CreateConfigFile, wire.File{Name: name, Data: data})
}

// lockMargin is the time a lock answer needs to come back.
const lockMargin = 250 * time.Millisecond

// LockConfig waits (until ctx ends) for the host's edit lock, which the
// agent holds for the panel until unlock or its time to live ends.
func (r *Remote) LockConfig(ctx context.Context) (func(), error) {
	// The agent waits for the lock until shortly before ctx ends, so that
	// "another edit is running" comes back as that, not as a timeout.
	wait := remoteLockTimeout - lockMargin
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)-lockMargin)
	}
	wait = max(wait, 0)
	l, err := getWithin[wire.Lock](ctx, r, remoteLockTimeout, wire.LockConfig, wire.LockWait{WaitMS: wait.Milliseconds()})
	if err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), remoteWriteTimeout)
		defer cancel()
		if err := r.call(ctx, remoteWriteTimeout, wire.UnlockConfig, wire.ID{ID: l.ID}, nil); err != nil {
			slog.Warn("could not release the agent's configuration lock; it ends by itself", "host", r.opts.ID, "err", err, "ttl_seconds", l.TTLSeconds)
		}
	}, nil
}

// TestRegex runs fail2ban-regex on the host.
func (r *Remote) TestRegex(ctx context.Context, t fail2ban.RegexTest) (fail2ban.RegexResult, error) {
	return getWithin[fail2ban.RegexResult](ctx, r, remoteRegexTimeout, wire.TestRegex, t)
}

// CheckFilter loads a filter of the host's configuration with fail2ban-regex.
func (r *Remote) CheckFilter(ctx context.Context, name string) error {
	_, err := getWithin[wire.Empty](ctx, r, remoteRegexTimeout, wire.CheckFilter, wire.Name{Name: name})
	return err
}

// TailLog returns the end of a log file on the host, inside LogDirs.
func (r *Remote) TailLog(ctx context.Context, path string, n int, filter string) (LogTail, error) {
	t, err := get[wire.LogTail](ctx, r, wire.TailLog, wire.Tail{Path: path, N: n, Filter: filter})
	return LogTail{Lines: t.Lines, Truncated: t.Truncated}, err
}

// BanRows reads the rows of the host's fail2ban database, a page per call.
func (r *Remote) BanRows(ctx context.Context) (repo.BanRowSource, error) {
	if err := r.call(ctx, r.opts.Timeout, wire.OpenRows, nil, nil); err != nil {
		return nil, err
	}
	return remoteRows{r}, nil
}

// remoteRows is the repo.BanRowSource of an agent.
type remoteRows struct{ r *Remote }

func (s remoteRows) NewRowsSince(ctx context.Context, afterRowID int64, limit int) ([]repo.F2BRow, error) {
	return s.page(ctx, wire.NewRowsSince, wire.Rows{AfterRowID: afterRowID, Limit: limit})
}

func (s remoteRows) RowsAtOrAfter(ctx context.Context, since, afterRowID, maxRowID int64, limit int) ([]repo.F2BRow, error) {
	return s.page(ctx, wire.RowsAtOrAfter, wire.Rows{Since: since, AfterRowID: afterRowID, MaxRowID: maxRowID, Limit: limit})
}

// page asks for at most limit rows, in pages the agent accepts.
func (s remoteRows) page(ctx context.Context, method string, q wire.Rows) ([]repo.F2BRow, error) {
	var out []repo.F2BRow
	for q.Limit > 0 {
		ask := q
		ask.Limit = min(q.Limit, wire.MaxRowsPage)
		rows, err := getWithin[[]repo.F2BRow](ctx, s.r, remoteRowsTimeout, method, ask)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if len(rows) < ask.Limit {
			break
		}
		q.Limit -= len(rows)
		q.AfterRowID = rows[len(rows)-1].RowID
	}
	return out, nil
}

func (s remoteRows) RowByID(ctx context.Context, rowid int64) (repo.F2BRow, bool, error) {
	f, err := getWithin[wire.FoundRow](ctx, s.r, remoteRowsTimeout, wire.RowByID, wire.RowID{RowID: rowid})
	return f.Row, f.Found, err
}

func (s remoteRows) LastRowAtOrBelow(ctx context.Context, rowid int64) (repo.F2BRow, bool, error) {
	f, err := getWithin[wire.FoundRow](ctx, s.r, remoteRowsTimeout, wire.LastRowAtOrBelow, wire.RowID{RowID: rowid})
	return f.Row, f.Found, err
}

func (s remoteRows) MaxRowID(ctx context.Context) (int64, error) {
	return getWithin[int64](ctx, s.r, remoteRowsTimeout, wire.MaxRowID, nil)
}

// A Remote is a Host.
var _ Host = (*Remote)(nil)
