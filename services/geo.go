package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"bangui/geo"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
)

// CountryArchive is the part of the history archive that the geo use cases
// need; repo.HistoryArchive has it.
type CountryArchive interface {
	CountsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error)
	PageOfCountry(ctx context.Context, f models.HistoryFilter, country string, total int64, page models.Page) ([]models.BanRecord, error)
	BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error)
	IPsWithoutCountry(ctx context.Context, limit int) ([]string, error)
	SetCountries(ctx context.Context, countries map[string]string) (int64, error)
	ResetUnknownCountries(ctx context.Context) (int64, error)
}

// fillBatch addresses are looked up and written per round of FillArchiveCountries.
const fillBatch = 1000

// FillArchiveCountries stores the country of every archived event that has
// none yet (country_code NULL), a batch of fillBatch addresses at a time,
// until none is left or ctx ends, and returns how many events it updated.
// An address found without a country (unknown, or a private or reserved
// range) is stored as "" so that it is not looked up again until the
// unknown ones are reset (ResetUnknownCountries). Pass an uncached
// resolver: the archive keeps the answers itself. When the resolver fails
// (for example geo.ErrNoDatabase while no country database is installed)
// the events it could not answer stay NULL for the next run, and the error
// is returned.
func FillArchiveCountries(ctx context.Context, archive CountryArchive, resolver geo.Resolver) (int64, error) {
	var total int64
	for {
		ips, err := archive.IPsWithoutCountry(ctx, fillBatch)
		if err != nil || len(ips) == 0 {
			return total, err
		}
		n, err := fillCountries(ctx, archive, resolver, ips)
		total += n
		if err != nil || len(ips) < fillBatch {
			return total, err
		}
	}
}

// fillCountries looks ips up and stores their countries on their archived
// events that have none yet (see FillArchiveCountries).
func fillCountries(ctx context.Context, archive CountryArchive, resolver geo.Resolver, ips []string) (int64, error) {
	got, lookErr := resolver.LookupMany(ctx, ips)
	if errors.Is(lookErr, geo.ErrInvalidIP) {
		lookErr = nil
		for _, ip := range ips { // not an address: store it as unknown
			if _, err := geo.ParseIP(ip); err != nil {
				got[ip] = models.GeoInfo{IP: ip}
			}
		}
	}
	countries := make(map[string]string, len(got))
	for ip, g := range got {
		countries[ip] = g.CountryCode
	}
	n, err := archive.SetCountries(ctx, countries)
	if err != nil {
		return n, err
	}
	if lookErr != nil {
		return n, fmt.Errorf("services: fill archive countries: %w", lookErr)
	}
	return n, nil
}

// Settings keys of the map's colour thresholds.
const (
	SettingMapLow    = "map_threshold_low"
	SettingMapMedium = "map_threshold_medium"
	SettingMapHigh   = "map_threshold_high"
)

// Field names of the thresholds form.
const (
	FieldMapLow    = "low"
	FieldMapMedium = "medium"
	FieldMapHigh   = "high"
)

// lookupBudget is how long a page waits for its addresses' countries.
const lookupBudget = 1500 * time.Millisecond

// CountryUnknown filters the map's table to the bans without a known country.
const CountryUnknown = "unknown"

// GeoDatabases is the local resolver as the geo service sees it; *geo.MMDB has it.
type GeoDatabases interface {
	Refresh() (bool, error)
	Status() (country, asn geo.DBStatus)
}

// Geo is the use case behind countries: answering where the addresses on a
// page are (from the cache, never writing), keeping the cache and the
// archive's countries up to date in background jobs, re-resolving unknown
// addresses on request, and the world map.
type Geo struct {
	cache    *geo.Cache
	base     geo.Resolver // uncached, for the archive
	dbs      GeoDatabases // may be nil
	archive  CountryArchive
	settings repo.Settings
	online   bool
	log      *slog.Logger
	now      func() time.Time
	closer   io.Closer // the local databases, closed by Close; may be nil
}

