// Package demo runs "bangui demo": a live panel on a fresh machine in one
// command. It starts a private fail2ban-server under the data dir (the
// same sandbox the tests use, with fail2ban's dummy action so nothing
// touches the firewall), writes a few weeks of past bans into its database
// on the first run, completes setup with a generated password, appends
// synthetic failed logins to the logs the jails watch, so that real bans
// happen while one watches, and serves the panel through the same wiring
// as "bangui". Ctrl-C stops all of it; the next run reuses the data dir.
package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangui/config"
	"bangui/fail2ban/sandbox"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/setup"
)

// Defaults of the demo.
const (
	DefaultDataDir     = "./data/demo"
	DefaultRate        = 12.0 // failure lines per minute: a ban every half minute or so
	DefaultHistoryDays = 28
	// PasswordEnv names the environment variable that sets the master
	// password; without it the first run generates one and prints it.
	PasswordEnv = "BANGUI_DEMO_PASSWORD"
	// DBPurgeAge keeps the seeded weeks in fail2ban's database (fail2ban's
	// own default, 1d, would delete them at the first purge).
	DBPurgeAge = "60d"
)

// ErrNotInstalled is returned by Run when fail2ban is not installed.
var ErrNotInstalled = errors.New("the demo needs fail2ban, which is not installed here.\n" +
	"Install the Debian package fail2ban (sudo apt-get install fail2ban) and run bangui demo again.\n" +
	"The demo starts its own private fail2ban-server; it neither uses nor changes the system's fail2ban.")

// Names below the data dir.
const (
	fail2banDir = "fail2ban"  // the sandbox: configuration, socket, database, logs
	lockFile    = "demo.lock" // held while a demo runs; marks the data dir as a demo's
)

// Options configures Run.
type Options struct {
	Rate        float64 // synthetic failure lines per minute; 0 turns the traffic off
	HistoryDays int     // days of past bans written into a new demo database; 0 for none
	Password    string  // master password; "" keeps the current one, or generates one at the first run
	ServerPath  string  // fail2ban-server executable; default looked up
	// Serve runs the panel with cfg until ctx ends: main's serve, so the
	// demo and "bangui" share one wiring. Required.
	Serve  func(ctx context.Context, cfg config.Config, log *slog.Logger) error
	Logger *slog.Logger // default slog.Default()
	Out    io.Writer    // the terminal: password, addresses and progress; default os.Stdout
}

// About is what "bangui demo --help" says about the demo.
const About = `Starts a private fail2ban-server under the data dir (its own socket, database and
logs; bans use fail2ban's dummy action, so the firewall is never touched) with
the jails sshd, nginx-http-auth, postfix, recidive and blocklist-import, fills
its database with a few weeks of past bans on the first run, completes setup
with a password printed once (or taken from ` + PasswordEnv + `), writes
synthetic failed logins into the jails' logs so that real bans happen while you
watch, and serves the panel. Ctrl-C stops everything; running it again reuses
the data dir (default ` + DefaultDataDir + `). Needs the Debian package fail2ban.`

