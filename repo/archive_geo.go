package repo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"bangui/models"
)

// The archive's country column: NULL means not looked up yet, "" means
// looked up without finding a country (unknown, private, reserved), and a
// two-letter upper-case code is the country.

// countryWhere turns a filter into conditions that the
// history_archive_country index can check on its entries. Every condition
// carries a unary + except the country itself, so SQLite walks that index
// rather than a time index that lacks the column (jail and IP prefix are
// checked on the row).
func countryWhere(f models.HistoryFilter) where {
	var w where
	if since := sinceUnix(f.Since); since > 0 {
		w.add("+timeofban >= ?", since)
	}
	if f.Action != "" {
		w.add("+action = ?", f.Action)
	}
	if f.Origin != models.OriginAll {
		w.add("+origin = ?", string(f.Origin))
	}
	if f.Jail != "" {
		w.add("+jail = ?", f.Jail)
	}
	if f.IPPrefix != "" {
		w.ipPrefix("+ip", f.IPPrefix)
	}
	return w
}

// CountsByCountry counts the archived events matching f per country, the
// biggest first (ties by code). Events without a known country (NULL or
// "") are counted together under Code "". It is one GROUP BY over the
// history_archive_country index.
func (s *HistoryArchiveStore) CountsByCountry(ctx context.Context, f models.HistoryFilter) ([]models.CountryCount, error) {
	w := countryWhere(f)
	w.add("country_code >= ?", "") // walk the index from its first non-NULL entry
	rows, err := s.sql.QueryContext(ctx, `SELECT country_code, count(*) FROM history_archive`+w.clause()+` GROUP BY country_code`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("repo: archive count by country: %w", err)
	}
	defer rows.Close()
	var out []models.CountryCount
	var unknown int64
	for rows.Next() {
		var c models.CountryCount
		if err := rows.Scan(&c.Code, &c.Count); err != nil {
			return nil, fmt.Errorf("repo: archive count by country: %w", err)
		}
		if c.Code == "" {
			unknown += c.Count
			continue
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: archive count by country: %w", err)
	}
	w = countryWhere(f)
	w.add("country_code IS NULL")
	n, err := s.count(ctx, "count without country", `SELECT count(*) FROM history_archive`+w.clause(), w.args...)
	if err != nil {
		return nil, err
	}
	unknown += n
	sortCountryCounts(out)
	if unknown > 0 {
		out = append(out, models.CountryCount{Code: "", Count: unknown})
	}
	return out, nil
}

func sortCountryCounts(cs []models.CountryCount) {
	// insertion sort is plenty for ~250 countries and keeps ties by code
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].Count > cs[j-1].Count || cs[j].Count == cs[j-1].Count && cs[j].Code < cs[j-1].Code); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// BansOfCountry returns one page of the archived events matching f from one
// country (an ISO code; "" for the events without a known country), newest
// first, and how many match in all.
func (s *HistoryArchiveStore) BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error) {
	limit, offset := normPage(page)
	var clauses []string
	var args []any
	if country == "" {
		// Two index ranges: not looked up yet, and looked up without a country.
		for _, cond := range []string{"country_code IS NULL", "country_code = ''"} {
			w := countryWhere(f)
			w.add(cond)
			clauses, args = append(clauses, w.clause()), append(args, w.args...)
		}
	} else {
		w := countryWhere(f)
		w.add("country_code = ?", strings.ToUpper(country))
		clauses, args = append(clauses, w.clause()), w.args
	}
	var total int64
	ids := make([]string, len(clauses))
	for i, c := range clauses {
		var n int64
		if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM history_archive`+c, argsOf(clauses, args, i)...).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("repo: archive bans of country: %w", err)
		}
		total += n
		ids[i] = `SELECT id, timeofban FROM history_archive` + c
	}
	if offset >= total {
		return nil, total, nil
	}
	q := `SELECT ` + archiveColumns + ` FROM history_archive WHERE id IN (
		SELECT id FROM (` + strings.Join(ids, " UNION ALL ") + `) ORDER BY timeofban DESC, id DESC LIMIT ? OFFSET ?)
		ORDER BY timeofban DESC, id DESC`
	out, err := s.records(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: archive bans of country: %w", err)
	}
	return out, total, nil
}

// argsOf returns the parameters of the i-th clause when args holds the
// parameters of all clauses in order.
func argsOf(clauses []string, args []any, i int) []any {
	start := 0
	for j := range i {
		start += strings.Count(clauses[j], "?")
	}
	return args[start : start+strings.Count(clauses[i], "?")]
}

// IPsWithoutCountry returns up to limit distinct addresses whose archived
// events have no country yet (NULL), in address order.
func (s *HistoryArchiveStore) IPsWithoutCountry(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT DISTINCT ip FROM (
		SELECT ip FROM history_archive WHERE country_code IS NULL LIMIT ?) ORDER BY ip`, limit*8)
	if err != nil {
		return nil, fmt.Errorf("repo: archive IPs without country: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			return nil, fmt.Errorf("repo: archive IPs without country: %w", err)
		}
		out = append(out, ip)
		if len(out) == limit {
			break
		}
	}
	return out, rows.Err()
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
		return 0, fmt.Errorf("repo: archive set countries: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE history_archive SET country_code = ? WHERE ip = ? AND country_code IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", err)
	}
	defer stmt.Close()
	var total int64
	for ip, code := range countries {
		res, err := stmt.ExecContext(ctx, strings.ToUpper(code), ip)
		if err != nil {
			return 0, fmt.Errorf("repo: archive set countries: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("repo: archive set countries: %w", err)
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("repo: archive set countries: %w", err)
	}
	return total, nil
}

// ResetUnknownCountries turns the events looked up without a country ("")
// back into not looked up (NULL), so the fill job tries them again, and
// returns how many it reset.
func (s *HistoryArchiveStore) ResetUnknownCountries(ctx context.Context) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `UPDATE history_archive SET country_code = NULL WHERE country_code = ''`)
	if err != nil {
		return 0, fmt.Errorf("repo: archive reset unknown countries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repo: archive reset unknown countries: %w", err)
	}
	return n, nil
}

// CountWithoutCountry counts the archived events not looked up yet (NULL).
func (s *HistoryArchiveStore) CountWithoutCountry(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE country_code IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive count without country: %w", err)
	}
	return n.Int64, nil
}