// NewGeo wires the geo use case: cache answers pages, base (the resolver
// behind the cache) fills the archive, dbs reports and reloads the local
// files (nil when there are none), online says whether base sends addresses
// to an online service.
func NewGeo(cache *geo.Cache, base geo.Resolver, dbs GeoDatabases, archive CountryArchive, settings repo.Settings, online bool, log *slog.Logger) *Geo {
	if log == nil {
		log = slog.Default()
	}
	return &Geo{cache: cache, base: base, dbs: dbs, archive: archive, settings: settings, online: online, log: log, now: time.Now}
}

// Lookup answers where each address is, for display. It reads the cache
// (memory, then the database) and resolves misses, but writes nothing: new
// answers wait for the flush job. Failures are logged and shown as unknown.
func (g *Geo) Lookup(ctx context.Context, ips []string) map[string]models.GeoInfo {
	if g == nil || len(ips) == 0 {
		return nil
	}
	// The local database answers in microseconds; only an online resolver
	// (opt-in, rate-limited) can be slow, and a page does not wait for it
	// long: what it could not answer shows as unknown and is not cached.
	ctx, cancel := context.WithTimeout(ctx, lookupBudget)
	defer cancel()
	got, err := g.cache.LookupMany(ctx, ips)
	if err != nil && !errors.Is(err, geo.ErrNoDatabase) && !errors.Is(err, geo.ErrInvalidIP) {
		g.log.Warn("geo lookup failed", "err", err, "addresses", len(ips))
	}
	if got == nil {
		got = map[string]models.GeoInfo{}
	}
	return got
}

// ForRecords says where the addresses of ban records are: the archive's
// stored country when the record has one, else the cache's answer (which
// also names private and reserved ranges). Like Lookup it never writes.
func (g *Geo) ForRecords(ctx context.Context, recs []models.BanRecord) map[string]models.GeoInfo {
	out := make(map[string]models.GeoInfo, len(recs))
	var ask []string
	for _, r := range recs {
		if r.Country != "" {
			out[r.IP] = models.GeoInfo{IP: r.IP, CountryCode: r.Country, CountryName: models.CountryName(r.Country)}
		} else if _, seen := out[r.IP]; !seen {
			out[r.IP] = models.GeoInfo{IP: r.IP}
			ask = append(ask, r.IP)
		}
	}
	for ip, gi := range g.Lookup(ctx, ask) {
		out[ip] = gi
	}
	return out
}

// Flush writes the cache's new answers to the database (flush job).
func (g *Geo) Flush(ctx context.Context) (int, error) { return g.cache.Flush(ctx) }

// Cleanup removes cache entries unseen for 90 days (cleanup job).
func (g *Geo) Cleanup(ctx context.Context) (int64, error) { return g.cache.Cleanup(ctx) }

// FillArchive stores the countries of archived events that have none yet
// (fill job, and after each archive sync).
func (g *Geo) FillArchive(ctx context.Context) (int64, error) {
	n, err := FillArchiveCountries(ctx, g.archive, g.base)
	if errors.Is(err, geo.ErrNoDatabase) {
		return n, nil // nothing to do until a database is installed
	}
	return n, err
}