// Load parses the arguments of "bangui demo" (after "demo"): the panel's
// flags with the demo's data dir as default, plus --rate, --history-days
// and --fail2ban-server. The password comes from BANGUI_DEMO_PASSWORD.
func Load(args []string, getenv func(string) string, out io.Writer) (config.Config, Options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var rate, days, server *string
	cmd := config.Command{
		Name:     "demo",
		About:    About,
		Defaults: map[string]string{"data-dir": DefaultDataDir},
		Flags: func(fs *flag.FlagSet) {
			rate = fs.String("rate", env("BANGUI_DEMO_RATE", strconv.FormatFloat(DefaultRate, 'g', -1, 64)),
				"synthetic failed logins per minute written to the demo's logs; 0 for none (env BANGUI_DEMO_RATE)")
			days = fs.String("history-days", env("BANGUI_DEMO_HISTORY_DAYS", strconv.Itoa(DefaultHistoryDays)),
				"days of past bans written into a new demo's fail2ban database; 0 for none (env BANGUI_DEMO_HISTORY_DAYS)")
			server = fs.String("fail2ban-server", env("BANGUI_DEMO_FAIL2BAN_SERVER", ""),
				"fail2ban-server program for the demo (default: looked up in PATH) (env BANGUI_DEMO_FAIL2BAN_SERVER)")
		},
	}
	cfg, err := config.LoadCommand(cmd, args, getenv, out)
	if err != nil {
		return cfg, Options{}, err
	}
	opts := Options{ServerPath: *server, Password: getenv(PasswordEnv)}
	if opts.Rate, err = strconv.ParseFloat(*rate, 64); err != nil || opts.Rate < 0 || opts.Rate > 60000 {
		return cfg, opts, fmt.Errorf("invalid --rate %q: want lines per minute between 0 and 60000", *rate)
	}
	if opts.HistoryDays, err = strconv.Atoi(*days); err != nil || opts.HistoryDays < 0 || opts.HistoryDays > 60 {
		return cfg, opts, fmt.Errorf("invalid --history-days %q: want a whole number of days from 0 to 60", *days)
	}
	if opts.Password != "" {
		if p := services.PasswordProblems(opts.Password); len(p) > 0 {
			rules := make([]string, len(p))
			for i, m := range p {
				rules[i] = m.Error()
			}
			return cfg, opts, fmt.Errorf("invalid %s: %s", PasswordEnv, strings.Join(rules, " "))
		}
	}
	return cfg, opts, nil
}

// Jails are the demo's jails. Their logs lie below the sandbox directory:
// log/auth.log, log/nginx-error.log and log/mail.log; recidive watches
// fail2ban's own log; blocklist-import has neither filter nor log, like
// the jail BanGUI writes for blocklists (services/blocklists/jail.go).
func Jails() []sandbox.Jail {
	return []sandbox.Jail{
		{Name: "sshd", LogPath: "log/auth.log", MaxRetry: 5, FindTime: "10m", BanTime: "10m"},
		{Name: "nginx-http-auth", LogPath: "log/nginx-error.log", MaxRetry: 3, FindTime: "10m", BanTime: "30m"},
		{Name: "postfix", Filter: "postfix[mode=auth]", LogPath: "log/mail.log", MaxRetry: 3, FindTime: "10m", BanTime: "30m"},
		{Name: "recidive", ServerLog: true, MaxRetry: 3, FindTime: "1d", BanTime: "1w"},
		{Name: models.BlocklistJail, Manual: true, BanTime: "24h"},
	}
}

// targets are where the traffic goes: the log-watching jails of sb.
func targets(sb *sandbox.Sandbox) []Target {
	weights := map[string]int{"sshd": 6, "nginx-http-auth": 2, "postfix": 2}
	var out []Target
	for _, j := range Jails() {
		if w, ok := weights[j.Name]; ok {
			out = append(out, Target{Jail: j.Name, File: sb.LogPath(j.Name), MaxRetry: j.MaxRetry, Weight: w})
		}
	}
	return out
}

