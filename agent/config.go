package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
)

// Config is what `bangui agent` is started with.
type Config struct {
	Listen         string
	DataDir        string
	Socket         string
	ConfigDir      string
	LogDirs        []string
	ClientPath     string
	RegexPath      string
	Fail2banDB     string
	RestartCommand []string
	TokenTTL       time.Duration
	NewToken       bool
	LogLevel       slog.Level
	ShutdownGrace  time.Duration
}

// listFlag is a flag that may be repeated and takes comma lists.
type listFlag struct {
	vals *[]string
	set  bool
}

func (l *listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, ",")
}

func (l *listFlag) Set(v string) error {
	if !l.set {
		*l.vals, l.set = nil, true
	}
	for _, d := range strings.Split(v, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			return errors.New("must be an absolute path")
		}
		*l.vals = append(*l.vals, filepath.Clean(d))
	}
	return nil
}

// ErrHelp is returned by LoadConfig for --help, after printing the usage.
var ErrHelp = flag.ErrHelp

// LoadConfig parses the agent's flags (without "agent" itself). Usage and
// errors go to out.
func LoadConfig(args []string, out io.Writer) (Config, error) {
	c := Config{LogDirs: []string{"/var/log"}}
	fs := flag.NewFlagSet("bangui agent", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Listen, "listen", ":9444", "address the HTTPS API listens on (host:port); let only the panel reach it")
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/bangui-agent", "directory for the TLS key and certificate, the enrolment token and the credential hash (created 0700)")
	fs.StringVar(&c.Socket, "socket", "/var/run/fail2ban/fail2ban.sock", "fail2ban control socket")
	fs.StringVar(&c.ConfigDir, "config-dir", "/etc/fail2ban", "fail2ban configuration directory")
	fs.Var(&listFlag{vals: &c.LogDirs}, "log-dirs", "folders whose files the log viewer and the regex tester may read (comma list, or repeat the flag)")
	fs.StringVar(&c.ClientPath, "fail2ban-client", "fail2ban-client", "path of fail2ban-client (reload, restart, configuration test)")
	fs.StringVar(&c.RegexPath, "fail2ban-regex", fail2ban.DefaultRegexPath, "path of fail2ban-regex (regex tester)")
	fs.StringVar(&c.Fail2banDB, "fail2ban-db", "", "fail2ban's database (default: the path fail2ban reports)")
	restart := fs.String("restart-command", "", "command that restarts fail2ban, split at spaces and run without a shell, e.g. \"systemctl restart fail2ban\"; empty: fail2ban-client restart")
	fs.DurationVar(&c.TokenTTL, "token-ttl", DefaultTokenTTL, "how long a new enrolment token works")
	fs.BoolVar(&c.NewToken, "new-token", false, "issue a new enrolment token even when a panel is enrolled (forgets its credential)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight calls may run at shutdown")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: bangui agent [flags]\n\nServes this host's fail2ban to one BanGUI panel over an authenticated HTTPS API.\n"+
			"The first start makes a TLS key and certificate and prints a one-time enrolment token and the certificate's\n"+
			"fingerprint: add the host on the panel's Hosts page with the token and compare the fingerprint.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see bangui agent --help)", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return c, fmt.Errorf("invalid --listen %q: want host:port, for example :9444", c.Listen)
	}
	for name, p := range map[string]string{"--socket": c.Socket, "--config-dir": c.ConfigDir} {
		if !filepath.IsAbs(p) {
			return c, fmt.Errorf("invalid %s %q: must be an absolute path", name, p)
		}
	}
	if c.Fail2banDB != "" && !filepath.IsAbs(c.Fail2banDB) {
		return c, fmt.Errorf("invalid --fail2ban-db %q: must be an absolute path", c.Fail2banDB)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return c, errors.New("invalid --data-dir: must not be empty")
	}
	if c.TokenTTL <= 0 {
		return c, fmt.Errorf("invalid --token-ttl %v: want a positive duration such as 1h", c.TokenTTL)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("invalid --log-level %q: %w", *level, err)
	}
	c.RestartCommand = strings.Fields(*restart)
	return c, nil
}

// Run serves the agent described by cfg until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger, version string) error {
	local := hosts.NewLocal(hosts.LocalOptions{
		Socket: cfg.Socket, ConfigDir: cfg.ConfigDir, ClientPath: cfg.ClientPath, RegexPath: cfg.RegexPath,
		LogDirs: cfg.LogDirs, RestartCommand: cfg.RestartCommand, DBPath: cfg.Fail2banDB,
	})
	defer local.Close()
	a, err := New(Options{Host: local, DataDir: cfg.DataDir, TokenTTL: cfg.TokenTTL, NewToken: cfg.NewToken, Version: version, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return a.Serve(ctx, ln, cfg.ShutdownGrace)
}
