package repo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// The archive's country column: NULL means not looked up yet, "" means
// looked up without finding a country (unknown, private, reserved), and a
// two-letter upper-case code is the country.

// countryWhere turns a filter into conditions that the
// history_archive_country index can check on its entries. Every condition
// carries a unary + except the country itself, so SQLite walks that index
// rather than a time index that lacks the column (jail and IP prefix are
// checked on the row).
func countryWhere(f models.HistoryFilter) sqlkit.Where {
	return countryFilter(f, "+timeofban")
}

// countryFilter is countryWhere with the time column spelled as timeCol:
// "timeofban" makes the window a range of the index after an equality on
// the country.
func countryFilter(f models.HistoryFilter, timeCol string) sqlkit.Where {
	var w sqlkit.Where
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		w.Add(timeCol+" >= ?", since)
	}
	if f.Action != "" {
		w.Add("+action = ?", f.Action)
	}
	if f.Origin != models.OriginAll {
		w.Add("+origin = ?", string(f.Origin))
	}
	if f.Jail != "" {
		w.Add("+jail = ?", f.Jail)
	}
	if f.IPPrefix != "" {
		w.Prefix("+ip", f.IPPrefix)
	}
	return w
}

// smallWindow is how many events a time window may hold for
// CountsByCountry to read it through history_archive_time_country (a range
// of the window, then a sort of its rows) rather than walking the whole
// history_archive_country index in country order.
const smallWindow = 50_000

// countsByCountry is CountsByCountry without the cache. It is one GROUP BY: over
// the window's range of history_archive_time_country when the window holds
// at most smallWindow events (checked with a bounded count), otherwise over
// the whole history_archive_country index, which streams the groups; ban
// events without jail or IP prefix take banCountryCounts' key ranges instead.
func (s *HistoryArchiveStore) countsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	var queries []string
	var args [][]any
	small, err := s.smallWindow(ctx, f)
	if err != nil {
		return nil, err
	}
	if small {
		var w sqlkit.Where
		w.Add("timeofban >= ?", sqlkit.SinceUnix(f.Since))
		if f.Action != "" {
			w.Add("action = ?", f.Action)
		}
		if f.Origin != models.OriginAll {
			w.Add("origin = ?", string(f.Origin))
		}
		queries = append(queries, `SELECT ifnull(country_code, ''), count(*) FROM history_archive INDEXED BY history_archive_time_country`+
			w.Clause()+` GROUP BY country_code`)
		args = append(args, w.Args())
	} else if f.Action == ActionBan && f.Jail == "" && f.IPPrefix == "" {
		q, a := banCountryCounts(f)
		queries, args = append(queries, q), append(args, a)
	} else {
		w := countryWhere(f)
		w.Add("country_code >= ?", "") // walk the index from its first non-NULL entry
		queries = append(queries, `SELECT country_code, count(*) FROM history_archive`+w.Clause()+` GROUP BY country_code`)
		args = append(args, w.Args())
		w = countryWhere(f)
		w.Add("country_code IS NULL")
		queries = append(queries, `SELECT '', count(*) FROM history_archive`+w.Clause())
		args = append(args, w.Args())
	}
	var out []models.CountryCount
	var unknown int64
	for i, q := range queries {
		rows, err := s.sql.QueryContext(ctx, q, args[i]...)
		if err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
		}
		for rows.Next() {
			var c models.CountryCount
			if err := rows.Scan(&c.Code, &c.Count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
			}
			if c.Code == "" {
				unknown += c.Count
				continue
			}
			out = append(out, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", dbError(err))
		}
	}
	sortCountryCounts(out)
	if unknown > 0 {
		out = append(out, models.CountryCount{Code: "", Count: unknown})
	}
	return out, nil
}

// smallWindow reports whether f is a time window on the columns of
// history_archive_time_country that holds at most smallWindow events. The
// count stops early, so asking costs at most smallWindow index steps.
func (s *HistoryArchiveStore) smallWindow(ctx context.Context, f models.HistoryFilter) (bool, error) {
	since := sqlkit.SinceUnix(f.Since)
	if since == 0 || f.Jail != "" || f.IPPrefix != "" {
		return false, nil
	}
	n, err := s.count(ctx, "window size", `SELECT count(*) FROM (SELECT 1 FROM history_archive
		INDEXED BY history_archive_time_country WHERE timeofban >= ? LIMIT ?)`, since, smallWindow+1)
	return n <= smallWindow, err
}

func sortCountryCounts(cs []models.CountryCount) {
	// insertion sort is plenty for ~250 countries and keeps ties by code
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].Count > cs[j-1].Count || cs[j].Count == cs[j-1].Count && cs[j].Code < cs[j-1].Code); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// AnyCountry asks PageOfCountry for the events of every country.
const AnyCountry = "*"

