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
// two-letter upper-case code is the country. The pages of one country and
// the fill of the column are here; the counts per country are in
// archive_sqlite_counts.go.

// BansOfCountry returns one page of the archived events matching f from one
// country (an ISO code; "" for the events without a known country), newest
// first, and how many match in all.
func (s *sqliteArchive) BansOfCountry(ctx context.Context, f models.HistoryFilter, country string, page models.Page) ([]models.BanRecord, int64, error) {
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
func (s *sqliteArchive) PageOfCountry(ctx context.Context, f models.HistoryFilter, country string, total int64, page models.Page) ([]models.BanRecord, error) {
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

// IPsWithoutCountry returns up to limit distinct addresses whose archived
// events have no country yet (NULL), in address order.
func (s *sqliteArchive) IPsWithoutCountry(ctx context.Context, limit int) ([]string, error) {
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
func (s *sqliteArchive) SetCountries(ctx context.Context, countries map[string]string) (int64, error) {
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
func (s *sqliteArchive) ResetUnknownCountries(ctx context.Context) (int64, error) {
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
func (s *sqliteArchive) CountWithoutCountry(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE country_code IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("repo: archive count without country: %w", dbError(err))
	}
	return n.Int64, nil
}
