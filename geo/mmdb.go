package geo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"bangui/models"
)

// MMDB resolves addresses from local MaxMind DB files: a country database
// (the ip-location-db "country_code" layout or MaxMind's GeoLite2/GeoIP2
// Country layout) and, optionally, an ASN database in GeoLite2-ASN layout.
// A file that does not exist yet is not an error: lookups answer
// ErrNoDatabase until Refresh finds it. It is safe for concurrent use.
type MMDB struct {
	countryPath, asnPath string
	classify             *Classifier

	mu      sync.RWMutex
	country *dbFile
	asn     *dbFile
}

// dbFile is one open database and the file state it was opened from.
type dbFile struct {
	r       *maxminddb.Reader
	size    int64
	modTime time.Time
}

// DBStatus describes one configured database file.
type DBStatus struct {
	Path   string
	Loaded bool
	Type   string    // database type from its metadata, e.g. "GeoLite2-Country"
	Built  time.Time // build time from its metadata
	Error  string    // why it could not be opened, "" when loaded or simply absent
}

// NewMMDB returns a resolver for the country database at countryPath and
// the ASN database at asnPath (either may be "" for none) without opening
// them: call Refresh to load the files that exist.
func NewMMDB(countryPath, asnPath string) *MMDB {
	return &MMDB{countryPath: countryPath, asnPath: asnPath, classify: NewClassifier()}
}

// OpenMMDB is NewMMDB followed by Refresh. Missing files are fine; a file
// that exists but cannot be read as a MaxMind DB is an error.
func OpenMMDB(countryPath, asnPath string) (*MMDB, error) {
	m := NewMMDB(countryPath, asnPath)
	if _, err := m.Refresh(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Refresh reopens a database whose file appeared, changed or went away
// since the last look, and reports whether anything changed. A broken file
// leaves the previous database in use.
func (m *MMDB) Refresh() (changed bool, err error) {
	var errs []error
	for _, which := range []struct {
		path string
		slot **dbFile
	}{{m.countryPath, &m.country}, {m.asnPath, &m.asn}} {
		c, err := m.refreshOne(which.path, which.slot)
		changed = changed || c
		if err != nil {
			errs = append(errs, err)
		}
	}
	return changed, errors.Join(errs...)
}

func (m *MMDB) refreshOne(path string, slot **dbFile) (bool, error) {
	if path == "" {
		return false, nil
	}
	m.mu.RLock()
	cur := *slot
	m.mu.RUnlock()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if cur == nil {
			return false, nil
		}
		m.swap(slot, nil)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("geo: %w", err)
	}
	if cur != nil && cur.size == fi.Size() && cur.modTime.Equal(fi.ModTime()) {
		return false, nil
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return false, fmt.Errorf("geo: open %s: %w", path, err)
	}
	m.swap(slot, &dbFile{r: r, size: fi.Size(), modTime: fi.ModTime()})
	return true, nil
}

// swap installs next in slot and closes what was there, once no lookup
// uses it any more (lookups hold the read lock).
func (m *MMDB) swap(slot **dbFile, next *dbFile) {
	m.mu.Lock()
	old := *slot
	*slot = next
	m.mu.Unlock()
	if old != nil {
		old.r.Close()
	}
}

// Available reports whether a country database is loaded.
func (m *MMDB) Available() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.country != nil
}

// Status describes the country and ASN databases.
func (m *MMDB) Status() (country, asn DBStatus) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return statusOf(m.countryPath, m.country), statusOf(m.asnPath, m.asn)
}

func statusOf(path string, f *dbFile) DBStatus {
	s := DBStatus{Path: path}
	if f == nil {
		if path != "" {
			if _, err := os.Stat(path); err == nil {
				s.Error = "the file exists but is not a readable MaxMind database"
			}
		}
		return s
	}
	s.Loaded = true
	s.Type = f.r.Metadata.DatabaseType
	s.Built = f.r.Metadata.BuildTime()
	return s
}

// Close closes the open databases.
func (m *MMDB) Close() error {
	m.swap(&m.country, nil)
	m.swap(&m.asn, nil)
	return nil
}

// countryRecord reads both the ip-location-db layout (country_code) and
// MaxMind's (country.iso_code, registered_country.iso_code).
type countryRecord struct {
	CountryCode string `maxminddb:"country_code"`
	Country     struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

func (r countryRecord) code() string {
	for _, c := range []string{r.CountryCode, r.Country.ISOCode, r.RegisteredCountry.ISOCode} {
		if len(c) == 2 {
			return strings.ToUpper(c)
		}
	}
	return ""
}

// asnRecord is the GeoLite2-ASN layout.
type asnRecord struct {
	Number uint   `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// Lookup resolves one address.
func (m *MMDB) Lookup(ctx context.Context, ip string) (models.GeoInfo, error) {
	return lookupOne(ctx, m, ip)
}

// LookupMany resolves addresses from the local files. Special ranges are
// answered even without a database; everything else needs the country
// database (ErrNoDatabase otherwise). Invalid addresses are left out and
// reported as ErrInvalidIP.
func (m *MMDB) LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error) {
	out := make(map[string]models.GeoInfo, len(ips))
	m.mu.RLock()
	defer m.mu.RUnlock()
	var invalid, missing bool
	for i, ip := range ips {
		if i%1024 == 0 && ctx.Err() != nil {
			return out, ctx.Err()
		}
		if _, done := out[ip]; done {
			continue
		}
		a, err := ParseIP(ip)
		if err != nil {
			invalid = true
			continue
		}
		g := models.GeoInfo{IP: ip, Special: m.classify.Special(a)}
		if g.Special == "" {
			if m.country == nil {
				missing = true
				continue
			}
			var rec countryRecord
			if err := m.country.r.Lookup(a).Decode(&rec); err != nil {
				return out, fmt.Errorf("geo: look up %s: %w", ip, err)
			}
			g.CountryCode = rec.code()
			if m.asn != nil {
				var as asnRecord
				if err := m.asn.r.Lookup(a).Decode(&as); err != nil {
					return out, fmt.Errorf("geo: look up ASN of %s: %w", ip, err)
				}
				g.ASN, g.Org = as.Number, as.Org
			}
		}
		out[ip] = withName(g)
	}
	switch {
	case missing:
		return out, ErrNoDatabase
	case invalid:
		return out, ErrInvalidIP
	}
	return out, nil
}