// Run runs the demo until ctx ends (Ctrl-C), then stops the traffic, the
// panel and the private fail2ban-server, and returns nil after a clean
// stop. It returns an error matching ErrNotInstalled when fail2ban is
// missing.
func Run(ctx context.Context, cfg config.Config, opts Options) (err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	if opts.Serve == nil {
		return errors.New("demo: Options.Serve is required")
	}
	if err := sandbox.Check(sandbox.Options{ServerPath: opts.ServerPath}); err != nil {
		if errors.Is(err, sandbox.ErrNotInstalled) {
			return fmt.Errorf("%w\n(%v)", ErrNotInstalled, err)
		}
		return err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg.DataDir = dataDir
	if !exists(filepath.Join(dataDir, lockFile)) && setupDone(ctx, filepath.Join(dataDir, repo.DBFileName)) {
		return fmt.Errorf("%s holds a BanGUI panel that is not a demo, and the demo would change its settings: "+
			"choose another --data-dir (the demo's default is %s)", dataDir, DefaultDataDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dataDir, lockFile))
	if err != nil {
		return fmt.Errorf("another bangui demo is running with the data dir %s: stop it first, or choose another --data-dir (%w)", dataDir, err)
	}
	defer unlock()

	f2bDir := Fail2banDir(dataDir)
	if err := os.MkdirAll(f2bDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	pool := NewPool()
	reused := exists(sandbox.DBPath(f2bDir))
	if reused {
		fmt.Fprintf(out, "Reusing the demo in %s.\n", dataDir)
	} else if opts.HistoryDays > 0 {
		// Up to two minutes ago: what happens from now on is live.
		n, err := SeedHistory(ctx, sandbox.DBPath(f2bDir), pool, opts.HistoryDays, time.Now().Add(-2*time.Minute))
		if err != nil {
			return quiet(ctx, err)
		}
		fmt.Fprintf(out, "Wrote %d past bans over %d days into the demo's fail2ban database.\n", n, opts.HistoryDays)
	}

	fmt.Fprintln(out, "Starting a private fail2ban-server …")
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: f2bDir, Jails: Jails(), ServerPath: opts.ServerPath, DBPurgeAge: DBPurgeAge})
	if err != nil {
		return quiet(ctx, err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if serr := sb.Stop(stopCtx); serr != nil && err == nil {
			err = serr
		}
	}()

	pw, err := setupPanel(ctx, dataDir, sb, opts.Password)
	if err != nil {
		return quiet(ctx, err)
	}
	if len(cfg.RestartCommand) == 0 {
		// "fail2ban-client restart" would start a new server in the
		// background, outside the demo's control (and left behind at
		// Ctrl-C). Restarting every jail keeps the server the demo's child.
		cfg.RestartCommand = []string{cfg.ClientPath, "-c", sb.ConfigDir, "-s", sb.SocketPath, "reload", "--restart"}
	}
	cfg.LogDirs = append(cfg.LogDirs, filepath.Join(f2bDir, "log"))

	banner(out, cfg, sb, pw, opts)

	trafficCtx, stopTraffic := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := NewTraffic(targets(sb), pool, uint64(time.Now().UnixNano())).Run(trafficCtx, opts.Rate); err != nil {
			log.Warn("demo traffic stopped", "err", err)
		}
	}()
	err = opts.Serve(ctx, cfg, log)
	stopTraffic()
	wg.Wait()
	if err == nil {
		fmt.Fprintf(out, "Stopped the demo and its fail2ban-server; the data stays in %s.\n", dataDir)
	}
	return err
}

// quiet turns an error caused by ctx ending (Ctrl-C while starting) into nil.
func quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// passwordNote says on the terminal where the password comes from.
type passwordNote struct {
	generated string // printed once
	fromEnv   bool
}

// setupPanel completes setup on the first run (with the given or a
// generated password) and points the panel at the sandbox on every run; a
// given password replaces the stored one.
func setupPanel(ctx context.Context, dataDir string, sb *sandbox.Sandbox, password string) (passwordNote, error) {
	note := passwordNote{fromEnv: password != ""}
	db, err := repo.Open(ctx, repo.Options{DataDir: dataDir})
	if err != nil {
		return note, err
	}
	defer db.Close()
	settings := repo.NewSettingsStore(db)
	users := repo.NewUserStore(db)
	accounts := services.NewAccounts(users, repo.NewSessionStore(db), settings)
	firstRun := setup.New(settings, accounts)
	done, err := firstRun.Done(ctx)
	if err != nil {
		return note, err
	}
	if !done {
		if password == "" {
			if password, err = newPassword(); err != nil {
				return note, err
			}
			note.generated = password
		}
		_, err := firstRun.Complete(ctx, setup.Input{
			Username: repo.MasterAdminName, Password: password, Confirm: password,
			Socket: sb.SocketPath, ConfigDir: sb.ConfigDir,
			Timezone: localZone(), SessionMinutes: "720",
		})
		if err != nil {
			return note, fmt.Errorf("demo: complete setup: %w", err)
		}
		return note, nil
	}
	values := map[string]string{
		models.SettingFail2banSocket:  sb.SocketPath,
		models.SettingFail2banConfDir: sb.ConfigDir,
	}
	if err := settings.SetMany(ctx, values); err != nil {
		return note, fmt.Errorf("demo: settings: %w", err)
	}
	if password != "" {
		// A demo data dir from before accounts has its master password
		// in settings: make it the account first, as the panel would.
		if _, err := accounts.AdoptMasterPassword(ctx); err != nil {
			return note, fmt.Errorf("demo: %w", err)
		}
		u, err := users.ByName(ctx, repo.MasterAdminName)
		if err != nil {
			return note, fmt.Errorf("demo: the account %s: %w", repo.MasterAdminName, err)
		}
		if _, err := accounts.ResetPassword(ctx, u.ID, password, password); err != nil {
			return note, fmt.Errorf("demo: set the password: %w", err)
		}
	}
	return note, nil
}

