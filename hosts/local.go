package hosts

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/models"
	"bangui/repo"
)

// DefaultLogDirs are the folders the log viewer and the regex tester may
// read by default.
var DefaultLogDirs = []string{"/var/log"}

// Limits of the local host's programs.
const (
	runnerTimeout   = 60 * time.Second // one fail2ban-client run
	restartTimeout  = time.Minute      // a configured restart command
	restartWaitKill = 2 * time.Second  // for the output after killing it
	purgeAgeTTL     = time.Minute      // how long PurgeAge trusts its answer
	defaultPurgeAge = 24 * time.Hour   // fail2ban's own default
)

// LocalOptions describe the fail2ban on the panel's own machine.
type LocalOptions struct {
	// ID is the host's id; default models.LocalHost. Tests register
	// several local fail2bans under other ids.
	ID        string
	Socket    string // fail2ban's control socket
	ConfigDir string // fail2ban's configuration directory; "" when not known yet
	// ClientPath is fail2ban-client, for reload, restart and the
	// configuration test; default fail2ban.DefaultClientPath.
	ClientPath string
	// RegexPath is fail2ban-regex; default fail2ban.DefaultRegexPath.
	RegexPath string
	// LogDirs are the folders whose files the log viewer and the regex
	// tester may read; default DefaultLogDirs.
	LogDirs []string
	// RestartCommand restarts fail2ban (program and arguments, run without
	// a shell); empty means "fail2ban-client restart".
	RestartCommand []string
	// DBPath is where the panel finds fail2ban's database; "" uses the
	// path fail2ban reports.
	DBPath string
	// ClientOptions tune the socket client.
	ClientOptions []fail2ban.Option
}

// Local is the fail2ban on the panel's own machine: its socket, its
// fail2ban-client and fail2ban-regex, its configuration directory, its log
// files and its database, all reached directly. The socket commands are
// those of the embedded client.
type Local struct {
	*fail2ban.Client
	opts   LocalOptions
	runner fail2ban.Runner
	regex  fail2ban.RegexRunner
	now    func() time.Time

	mu         sync.Mutex
	reader     *repo.Fail2BanDBReader
	readerPath string
	purgeAge   time.Duration
	purgeAt    time.Time
}

// NewLocal returns the local host described by opts.
func NewLocal(opts LocalOptions) *Local {
	if opts.ID == "" {
		opts.ID = models.LocalHost
	}
	if opts.RegexPath == "" {
		opts.RegexPath = fail2ban.DefaultRegexPath
	}
	if len(opts.LogDirs) == 0 {
		opts.LogDirs = DefaultLogDirs
	}
	opts.LogDirs = slices.Clone(opts.LogDirs)
	opts.RestartCommand = slices.Clone(opts.RestartCommand)
	return &Local{
		Client: fail2ban.NewClient(opts.Socket, opts.ClientOptions...),
		opts:   opts,
		runner: fail2ban.Runner{ClientPath: opts.ClientPath, Socket: opts.Socket, ConfigDir: opts.ConfigDir, Timeout: runnerTimeout},
		regex:  fail2ban.RegexRunner{Path: opts.RegexPath},
		now:    time.Now,
	}
}

// Moved returns a local host like l on another socket and configuration
// directory (setup chose them). l keeps working until it is closed.
func (l *Local) Moved(socket, configDir string) *Local {
	opts := l.opts
	opts.Socket, opts.ConfigDir = socket, configDir
	return NewLocal(opts)
}

// ID is the id of LocalOptions, models.LocalHost by default.
func (l *Local) ID() string { return l.opts.ID }

// Reload runs "fail2ban-client reload" for one jail, or all when jail is "".
func (l *Local) Reload(ctx context.Context, jail string) (string, error) {
	return l.runner.Reload(ctx, jail)
}

// TestConfig runs "fail2ban-client -t" on the configuration directory.
func (l *Local) TestConfig(ctx context.Context) (string, error) {
	return l.runner.TestConfig(ctx)
}

// Restart runs the configured restart command, or "fail2ban-client
// restart" when there is none. It does not wait for fail2ban to answer.
func (l *Local) Restart(ctx context.Context) (string, error) {
	if len(l.opts.RestartCommand) == 0 {
		return l.runner.Restart(ctx)
	}
	cmdCtx, cancel := context.WithTimeout(ctx, restartTimeout)
	defer cancel()
	cmd := exec.CommandContext(cmdCtx, l.opts.RestartCommand[0], l.opts.RestartCommand[1:]...)
	cmd.WaitDelay = restartWaitKill
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), &RestartCommandError{Command: l.opts.RestartCommand, Output: strings.TrimSpace(string(out)), Err: err}
	}
	return string(out), nil
}

// TestRegex runs fail2ban-regex.
func (l *Local) TestRegex(ctx context.Context, t fail2ban.RegexTest) (fail2ban.RegexResult, error) {
	return l.regex.Test(ctx, t)
}

// CheckFilter loads a filter of the configuration directory with
// fail2ban-regex.
func (l *Local) CheckFilter(ctx context.Context, name string) error {
	return l.regex.CheckFilter(ctx, l.opts.ConfigDir, name)
}

// BanRows is the database of Fail2banDB.
func (l *Local) BanRows(ctx context.Context) (repo.BanRowSource, error) {
	r, err := l.Fail2banDB(ctx)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Fail2banDB opens fail2ban's database read-only, at LocalOptions.DBPath
// or else at the path fail2ban reports, and keeps it open until the path
// changes.
func (l *Local) Fail2banDB(ctx context.Context) (*repo.Fail2BanDBReader, error) {
	path := l.opts.DBPath
	if path == "" {
		var err error
		if path, err = l.DBFile(ctx); err != nil {
			return nil, err
		}
	}
	if path == "" || path == ":memory:" {
		return nil, fail2ban.ErrNoDatabase
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reader != nil && l.readerPath == path {
		return l.reader, nil
	}
	r, err := repo.OpenFail2BanDB(ctx, path)
	if err != nil {
		return nil, err
	}
	if l.reader != nil {
		l.reader.Close()
	}
	l.reader, l.readerPath = r, path
	return r, nil
}

// PurgeAge is how long fail2ban keeps bans in its database, asked at most
// once a minute.
func (l *Local) PurgeAge(ctx context.Context) time.Duration {
	l.mu.Lock()
	age, fresh := l.purgeAge, l.purgeAge > 0 && l.now().Sub(l.purgeAt) < purgeAgeTTL
	l.mu.Unlock()
	if fresh {
		return age
	}
	age, err := l.DBPurgeAge(ctx)
	if err != nil || age <= 0 {
		age = defaultPurgeAge
	}
	l.mu.Lock()
	l.purgeAge, l.purgeAt = age, l.now()
	l.mu.Unlock()
	return age
}

// Close closes fail2ban's database if it is open.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reader == nil {
		return nil
	}
	err := l.reader.Close()
	l.reader = nil
	return err
}

// The local host is a Host and reads its database directly.
var (
	_ Host     = (*Local)(nil)
	_ Database = (*Local)(nil)
	_ Commands = (*fail2ban.Client)(nil)
)