// FillCountriesOf stores the countries of the given addresses on their
// archived events that have none yet (the archive sync, for the rows it
// just copied), fillBatch addresses at a time.
func (g *Geo) FillCountriesOf(ctx context.Context, ips []string) (int64, error) {
	var total int64
	for len(ips) > 0 {
		batch := ips[:min(len(ips), fillBatch)]
		ips = ips[len(batch):]
		n, err := fillCountries(ctx, g.archive, g.base, batch)
		total += n
		if errors.Is(err, geo.ErrNoDatabase) {
			return total, nil // nothing to do until a database is installed
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// RefreshDatabases reloads the local database files when they appeared or
// changed (job). After a change, the unknown answers are forgotten so that
// they are looked up again.
func (g *Geo) RefreshDatabases(ctx context.Context) (bool, error) {
	if g.dbs == nil {
		return false, nil
	}
	changed, err := g.dbs.Refresh()
	if changed {
		g.cache.ForgetUnknown()
		if _, rerr := g.archive.ResetUnknownCountries(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		g.log.Info("geo databases reloaded", "status", g.Status())
	}
	return changed, err
}

// ReResolveReport says what ReResolveUnknown did.
type ReResolveReport struct {
	Asked    int   // cached addresses without a country that were looked up again
	Resolved int   // of those, how many now have a country
	Archived int64 // archived events that got their country
}

// ReResolveUnknown looks up again every address known only as unknown:
// the cache's failed lookups (ignoring the negative cache) and the archive's
// events without a country. It reloads changed database files first.
func (g *Geo) ReResolveUnknown(ctx context.Context) (ReResolveReport, error) {
	var rep ReResolveReport
	if g.dbs != nil {
		if _, err := g.dbs.Refresh(); err != nil {
			g.log.Warn("geo database reload failed", "err", err)
		}
	}
	res, err := g.cache.ReResolveUnknown(ctx)
	rep.Asked, rep.Resolved = res.Asked, res.Resolved
	if err != nil && !errors.Is(err, geo.ErrNoDatabase) {
		return rep, err
	}
	if _, err := g.archive.ResetUnknownCountries(ctx); err != nil {
		return rep, err
	}
	rep.Archived, err = g.FillArchive(ctx)
	return rep, err
}

// Status says where country answers come from.
func (g *Geo) Status() models.GeoStatus {
	st := models.GeoStatus{Online: g.online}
	if g.dbs != nil {
		c, a := g.dbs.Status()
		st.Country, st.ASN = models.GeoDBStatus(c), models.GeoDBStatus(a)
	}
	return st
}

// Thresholds returns the map's colour thresholds (defaults when unset).
func (g *Geo) Thresholds(ctx context.Context) (models.MapThresholds, error) {
	t := models.DefaultMapThresholds
	all, err := g.settings.All(ctx)
	if err != nil {
		return t, err
	}
	for key, dst := range map[string]*int64{SettingMapLow: &t.Low, SettingMapMedium: &t.Medium, SettingMapHigh: &t.High} {
		if v, ok := all[key]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				*dst = n
			}
		}
	}
	if !(t.Low < t.Medium && t.Medium < t.High) {
		return models.DefaultMapThresholds, nil
	}
	return t, nil
}

// ThresholdsInput is what the thresholds form submits.
type ThresholdsInput struct {
	Low, Medium, High string
}

// SetThresholds validates and saves the map's colour thresholds.
func (g *Geo) SetThresholds(ctx context.Context, in ThresholdsInput) (models.MapThresholds, error) {
	var t models.MapThresholds
	verr := &ValidationError{}
	parse := func(field, v string, dst *int64) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1 || n > 1_000_000_000 {
			verr.Add(field, lang.M("bans.map_threshold_range"))
			return
		}
		*dst = n
	}
	parse(FieldMapLow, in.Low, &t.Low)
	parse(FieldMapMedium, in.Medium, &t.Medium)
	parse(FieldMapHigh, in.High, &t.High)
	if verr.Empty() {
		if t.Medium <= t.Low {
			verr.Add(FieldMapMedium, lang.M("bans.map_medium_above_low"))
		}
		if t.High <= t.Medium {
			verr.Add(FieldMapHigh, lang.M("bans.map_high_above_medium"))
		}
	}
	if !verr.Empty() {
		return t, verr
	}
	err := g.settings.SetMany(ctx, map[string]string{
		SettingMapLow:    strconv.FormatInt(t.Low, 10),
		SettingMapMedium: strconv.FormatInt(t.Medium, 10),
		SettingMapHigh:   strconv.FormatInt(t.High, 10),
	})
	return t, err
}

// MapQuery asks for the world map: a time window, an origin, optionally one
// country (an ISO code, or CountryUnknown) and a page of its bans.
type MapQuery struct {
	Host    string // a host id; "" for every host
	Range   models.TimeRange
	Origin  models.Origin
	Country string
	Page    models.Page
}

// MapData is everything the map page shows.
type MapData struct {
	Counts     []models.CountryCount     // known countries, most bans first
	Total      int64                     // bans in the window
	Unknown    int64                     // of those, without a known country
	Bans       []models.BanRecord        // the page of the table
	BansTotal  int64                     // rows of the table in all
	Geo        map[string]models.GeoInfo // where the table's addresses are
	Thresholds models.MapThresholds
}

// ParseCountry normalises a country filter from a URL: an ISO code the
// panel knows (upper case), CountryUnknown, or "" for none.
func ParseCountry(v string) string {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, CountryUnknown) {
		return CountryUnknown
	}
	v = strings.ToUpper(v)
	if len(v) == 2 && models.CountryName(v) != "" {
		return v
	}
	return ""
}