// newPassword returns a random password that meets the setup rules, in
// groups easy to type: "Kq7m-Vx2p-…".
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	for {
		var b strings.Builder
		for i := range 16 {
			if i > 0 && i%4 == 0 {
				b.WriteByte('-')
			}
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if err != nil {
				return "", fmt.Errorf("demo: password: %w", err)
			}
			b.WriteByte(alphabet[n.Int64()])
		}
		if pw := b.String(); len(services.PasswordProblems(pw)) == 0 {
			return pw, nil
		}
	}
}

// localZone is the host's IANA time zone name, or UTC.
func localZone() string {
	var cands []string
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" {
		cands = append(cands, tz)
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		cands = append(cands, strings.TrimSpace(string(b)))
	}
	if l, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(l, "zoneinfo/"); ok {
			cands = append(cands, name)
		}
	}
	for _, c := range cands {
		if _, msg := setup.ParseTimezone(c); msg.IsZero() {
			return c
		}
	}
	return "UTC"
}

// banner tells the user where the panel is and how to log in.
func banner(out io.Writer, cfg config.Config, sb *sandbox.Sandbox, pw passwordNote, opts Options) {
	var b strings.Builder
	b.WriteString("\nBanGUI demo\n\n")
	row := func(k, v string) { fmt.Fprintf(&b, "  %-10s %s\n", k, v) }
	row("Panel", "http://"+cfg.Listen+cfg.BasePath+"/")
	row("User", repo.MasterAdminName)
	switch {
	case pw.generated != "":
		row("Password", pw.generated+"   (shown only now; it stays the same on later runs)")
	case pw.fromEnv:
		row("Password", "from "+PasswordEnv)
	default:
		row("Password", "the one shown when this demo first started (set "+PasswordEnv+" to replace it)")
	}
	row("Data", cfg.DataDir+"   (delete it to start afresh)")
	row("Socket", sb.SocketPath)
	row("Config", sb.ConfigDir)
	if opts.Rate > 0 {
		row("Traffic", fmt.Sprintf("%g failed logins a minute into %s (--rate)", opts.Rate, filepath.Dir(sb.LogPath("sshd"))))
	} else {
		row("Traffic", "off (--rate 0)")
	}
	if !exists(cfg.GeoCountryDB) {
		row("Countries", "unknown: no country database at "+cfg.GeoCountryDB+"; scripts/fetch-geo.sh "+cfg.DataDir+" fetches it (make demo does)")
	}
	b.WriteString("\nBans use fail2ban's dummy action: the firewall is not touched. Press Ctrl-C to stop.\n\n")
	fmt.Fprint(out, b.String())
}

// setupDone reports whether the BanGUI database at path exists and has
// completed setup. It only reads: the file may belong to a running panel.
func setupDone(ctx context.Context, path string) bool {
	if !exists(path) {
		return false
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return true // cannot tell: be safe
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, models.SettingSetupCompleted).Scan(&v)
	return err == nil || !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table")
}

// Fail2banDir is the directory of the demo's private fail2ban (the
// sandbox: configuration, socket, database and logs) below its data dir.
func Fail2banDir(dataDir string) string { return filepath.Join(dataDir, fail2banDir) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
