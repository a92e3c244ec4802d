// Package config turns command-line flags and BANGUI_* environment variables
// into a validated Config. Flags win over the environment, which wins over
// the defaults.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the panel needs to start.
type Config struct {
	Listen         string         // TCP address the HTTP server listens on
	BasePath       string         // URL prefix without trailing slash: "" or "/bangui"
	PublicURL      string         // the panel's address as browsers see it, "https://host[:port]" + BasePath; "" = from each request
	DataDir        string         // directory for BanGUI's own database
	Database       string         // BanGUI's own database: "" for SQLite in DataDir, or a postgres:// URL
	Socket         string         // default fail2ban socket, offered on the setup page
	ConfigDir      string         // default fail2ban config dir, offered on the setup page
	ClientPath     string         // fail2ban-client executable, for reload and restart
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-* headers are believed
	LogLevel       slog.Level
	ShutdownGrace  time.Duration // how long in-flight requests may take at shutdown
	GeoCountryDB   string        // country MaxMind DB file (may not exist yet)
	GeoASNDB       string        // ASN MaxMind DB file, GeoLite2-ASN layout (optional)
	GeoOnline      string        // batch endpoint of the online resolver; "" = off
	ArchiveEvery   time.Duration // how often fail2ban's bans are copied into the archive
	Fail2banDB     string        // fail2ban's database as BanGUI sees it; "" asks fail2ban
	RegexPath      string        // fail2ban-regex executable, for the regex tester
	LogDirs        []string      // folders the log viewer and regex tester may read
	RestartCommand []string      // program and arguments that restart fail2ban; empty: fail2ban-client restart
	MaxStreams     int           // live pages' event streams open at once (0: 500); more tabs fall back to polling
	// MetricsListen is the address of a separate listener serving
	// Prometheus metrics at /metrics; "" for none.
	MetricsListen string
	// MetricsToken is the bearer token /metrics asks for; when set, the
	// panel's own address serves <base-path>/metrics too. "" for none.
	MetricsToken string
}

// MetricsOn reports whether the panel serves Prometheus metrics anywhere.
func (c Config) MetricsOn() bool { return c.MetricsListen != "" || c.MetricsToken != "" }

// setting describes one configuration value: its flag, environment name,
// default and how to apply a string to the Config.
type setting struct {
	name  string
	def   string
	usage string
	apply func(*Config, string) error
}

func settings() []setting {
	return []setting{
		{"listen", "127.0.0.1:8080", "address to listen on (host:port)", func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("want host:port, for example 127.0.0.1:8080")
			}
			c.Listen = v
			return nil
		}},
		{"base-path", "/", "URL path the panel is served under, for example /bangui/", func(c *Config, v string) error {
			p, err := NormalizeBasePath(v)
			c.BasePath = p
			return err
		}},
		{"public-url", "", "the panel's address as browsers see it, such as https://panel.example/bangui/; passkeys are bound to its host name (empty: taken from each request's Host, or X-Forwarded-Host from a trusted proxy)", func(c *Config, v string) error {
			u, err := ParsePublicURL(v, c.BasePath)
			c.PublicURL = u
			return err
		}},
		{"data-dir", "./data", "directory for BanGUI's own database (created if missing)", func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = filepath.Clean(v)
			return nil
		}},
		{"database", "", "BanGUI's own database: empty (default) for SQLite in the data dir, or postgres://user:password@host:5432/dbname?sslmode=verify-full for PostgreSQL", func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			scheme, _, found := strings.Cut(v, ":")
			switch strings.ToLower(scheme) {
			case "postgres", "postgresql", "sqlite":
			default:
				if v != "" || found {
					return &secretValueError{errors.New("want empty for SQLite in the data dir, or a postgres:// URL")}
				}
			}
			c.Database = v
			return nil
		}},
		{"geo-country-db", "", "country database (.mmdb); default <data-dir>/geo/geo-whois-asn-country.mmdb, which make run fetches", func(c *Config, v string) error {
			c.GeoCountryDB = geoPath(c.DataDir, v, "geo-whois-asn-country.mmdb")
			return nil
		}},
		{"geo-asn-db", "", "ASN database in GeoLite2-ASN layout (.mmdb), used when present; default <data-dir>/geo/GeoLite2-ASN.mmdb", func(c *Config, v string) error {
			c.GeoASNDB = geoPath(c.DataDir, v, "GeoLite2-ASN.mmdb")
			return nil
		}},
		{"geo-online", "off", "send addresses the local database does not know to an online service: off, ip-api (ip-api.com), or the URL of a compatible batch endpoint", func(c *Config, v string) error {
			switch v = strings.TrimSpace(v); {
			case v == "off" || v == "":
				c.GeoOnline = ""
			case v == "ip-api":
				c.GeoOnline = "http://ip-api.com/batch"
			case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
				c.GeoOnline = v
			default:
				return errors.New("want off, ip-api or an http(s) URL")
			}
			return nil
		}},
		{"socket", "/var/run/fail2ban/fail2ban.sock", "fail2ban control socket (default offered at setup)", func(c *Config, v string) error {
			c.Socket = v
			return requireAbsolute(v)
		}},
		{"config-dir", "/etc/fail2ban", "fail2ban configuration directory (default offered at setup)", func(c *Config, v string) error {
			c.ConfigDir = v
			return requireAbsolute(v)
		}},
		{"fail2ban-client", "fail2ban-client", "path of the fail2ban-client program (used for reload and restart)", func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.ClientPath = v
			return nil
		}},
		{"fail2ban-regex", "fail2ban-regex", "path of the fail2ban-regex program (used by the regex tester)", func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.RegexPath = v
			return nil
		}},
		{"log-dirs", "/var/log", "comma-separated folders whose files the log viewer and the regex tester may read", func(c *Config, v string) error {
			c.LogDirs = nil
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(d); d == "" {
					continue
				}
				if err := requireAbsolute(d); err != nil {
					return err
				}
				c.LogDirs = append(c.LogDirs, filepath.Clean(d))
			}
			return nil
		}},
		{"restart-command", "", "command that restarts fail2ban, split at spaces and run without a shell, e.g. \"systemctl restart fail2ban\"; empty: fail2ban-client restart", func(c *Config, v string) error {
			c.RestartCommand = strings.Fields(v)
			return nil
		}},
		{"trusted-proxies", "127.0.0.0/8,::1/128", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-* headers are trusted", func(c *Config, v string) error {
			ps, err := ParsePrefixes(v)
			c.TrustedProxies = ps
			return err
		}},
		{"log-level", "info", "log level: debug, info, warn or error", func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"fail2ban-db", "", "path of fail2ban's database as BanGUI sees it (default: the path fail2ban reports; set it when a container mounts the file elsewhere)", func(c *Config, v string) error {
			if v != "" {
				if err := requireAbsolute(v); err != nil {
					return err
				}
			}
			c.Fail2banDB = v
			return nil
		}},
		{"archive-interval", "5m", "how often fail2ban's bans are copied into BanGUI's archive", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return errors.New("want a duration of at least 1s, such as 5m")
			}
			c.ArchiveEvery = d
			return nil
		}},
		{"max-streams", "500", "how many live event streams (one per open browser tab) may be open at once; further tabs poll instead", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("want a number of streams, 1 or more")
			}
			c.MaxStreams = n
			return nil
		}},
		{"shutdown-grace", "15s", "how long in-flight requests may run at shutdown", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return errors.New("want a positive duration such as 15s")
			}
			c.ShutdownGrace = d
			return nil
		}},
		{"metrics-listen", "", "address (host:port) of a separate listener serving Prometheus metrics at /metrics; empty: none (metrics are off unless this or --metrics-token is set)", func(c *Config, v string) error {
			if v = strings.TrimSpace(v); v == "" {
				c.MetricsListen = ""
				return nil
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("want host:port, for example 127.0.0.1:9810")
			}
			if v == c.Listen {
				return errors.New("must differ from --listen (use --metrics-token to serve metrics on the panel's address)")
			}
			c.MetricsListen = v
			return nil
		}},
		{"metrics-token", "", "bearer token Prometheus must send for /metrics, at least 16 characters; when set, the panel's own address serves <base-path>/metrics too", func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && (len(v) < minMetricsToken || strings.ContainsAny(v, " \t\r\n")) {
				return &secretValueError{fmt.Errorf("want at least %d characters without spaces, for example the output of 'openssl rand -hex 32'", minMetricsToken)}
			}
			c.MetricsToken = v
			return nil
		}},
	}
}