// Map returns the ban counts per country in the query's window and origin,
// and one page of the bans of the chosen country (all bans when none).
// Only ban events count; the archive supplies both (it stores each event's
// country, so nothing is looked up here). It is one aggregation and one
// page read: the table's size comes from the counts.
func (g *Geo) Map(ctx context.Context, q MapQuery) (MapData, error) {
	var d MapData
	var err error
	if d.Thresholds, err = g.Thresholds(ctx); err != nil {
		return d, err
	}
	f := models.HistoryFilter{Host: q.Host, Since: g.now().Add(-q.Range.Duration()), Origin: q.Origin, Action: repo.ActionBan}
	counts, err := g.archive.CountsByCountry(ctx, f)
	if err != nil {
		return d, err
	}
	for _, c := range counts {
		d.Total += c.Count
		if c.Code == "" {
			d.Unknown += c.Count
			continue
		}
		d.Counts = append(d.Counts, c)
	}
	// The counts say how many rows the table has: the page query counts nothing.
	country := q.Country
	switch country {
	case "":
		country, d.BansTotal = repo.AnyCountry, d.Total
	case CountryUnknown:
		country, d.BansTotal = "", d.Unknown
	default:
		for _, c := range d.Counts {
			if c.Code == country {
				d.BansTotal = c.Count
			}
		}
	}
	d.Bans, err = g.archive.PageOfCountry(ctx, f, country, d.BansTotal, q.Page)
	d.Geo = g.ForRecords(ctx, d.Bans)
	return d, err
}

// GeoConfig says where countries come from.
type GeoConfig struct {
	CountryDB string // country .mmdb file (may not exist yet)
	ASNDB     string // GeoLite2-ASN compatible .mmdb file (optional)
	OnlineURL string // batch endpoint of an online resolver; "" keeps every address on the host
}

// OpenGeo builds the geo use case: the local databases (a missing or broken
// file is logged, not fatal: countries show as unknown until a database is
// there), the online resolver when configured, and the cache persisted in
// store; settings hold the map's thresholds. Close flushes the cache and
// closes the files.
func OpenGeo(cfg GeoConfig, store repo.GeoCache, settings repo.Settings, archive CountryArchive, log *slog.Logger) *Geo {
	if log == nil {
		log = slog.Default()
	}
	local := geo.NewMMDB(cfg.CountryDB, cfg.ASNDB)
	if _, err := local.Refresh(); err != nil {
		log.Warn("geo database not usable; countries show as unknown", "err", err)
	}
	if !local.Available() {
		log.Info("no country database yet; countries show as unknown (run scripts/fetch-geo.sh or see the README)", "path", cfg.CountryDB)
	}
	var base geo.Resolver = local
	if cfg.OnlineURL != "" {
		base = geo.Chain{local, geo.NewOnline(cfg.OnlineURL, nil)}
		log.Info("online geo resolver on: addresses unknown locally are sent to it", "url", cfg.OnlineURL)
	}
	cache := geo.NewCache(base, store, 0)
	g := NewGeo(cache, base, local, archive, settings, cfg.OnlineURL != "", log)
	g.closer = local
	return g
}

// Close writes the cache's pending answers and closes the database files.
func (g *Geo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := g.cache.Flush(ctx)
	if g.closer != nil {
		err = errors.Join(err, g.closer.Close())
	}
	return err
}

// MapTable returns only the table of the map page (for its pager): one page
// of the chosen country's bans and how many there are. With a country it
// counts that country's bans alone instead of every country's.
func (g *Geo) MapTable(ctx context.Context, q MapQuery) ([]models.BanRecord, int64, error) {
	if q.Country == "" {
		d, err := g.Map(ctx, q)
		return d.Bans, d.BansTotal, err
	}
	f := models.HistoryFilter{Host: q.Host, Since: g.now().Add(-q.Range.Duration()), Origin: q.Origin, Action: repo.ActionBan}
	country := q.Country
	if country == CountryUnknown {
		country = ""
	}
	return g.archive.BansOfCountry(ctx, f, country, q.Page)
}
