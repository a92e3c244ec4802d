package main

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go "sqlite" driver

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// cachedF2BDB returns a generated fail2ban database of rows bans ending at
// the end of today (UTC), generating it into dir on the first run of the
// day and deleting older ones.
func cachedF2BDB(ctx context.Context, dir string, rows int) (string, error) {
	end := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	name := fmt.Sprintf("f2b-%d-%s.sqlite3", rows, end.Format("20060102"))
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		log.Printf("reusing %s", path)
		return path, nil
	}
	old, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("f2b-%d-*.sqlite3", rows)))
	for _, p := range old {
		os.Remove(p)
	}
	log.Printf("generating %d bans into %s (once a day)", rows, path)
	start := time.Now()
	if err := f2bgen.Generate(ctx, path, f2bgen.Options{Rows: rows, End: end, Seed: 1}); err != nil {
		return "", fmt.Errorf("generate fail2ban database: %w", err)
	}
	log.Printf("generated in %s", time.Since(start).Round(time.Second))
	return path, nil
}

// heavyCountries take most bans, as in real attack traffic.
var heavyCountries = []string{"CN", "US", "RU", "IN", "BR", "VN", "DE", "NL", "KR", "ID", "FR", "GB", "SG", "HK", "TW", "UA", "IR", "TR", "JP", "AR"}

// countryOfNet picks the country of one network: most networks go to the
// heavy countries, the rest spread over every country, a few stay unknown.
func countryOfNet(n netip.Prefix) string {
	h := fnv.New32a()
	h.Write([]byte(n.String()))
	v := h.Sum32() % 1000
	switch {
	case v < 30:
		return ""
	case v < 730:
		return heavyCountries[v%uint32(len(heavyCountries))]
	}
	codes := models.CountryCodes()
	return codes[int(v)%len(codes)]
}

// writeCountryDB writes a country database (MaxMind format) covering the
// generator's address space in /10 networks (IPv4) and /16 networks
// (IPv6), so the archive's countries look like real ones. It is small and
// written on every run.
func writeCountryDB(dir string) (string, error) {
	nets := map[string]string{}
	for a := 1; a < 224; a++ {
		for b := 0; b < 256; b += 64 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a), byte(b), 0, 0}), 10)
			if reserved(p) {
				continue
			}
			if c := countryOfNet(p); c != "" {
				nets[p.String()] = c
			}
		}
	}
	for s := 0; s < 16; s++ {
		p := netip.MustParsePrefix(fmt.Sprintf("24%02x::/16", s))
		if c := countryOfNet(p); c != "" {
			nets[p.String()] = c
		}
	}
	path := filepath.Join(dir, "geo", "load-country.mmdb")
	if err := geotest.WriteCountryDB(path, nets, geotest.IPLocationDB); err != nil {
		return "", fmt.Errorf("country database: %w", err)
	}
	return path, nil
}

// reserved reports whether p overlaps a range that no country owns.
func reserved(p netip.Prefix) bool {
	for _, r := range []string{"10.0.0.0/8", "127.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "192.0.0.0/24", "198.18.0.0/15"} {
		if netip.MustParsePrefix(r).Overlaps(p) {
			return true
		}
	}
	return false
}

// samples are real values of the generated database for the requests.
type samples struct {
	ips       []string // addresses with bans: the most frequent and random ones
	prefixes  []string // IP prefixes for the history filter
	jails     []string
	countries []string
}

// sampleData reads addresses and jails from the generated database.
func sampleData(ctx context.Context, path string) (samples, error) {
	var s samples
	r, err := repo.OpenFail2BanDB(ctx, path)
	if err != nil {
		return s, err
	}
	defer r.Close()
	db := r.DB()
	collect := func(q string, args ...any) ([]string, error) {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
	top, err := collect(`SELECT ip FROM bans WHERE timeofban >= ? GROUP BY ip ORDER BY count(*) DESC LIMIT 20`, time.Now().Add(-30*24*time.Hour).Unix())
	if err != nil {
		return s, fmt.Errorf("sample IPs: %w", err)
	}
	random, err := collect(`SELECT ip FROM bans WHERE rowid % 2500 = 0`)
	if err != nil {
		return s, fmt.Errorf("sample IPs: %w", err)
	}
	s.ips = append(top, random...)
	seen := map[string]bool{}
	for _, ip := range s.ips {
		var p string
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			o := a.As4()
			p = strconv.Itoa(int(o[0])) + "." + strconv.Itoa(int(o[1])) + "."
		} else if i := strings.Index(ip, ":"); i > 0 {
			p = ip[:i+1]
		}
		if p != "" && !seen[p] {
			seen[p] = true
			s.prefixes = append(s.prefixes, p)
		}
	}
	if s.jails, err = collect(`SELECT DISTINCT jail FROM bans`); err != nil {
		return s, fmt.Errorf("sample jails: %w", err)
	}
	s.countries = append(append([]string{}, heavyCountries...), "unknown", "CH", "SE", "ZA", "MX", "PL")
	if len(s.ips) == 0 || len(s.jails) == 0 {
		return s, fmt.Errorf("%s holds no bans", path)
	}
	return s, nil
}

