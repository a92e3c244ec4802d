package repo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// The PostgreSQL archive's BanSource queries, its counts per country and
// its country fill. The counts go through the result cache.

// pgWhere turns a filter into plain conditions on history_archive; the
// planner picks the index (see migrations/postgres).
func pgWhere(f models.HistoryFilter) sqlkit.Where {
	var w sqlkit.Where
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		w.Add("timeofban >= ?", since)
	}
	pgFilter(&w, f)
	return w
}

// pgFilter adds every condition of f but its window to w.
func pgFilter(w *sqlkit.Where, f models.HistoryFilter) {
	if f.Host != "" {
		w.Add("host = ?", pgText(f.Host))
	}
	if f.Jail != "" {
		w.Add("jail = ?", pgText(f.Jail))
	}
	if f.Origin != models.OriginAll {
		w.Add("origin = ?", string(f.Origin))
	}
	if f.Action != "" {
		w.Add("action = ?", f.Action)
	}
	if f.IPPrefix != "" {
		pgPrefix(w, "ip", f.IPPrefix)
	}
}

// page returns one page of the events matching w, newest first (ties by
// id), of total in all: the ids of the page are found on an index in the
// span's order, then their rows are read.
func (s *postgresArchive) page(ctx context.Context, w sqlkit.Where, total int64, page models.Page) ([]models.BanRecord, error) {
	limit, offset := sqlkit.NormPage(page)
	if offset >= total {
		return nil, nil
	}
	ps := sqlkit.SpanOf(total, limit, offset)
	q := `SELECT ` + archiveColumns + ` FROM history_archive WHERE id IN (
		SELECT id FROM history_archive` + w.Clause() + ` ORDER BY ` + ps.Order("timeofban", "id") + ` LIMIT ? OFFSET ?)
		ORDER BY timeofban DESC, id DESC`
	return s.records(ctx, q, append(w.Args(), ps.Limit, ps.Offset)...)
}

// Bans returns one page of archived events matching f (Action included),
// newest first, and how many match in all.
func (s *postgresArchive) Bans(ctx context.Context, f models.HistoryFilter, page models.Page) ([]models.BanRecord, int64, error) {
	w := pgWhere(f)
	cq, cargs := `SELECT count(*) FROM history_archive`+w.Clause(), w.Args()
	if canRollUp(f) {
		q, args := jailRollup(f)
		cq, cargs = `SELECT coalesce(sum(n), 0)::bigint FROM (`+q+`) t`, args
	}
	total, err := s.cachedCount(ctx, "count", f, cq, cargs...)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.page(ctx, w, total, page)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: archive page: %w", dbError(err))
	}
	return out, total, nil
}

func (s *postgresArchive) countsByBucket(ctx context.Context, f models.HistoryFilter, bucket time.Duration, buckets int) ([]int64, error) {
	width, start, end, err := bucketWindow(s.now(), bucket, buckets)
	if err != nil {
		return nil, err
	}
	out := make([]int64, buckets)
	if buckets == 0 {
		return out, nil
	}
	lower := max(start, sqlkit.SinceUnix(f.Since))
	if canRollUpHours(f, width) {
		return s.hourBuckets(ctx, f, start, width, lower, end, buckets)
	}
	var w sqlkit.Where
	w.Add("timeofban >= ?", lower)
	w.Add("timeofban < ?", end)
	pgFilter(&w, f)
	rows, err := s.query(ctx, `SELECT (timeofban - ?::bigint) / ?::bigint AS b, count(*) FROM history_archive`+w.Clause()+` GROUP BY b`,
		append([]any{start, width}, w.Args()...)...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by bucket: %w", dbError(err))
	}
	return scanBuckets(rows, out)
}

func (s *postgresArchive) countsByJail(ctx context.Context, f models.HistoryFilter) (int64, []models.JailCount, error) {
	w := pgWhere(f)
	q, args := `SELECT jail, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY jail ORDER BY n DESC, jail`, w.Args()
	if canRollUp(f) {
		q, args = jailRollup(f)
		q = `SELECT k, n FROM (` + q + `) t WHERE n > 0 ORDER BY n DESC, k`
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("repo: archive count by jail: %w", dbError(err))
	}
	return scanJailCounts(rows, pgPlain)
}

// CountsByIP returns how many archived events match f per IP, the most
// frequent IP first (ties by IP).
func (s *postgresArchive) CountsByIP(ctx context.Context, f models.HistoryFilter) ([]models.IPCount, error) {
	w := pgWhere(f)
	rows, err := s.query(ctx, `SELECT ip, count(*) AS n FROM history_archive`+w.Clause()+` GROUP BY ip ORDER BY n DESC, ip`, w.Args()...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by IP: %w", dbError(err))
	}
	return scanIPCounts(rows, pgPlain)
}

