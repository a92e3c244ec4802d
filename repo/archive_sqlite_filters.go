package repo

import (
	"strings"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// The conditions and statements the SQLite archive builds from a filter,
// each shaped so that SQLite's planner takes the index meant for it.

// hostWhere adds the filter's host, if any, to w, checked on the row
// (+host). Only one host's ban events without jail or IP prefix have an
// index led by the host (history_archive_host_ban, see hostKeyed); the
// other shapes that count from index keys alone (keyedFilter's others,
// countStatement's ranges, banJailCounts, banCountryCounts) serve filters
// of every host, and other filters on one host take the general
// conditions with this check.
func hostWhere(w *sqlkit.Where, f models.HistoryFilter) {
	if f.Host != "" {
		w.Add("+host = ?", f.Host)
	}
}

// archiveWhere turns a filter into conditions on history_archive. SQLite
// has no statistics on BanGUI's database and would pick the index of any
// equality, even on a column with three values, so the conditions choose
// the index themselves: one kind of condition drives the query and the
// others carry a unary + (checked on the index entry or the row). Counts
// and pages of an action without jail or IP prefix (the dashboard's) take
// keyedFilter instead.
//
//   - origin manual (rare): (origin, action, timeofban);
//   - a jail: (jail, timeofban);
//   - a time window: (timeofban, action, origin, jail, ip), which also
//     holds every other filter column;
//   - an IP prefix: the unique (ip, jail, action, timeofban);
//   - origin blocklist or selfblock: (origin, action, timeofban);
//   - otherwise the planner picks (an action alone is answered from a
//     covering index).
func archiveWhere(f models.HistoryFilter) sqlkit.Where {
	w, _ := archiveFilter(f, false)
	return w
}

// archiveFilter is archiveWhere for a caller that bounds timeofban itself
// when windowed is true; it also returns the driving condition.
func archiveFilter(f models.HistoryFilter, windowed bool) (sqlkit.Where, string) {
	if w, ok := hostKeyed(f, windowed); ok {
		return w, "host"
	}
	since := sqlkit.SinceUnix(f.Since)
	if windowed {
		since = 0
	}
	var driver string
	switch {
	case f.Origin == models.OriginManual:
		driver = "origin"
	case f.Jail != "":
		driver = "jail"
	case since > 0 || windowed:
		driver = "time"
	case f.IPPrefix != "":
		driver = "ip"
	case f.Origin != models.OriginAll:
		driver = "origin"
	}
	hint := func(col, driving string) string {
		if driver == driving {
			return col
		}
		return "+" + col
	}
	var w sqlkit.Where
	if f.Jail != "" {
		w.Add(hint("jail", "jail")+" = ?", f.Jail)
	}
	if f.Origin != models.OriginAll {
		w.Add(hint("origin", "origin")+" = ?", string(f.Origin))
	}
	if f.Action != "" {
		w.Add(hint("action", "origin")+" = ?", f.Action)
	}
	if since > 0 {
		col := "+timeofban"
		if driver == "time" || driver == "jail" || driver == "origin" {
			col = "timeofban"
		}
		w.Add(col+" >= ?", since)
	}
	if f.IPPrefix != "" {
		w.Prefix(hint("ip", "ip"), f.IPPrefix)
	}
	hostWhere(&w, f)
	return w, driver
}

// keyedFilter returns conditions that a single index answers from its keys
// alone, for a filter on an action without jail, IP prefix or host (the
// dashboard's); ok is false for any other filter. Counting from keys alone
// matters at a million events: checking a column on each index entry
// doubles the cost of every step.
//
//   - the ban action over every origin: the partial index
//     history_archive_ban_time (timeofban) WHERE action = 'ban'. SQLite
//     uses a partial index only for a query whose WHERE repeats the index's
//     condition; the action is written as a literal (a parameter bound to
//     'ban' would match too, at the cost of preparing the statement again
//     once bound). A window runs to the end of that index, so its count
//     does not even compare entries with an upper bound.
//   - an action and one origin: (origin, action, timeofban).
//
// Both list the events in (timeofban, id) order, the page order. The
// window's lower bound is left out when windowed.
func keyedFilter(f models.HistoryFilter, windowed bool) (w sqlkit.Where, ok bool) {
	if f.Host != "" {
		return hostKeyed(f, windowed)
	}
	if f.Action == "" || f.Jail != "" || f.IPPrefix != "" {
		return sqlkit.Where{}, false
	}
	switch {
	case f.Origin != models.OriginAll:
		w.Add("origin = ?", string(f.Origin))
		w.Add("action = ?", f.Action)
	case f.Action == ActionBan:
		w.Add("action = '" + ActionBan + "'")
	default:
		return sqlkit.Where{}, false
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 && !windowed {
		w.Add("timeofban >= ?", since)
	}
	return w, true
}

// hostKeyed returns the conditions of one host's ban events without jail
// or IP prefix (a fleet's page of one host): a range of the partial index
// history_archive_host_ban (host, timeofban, origin, jail, country_code)
// WHERE action = 'ban', the origin checked on its entries. The window's
// lower bound is left out when windowed. ok is false for any other filter.
func hostKeyed(f models.HistoryFilter, windowed bool) (w sqlkit.Where, ok bool) {
	if f.Host == "" || f.Action != ActionBan || f.Jail != "" || f.IPPrefix != "" {
		return sqlkit.Where{}, false
	}
	w.Add("host = ?", f.Host)
	w.Add("action = '" + ActionBan + "'")
	if f.Origin != models.OriginAll {
		w.Add("+origin = ?", string(f.Origin))
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 && !windowed {
		w.Add("timeofban >= ?", since)
	}
	return w, true
}

// ipPageMax is how many archived events (of every kind) an IP prefix may
// match for Bans to read them through the IP index and sort them, instead
// of walking the time window in order.
const ipPageMax = 20_000

// prefixWhere is the filter f driven by its IP prefix: a range of an index
// that starts with ip, everything else checked on its entries (or on the
// row, for the origin).
func prefixWhere(f models.HistoryFilter) sqlkit.Where {
	var c sqlkit.Where
	c.Prefix("ip", f.IPPrefix)
	if f.Jail != "" {
		c.Add("+jail = ?", f.Jail)
	}
	if f.Action != "" {
		c.Add("+action = ?", f.Action)
	}
	if f.Origin != models.OriginAll {
		c.Add("+origin = ?", string(f.Origin))
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		c.Add("+timeofban >= ?", since)
	}
	hostWhere(&c, f)
	return c
}

// countStatement returns the statement Bans counts with, given w, the
// conditions of its page. Counting has no order to keep, so it takes the
// narrowest ranges there are (the archive holds only bans and unbans):
//
//   - one origin over both actions (history's default): two ranges of
//     (origin, action, timeofban) instead of the time window with the
//     origin checked on each entry;
//   - one origin and one jail: the bans as one key range of the partial
//     history_archive_ban_origin_jail, the few unbans on (origin, action,
//     timeofban) with the jail checked on the row — instead of the jail's
//     range with the origin read from every row.
//
// A filter on one host counts with w.
func countStatement(f models.HistoryFilter, w sqlkit.Where) (string, []any) {
	since := sqlkit.SinceUnix(f.Since)
	window := func(c *sqlkit.Where) {
		if since > 0 {
			c.Add("timeofban >= ?", since)
		}
	}
	switch {
	case f.Host != "":
	case f.Origin != models.OriginAll && f.Action == "" && f.Jail == "" && f.IPPrefix == "":
		var c sqlkit.Where
		c.Add("origin = ?", string(f.Origin))
		c.Add("action IN (?, ?)", ActionBan, ActionUnban)
		window(&c)
		return `SELECT count(*) FROM history_archive` + c.Clause(), c.Args()
	case f.Origin != models.OriginAll && f.Jail != "" && f.IPPrefix == "" && (f.Action == "" || f.Action == ActionBan || f.Action == ActionUnban):
		var parts []string
		var args []any
		if f.Action != ActionUnban {
			var c sqlkit.Where
			c.Add("action = '" + ActionBan + "'")
			c.Add("origin = ?", string(f.Origin))
			c.Add("jail = ?", f.Jail)
			window(&c)
			parts = append(parts, `(SELECT count(*) FROM history_archive`+c.Clause()+`)`)
			args = append(args, c.Args()...)
		}
		if f.Action != ActionBan {
			var c sqlkit.Where
			c.Add("origin = ?", string(f.Origin))
			c.Add("action = ?", ActionUnban)
			c.Add("+jail = ?", f.Jail)
			window(&c)
			parts = append(parts, `(SELECT count(*) FROM history_archive`+c.Clause()+`)`)
			args = append(args, c.Args()...)
		}
		return `SELECT ` + strings.Join(parts, " + "), args
	}
	return `SELECT count(*) FROM history_archive` + w.Clause(), w.Args()
}

// banJailCounts is CountsByJail's statement for ban events of every host
// without jail or IP prefix: one count per (origin, jail) pair, each a range of the partial
// index history_archive_ban_origin_jail (origin, jail, timeofban) read from
// its keys alone, summed per jail. The pairs are every jail with the
// filter's origin, or with every origin the archive holds; both lists come
// from skip scans (one index seek per distinct value), and pairs without
// events cost one seek. The counts are MATERIALIZED first: summed straight
// in the GROUP BY, SQLite would run each count once for the sum, once for
// HAVING and once for ORDER BY.
func banJailCounts(f models.HistoryFilter) (string, []any) {
	origins, window, args := banOriginsAndWindow(f)
	return `WITH RECURSIVE ` + origins + `,
		j(name) AS (
			SELECT min(jail) FROM history_archive
			UNION ALL
			SELECT (SELECT min(jail) FROM history_archive WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL),
		c(jail, n) AS MATERIALIZED (
			SELECT j.name, (SELECT count(*) FROM history_archive
				WHERE action = 'ban' AND origin = o.name AND jail = j.name` + window + `)
			FROM o, j WHERE o.name IS NOT NULL AND j.name IS NOT NULL)
		SELECT jail, sum(n) AS total FROM c GROUP BY jail HAVING total > 0 ORDER BY total DESC, jail`, args
}

// banCountryCounts is CountsByCountry's statement for ban events of every
// host without jail or IP prefix over a window too large for history_archive_time_country:
// one count per (origin, country) pair, each a range of the partial index
// history_archive_ban_origin_country (origin, country_code, timeofban) read
// from its keys alone, summed per country; the events without a country
// yet (NULL) are one more range per origin. The countries come from a skip
// scan of history_archive_country (one seek per distinct code), the origins
// as in banJailCounts. INDEXED BY keeps SQLite from walking
// history_archive_country instead, which it prefers once ANALYZE has run.
// It answers (code, count) rows with NULL as "".
func banCountryCounts(f models.HistoryFilter) (string, []any) {
	origins, window, args := banOriginsAndWindow(f)
	q := `WITH RECURSIVE ` + origins + `,
		k(code) AS (
			SELECT min(country_code) FROM history_archive WHERE country_code >= ''
			UNION ALL
			SELECT (SELECT min(country_code) FROM history_archive WHERE country_code > k.code) FROM k WHERE k.code IS NOT NULL),
		c(code, n) AS MATERIALIZED (
			SELECT k.code, (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
				WHERE action = 'ban' AND origin = o.name AND country_code = k.code` + window + `)
			FROM o, k WHERE o.name IS NOT NULL AND k.code IS NOT NULL
			UNION ALL
			SELECT '', (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
				WHERE action = 'ban' AND origin = o.name AND country_code IS NULL` + window + `)
			FROM o WHERE o.name IS NOT NULL)
		SELECT code, sum(n) AS total FROM c GROUP BY code HAVING total > 0`
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		args = append(args, since) // window appears twice
	}
	return q, args
}

// banOriginsAndWindow returns what the per-origin counts of banJailCounts
// and banCountryCounts share: the CTE o(name) of the filter's origin, or of
// every origin the archive holds (a skip scan), the time-window condition
// for one count, and the arguments of both, in that order.
func banOriginsAndWindow(f models.HistoryFilter) (origins, window string, args []any) {
	origins = `o(name) AS (SELECT ?)`
	if f.Origin == models.OriginAll {
		origins = `o(name) AS (
			SELECT min(origin) FROM history_archive WHERE action = 'ban'
			UNION ALL
			SELECT (SELECT min(origin) FROM history_archive WHERE action = 'ban' AND origin > o.name) FROM o WHERE o.name IS NOT NULL)`
	} else {
		args = append(args, string(f.Origin))
	}
	if since := sqlkit.SinceUnix(f.Since); since > 0 {
		window = ` AND timeofban >= ?`
		args = append(args, since)
	}
	return origins, window, args
}

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
	hostWhere(&w, f)
	return w
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