// seedCurrentBans bans up to n of the sampled addresses in the sandbox's
// sshd jail, so the per-IP pages show current bans and the jails have
// lists to report. The dummy action, which runs a shell per address, is
// removed first.
func seedCurrentBans(ctx context.Context, sb *sandbox.Sandbox, ips []string) error {
	if _, err := sb.Client().Call(ctx, "set", "sshd", "delaction", "dummy"); err != nil {
		return fmt.Errorf("seed bans: %w", err)
	}
	c := fail2ban.NewClient(sb.SocketPath, fail2ban.WithTimeout(2*time.Minute))
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := c.Call(cctx, append([]string{"set", "sshd", "banip"}, ips...)...); err != nil {
		return fmt.Errorf("seed bans: %w", err)
	}
	return nil
}

// waitArchive waits until the panel's archive sync has copied every row of
// the fail2ban database at f2bPath and the country fill has looked up every
// archived address, reading the panel's database read-only, and returns how
// many events the archive holds.
func waitArchive(ctx context.Context, p *panel, dataDir, f2bPath string) (int64, error) {
	var maxID int64
	f2b, err := sql.Open("sqlite", "file:"+f2bPath+"?mode=ro")
	if err != nil {
		return 0, err
	}
	err = f2b.QueryRowContext(ctx, `SELECT max(rowid) FROM bans`).Scan(&maxID)
	f2b.Close()
	if err != nil {
		return 0, err
	}
	dbPath := filepath.Join(dataDir, repo.DBFileName)
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start, lastLog := time.Now(), time.Now()
	for {
		var cursor string
		var events, unresolved int64
		err := db.QueryRowContext(ctx, `SELECT ifnull((SELECT value FROM settings WHERE key = ?), '0')`, repo.SettingArchiveLastRowID).Scan(&cursor)
		if err == nil {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE country_code IS NULL`).Scan(&unresolved)
		}
		if err == nil {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_time WHERE action = 'ban'`).Scan(&events)
		}
		id, _ := strconv.ParseInt(cursor, 10, 64)
		if err == nil && id >= maxID && unresolved == 0 && events > 0 {
			log.Printf("archive ready after %s: %d events", time.Since(start).Round(time.Second), events)
			return events, nil
		}
		if p.exited() {
			return 0, fmt.Errorf("the panel exited during set-up; see %s", p.logPath)
		}
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			log.Printf("archive: synced up to row %d of %d, %d events, %d without country yet (err: %v)", id, maxID, events, unresolved, err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the archive: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// templatePath is where the panel database archived from f2bDB is kept
// between runs: set up, with every ban archived and geolocated.
func templatePath(dir, f2bDB string) string {
	return filepath.Join(dir, "panel-"+strings.TrimSuffix(filepath.Base(f2bDB), ".sqlite3")+".sqlite3")
}

// useTemplate copies the cached panel database into dataDir, pointed at
// the sandbox's socket and config dir, and reports whether there was one.
func useTemplate(ctx context.Context, tmpl, dataDir string, sb *sandbox.Sandbox) (bool, error) {
	in, err := os.Open(tmpl)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer in.Close()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return false, err
	}
	path := filepath.Join(dataDir, repo.DBFileName)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return false, err
	}
	if err := out.Close(); err != nil {
		return false, err
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return false, err
	}
	defer db.Close()
	for k, v := range map[string]string{models.SettingFail2banSocket: sb.SocketPath, models.SettingFail2banConfDir: sb.ConfigDir} {
		if _, err := db.ExecContext(ctx, `UPDATE settings SET value = ? WHERE key = ?`, v, k); err != nil {
			return false, fmt.Errorf("template: %w", err)
		}
	}
	log.Printf("reusing the archived panel database %s", tmpl)
	return true, nil
}

// saveTemplate snapshots the running panel's database (VACUUM INTO, from a
// read-only connection) as the template for later runs.
func saveTemplate(ctx context.Context, dataDir, tmpl string) error {
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(tmpl), "panel-*.sqlite3"))
	for _, p := range old {
		os.Remove(p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, repo.DBFileName)+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	tmp := tmpl + ".tmp"
	os.Remove(tmp)
	start := time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save template: %w", err)
	}
	log.Printf("saved the archived panel database as %s in %s", tmpl, time.Since(start).Round(time.Second))
	return os.Rename(tmp, tmpl)
}