func (s *postgresArchive) countsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	w := pgWhere(f)
	q, args := `SELECT coalesce(country_code, ''), count(*) FROM history_archive`+w.Clause()+` GROUP BY 1`, w.Args()
	if canRollUpCountry(f) {
		q, args = countryRollup(f)
		q = `SELECT k, n FROM (` + q + `) t WHERE n > 0`
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
	}
	defer rows.Close()
	var out []models.CountryCount
	var unknown int64
	for rows.Next() {
		var c models.CountryCount
		if err := rows.Scan(&c.Code, &c.Count); err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
		}
		if c.Code == "" {
			unknown += c.Count
			continue
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
	}
	sortCountryCounts(out)
	if unknown > 0 {
		out = append(out, models.CountryCount{Code: "", Count: unknown})
	}
	return out, nil
}

// countryWhere is f's conditions on the events of one country: an ISO
// code, "" for the events without a known country (NULL or ""), or
// AnyCountry.
func pgCountryWhere(f models.HistoryFilter, country string) sqlkit.Where {
	w := pgWhere(f)
	switch country {
	case AnyCountry:
	case "":
		w.Add("(country_code IS NULL OR country_code = '')")
	default:
		w.Add("country_code = ?", pgText(strings.ToUpper(country)))
	}
	return w
}

// BansOfCountry returns one page of the archived events matching f from one
// country (an ISO code; "" for the events without a known country), newest
// first, and how many match in all.
func (s *postgresArchive) BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error) {
	w := pgCountryWhere(f, country)
	q, args := `SELECT count(*) FROM history_archive`+w.Clause(), w.Args()
	if canRollUpCountry(f) && country != AnyCountry {
		q, args = countryRollup(f)
		q = `SELECT coalesce(sum(n), 0)::bigint FROM (` + q + `) t WHERE k = ?`
		args = append(args, pgText(strings.ToUpper(country)))
	}
	total, err := s.count(ctx, "bans of country", q, args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.page(ctx, w, total, page)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: archive page of country: %w", dbError(err))
	}
	return out, total, nil
}

// PageOfCountry returns one page of the archived events matching f from
// one country (an ISO code, "" for the events without a known country, or
// AnyCountry), newest first, when the caller already knows how many there
// are in all: it counts nothing itself.
func (s *postgresArchive) PageOfCountry(ctx context.Context, f models.HistoryFilter, country string, total int64, page models.Page) ([]models.BanRecord, error) {
	out, err := s.page(ctx, pgCountryWhere(f, country), total, page)
	if err != nil {
		return nil, fmt.Errorf("repo: archive page of country: %w", dbError(err))
	}
	return out, nil
}

// IPsWithoutCountry returns up to limit distinct addresses whose archived
// events have no country yet (NULL), in address order: a walk of the
// partial index history_archive_no_country.
func (s *postgresArchive) IPsWithoutCountry(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT ip FROM history_archive WHERE country_code IS NULL ORDER BY ip LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("repo: archive IPs without country: %w", dbError(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			return nil, fmt.Errorf("repo: archive IPs without country: %w", dbError(err))
		}
		out = append(out, pgPlain(ip))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive IPs without country: %w", dbError(err))
	}
	return out, nil
}

// SetCountries stores the country of each address ("" for looked up
// without a country) on its archived events that have none yet, in one
// statement, and returns how many events it updated.
func (s *postgresArchive) SetCountries(ctx context.Context, countries map[string]string) (int64, error) {
	if len(countries) == 0 {
		return 0, nil
	}
	ips := make([]string, 0, len(countries))
	codes := make([]string, 0, len(countries))
	for ip, code := range countries {
		ips = append(ips, pgText(ip))
		codes = append(codes, pgText(strings.ToUpper(code)))
	}
	n, err := s.exec(ctx, `UPDATE history_archive AS h SET country_code = v.code
		FROM unnest(?::text[], ?::text[]) AS v(ip, code)
		WHERE h.ip = v.ip AND h.country_code IS NULL`, ips, codes)
	if err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
	}
	return n, nil
}

// ResetUnknownCountries turns the events looked up without a country ("")
// back into not looked up (NULL), so the fill job tries them again, and
// returns how many it reset.
func (s *postgresArchive) ResetUnknownCountries(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, `UPDATE history_archive SET country_code = NULL WHERE country_code = ''`)
	if err != nil {
		return 0, fmt.Errorf("repo: archive reset unknown countries: %w", dbError(err))
	}
	return n, nil
}

// CountWithoutCountry counts the archived events not looked up yet (NULL).
func (s *postgresArchive) CountWithoutCountry(ctx context.Context) (int64, error) {
	return s.count(ctx, "count without country", `SELECT count(*) FROM history_archive WHERE country_code IS NULL`)
}