// minMetricsToken is the shortest bearer token --metrics-token accepts.
const minMetricsToken = 16

// secretValueError is a setting's complaint about a value that may hold a
// password (a database URL): the error message does not repeat the value.
type secretValueError struct{ error }

func (e *secretValueError) Unwrap() error { return e.error }

// EnvName is the environment variable that sets the named setting.
func EnvName(setting string) string {
	return "BANGUI_" + strings.ToUpper(strings.ReplaceAll(setting, "-", "_"))
}

// ErrHelp is returned by Load when --help was asked for; usage has been printed.
var ErrHelp = flag.ErrHelp

// Load builds a Config from args (without the program name) and the
// environment lookup function. Usage and errors go to out.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	return LoadCommand(Command{}, args, getenv, out)
}

// LoadFromOS is Load with the process's own arguments and environment.
func LoadFromOS(args []string) (Config, error) {
	return Load(args, os.Getenv, os.Stderr)
}

// NormalizeBasePath turns "/", "", "bangui", "/bangui/" into "" or "/bangui".
func NormalizeBasePath(v string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "?#\\ \t") || strings.Contains(v, "..") || strings.Contains(v, "//") {
		return "", errors.New("want a plain path such as /bangui/")
	}
	v = strings.Trim(v, "/")
	if v == "" {
		return "", nil
	}
	return "/" + v, nil
}

// ParsePublicURL checks the --public-url value v against the base path and
// returns it as scheme://host[:port] followed by basePath, or "" for "".
// Browsers allow passkeys only on https (and on http for localhost).
func ParsePublicURL(v, basePath string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New("want an address such as https://panel.example/bangui/")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	switch {
	case scheme == "https":
	case scheme == "http" && (host == "localhost" || strings.HasSuffix(host, ".localhost")):
	default:
		return "", errors.New("want https:// (browsers offer passkeys on plain http only for localhost)")
	}
	if p, err := NormalizeBasePath(u.Path); err != nil || p != basePath {
		return "", fmt.Errorf("its path must be the base path %q", basePath+"/")
	}
	return scheme + "://" + strings.ToLower(u.Host) + basePath, nil
}

// ParsePrefixes parses a comma-separated list of CIDR ranges or single IPs.
func ParsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func requireAbsolute(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("must be an absolute path")
	}
	return nil
}

// geoPath is a geo database path: v when given, else name in the data dir's geo/.
func geoPath(dataDir, v, name string) string {
	if strings.TrimSpace(v) != "" {
		return filepath.Clean(v)
	}
	return filepath.Join(dataDir, "geo", name)
}