// BansOfCountry returns one page of the archived events matching f from one
// country (an ISO code; "" for the events without a known country), newest
// first, and how many match in all.
func (s *HistoryArchiveStore) BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error) {
	var total int64
	for _, c := range countryClauses(f, country) {
		n, err := s.count(ctx, "bans of country", `SELECT count(*) FROM history_archive`+c.Clause(), c.Args()...)
		if err != nil {
			return nil, 0, err
		}
		total += n
	}
	out, err := s.PageOfCountry(ctx, f, country, total, page)
	return out, total, err
}

// PageOfCountry returns one page of the archived events matching f from
// one country (an ISO code, "" for the events without a known country, or
// AnyCountry), newest first, when the caller already knows how many there
// are in all (from CountsByCountry): it counts nothing itself. Pages past
// the middle are read from the oldest end.
func (s *HistoryArchiveStore) PageOfCountry(ctx context.Context, f models.HistoryFilter, country string, total int64, page models.Page) ([]models.BanRecord, error) {
	limit, offset := sqlkit.NormPage(page)
	if offset >= total {
		return nil, nil
	}
	ps := sqlkit.SpanOf(total, limit, offset)
	var arms []string
	var args []any
	for _, c := range countryClauses(f, country) {
		arms = append(arms, `SELECT id, timeofban FROM history_archive`+c.Clause())
		args = append(args, c.Args()...)
	}
	inner := arms[0] + ` ORDER BY ` + ps.Order("timeofban", "id")
	if len(arms) > 1 {
		inner = `SELECT id FROM (` + strings.Join(arms, " UNION ALL ") + `) ORDER BY ` + ps.Order("timeofban", "id")
	} else {
		inner = strings.Replace(inner, "SELECT id, timeofban", "SELECT id", 1)
	}
	q := `SELECT ` + archiveColumns + ` FROM history_archive WHERE id IN (` + inner + ` LIMIT ? OFFSET ?)
		ORDER BY timeofban DESC, id DESC`
	out, err := s.records(ctx, q, append(args, ps.Limit, ps.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive page of country: %w", dbError(err))
	}
	return out, nil
}

// countryClauses are the conditions of one country's events: one clause
// for a country (walking history_archive_country in time order) or for
// AnyCountry (the archive's own time filter), two for the unknown ones
// (NULL and "", two ranges of the country index).
func countryClauses(f models.HistoryFilter, country string) []sqlkit.Where {
	switch country {
	case AnyCountry:
		return []sqlkit.Where{archiveWhere(f)}
	case "":
		var out []sqlkit.Where
		for _, cond := range []string{"country_code IS NULL", "country_code = ''"} {
			w := countryFilter(f, "timeofban")
			w.Add(cond)
			out = append(out, w)
		}
		return out
	}
	w := countryFilter(f, "timeofban")
	w.Add("country_code = ?", strings.ToUpper(country))
	return []sqlkit.Where{w}
}

// IPsWithoutCountry returns up to limit distinct addresses whose archived
// events have no country yet (NULL), in address order.
func (s *HistoryArchiveStore) IPsWithoutCountry(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT DISTINCT ip FROM (
		SELECT ip FROM history_archive WHERE country_code IS NULL LIMIT ?) ORDER BY ip`, limit*8)
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
		out = append(out, ip)
		if len(out) == limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive IPs without country: %w", dbError(err))
	}
	return out, nil
}

// SetCountries stores the country of each address ("" for looked up
// without a country) on its archived events that have none yet, in one
// transaction, and returns how many events it updated.
func (s *HistoryArchiveStore) SetCountries(ctx context.Context, countries map[string]string) (int64, error) {
	if len(countries) == 0 {
		return 0, nil
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE history_archive SET country_code = ? WHERE ip = ? AND country_code IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
	}
	defer stmt.Close()
	var total int64
	for ip, code := range countries {
		res, err := stmt.ExecContext(ctx, strings.ToUpper(code), ip)
		if err != nil {
			return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", dbError(err))
	}
	return total, nil
}

// ResetUnknownCountries turns the events looked up without a country ("")
// back into not looked up (NULL), so the fill job tries them again, and
// returns how many it reset.
func (s *HistoryArchiveStore) ResetUnknownCountries(ctx context.Context) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `UPDATE history_archive SET country_code = NULL WHERE country_code = ''`)
	if err != nil {
		return 0, fmt.Errorf("repo: archive reset unknown countries: %w", dbError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repo: archive reset unknown countries: %w", dbError(err))
	}
	return n, nil
}

// CountWithoutCountry counts the archived events not looked up yet (NULL).
func (s *HistoryArchiveStore) CountWithoutCountry(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE country_code IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive count without country: %w", dbError(err))
	}
	return n.Int64, nil
}
