package repo

import (
	"context"
	"database/sql"

	"bangui/models"
	"bangui/repo/sqlkit"
)

// jailScope is the set of jails a filter lets through.
type jailScope struct {
	jails []string // the jails to read; nil with none means no rows at all
	all   bool     // the filter does not restrict jails (jails lists every jail)
}

func (s jailScope) empty() bool { return len(s.jails) == 0 }

// scope resolves a filter's jail, origin and action to the jails to read.
// manual bans and unban events exist only in BanGUI's archive, so they give
// an empty scope here.
func (r *Fail2BanDBReader) scope(ctx context.Context, f models.HistoryFilter) (jailScope, error) {
	if f.Origin == models.OriginManual || (f.Action != "" && f.Action != "ban") {
		return jailScope{}, nil
	}
	if f.Origin != models.OriginAll && f.Origin != models.OriginBlocklist && f.Origin != models.OriginSelfblock {
		return jailScope{}, nil
	}
	if f.Jail != "" {
		isBlocklist := f.Jail == models.BlocklistJail
		if (f.Origin == models.OriginBlocklist && !isBlocklist) || (f.Origin == models.OriginSelfblock && isBlocklist) {
			return jailScope{}, nil
		}
		return jailScope{jails: []string{f.Jail}}, nil
	}
	if f.Origin == models.OriginBlocklist {
		return jailScope{jails: []string{models.BlocklistJail}}, nil
	}
	jails, err := r.Jails(ctx)
	if err != nil {
		return jailScope{}, err
	}
	if f.Origin == models.OriginSelfblock {
		out := jails[:0:0]
		for _, j := range jails {
			if j != models.BlocklistJail {
				out = append(out, j)
			}
		}
		return jailScope{jails: out}, nil
	}
	return jailScope{jails: jails, all: true}, nil
}

// Jails lists the jails that have rows in the bans table, in byte order. It
// skips from one jail to the next on the (jail, …) index, so it costs one
// index seek per jail whatever the table size.
func (r *Fail2BanDBReader) Jails(ctx context.Context) ([]string, error) {
	return readAll(ctx, r, "list jails", `WITH RECURSIVE j(name) AS (
			SELECT min(jail) FROM bans
			UNION ALL
			SELECT (SELECT min(jail) FROM bans WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL
		) SELECT name FROM j WHERE name IS NOT NULL`, nil, func(rows *sql.Rows) (string, error) {
		var s string
		return s, rows.Scan(&s)
	})
}

// access is how a query reaches the rows of a filter that has an IP prefix.
type access int

const (
	viaTime access = iota // ranges on (jail, timeofban); the prefix is checked on the row
	viaIP                 // ranges on (ip) or (jail, ip); the time is checked on the row
)

// filterWhere builds the conditions for scope sc, rows at or after since
// (unix seconds, 0 for none) and an IP prefix. via says which index the
// query should use: the other conditions get a unary + so that SQLite
// cannot pick their index. A scope of every jail becomes a jail IN list
// only where it lets SQLite range over (jail, timeofban) per jail.
func filterWhere(sc jailScope, since int64, prefix string, via access) sqlkit.Where {
	var w sqlkit.Where
	if !sc.all || (since > 0 && via == viaTime) {
		if len(sc.jails) == 1 {
			w.Add("jail = ?", sc.jails[0])
		} else {
			w.In("jail", sc.jails)
		}
	}
	if since > 0 {
		if prefix != "" && via == viaIP {
			w.Add("+timeofban >= ?", since)
		} else {
			w.Add("timeofban >= ?", since)
		}
	}
	if prefix != "" {
		if via == viaTime {
			w.Prefix("+ip", prefix)
		} else {
			w.Prefix("ip", prefix)
		}
	}
	return w
}

// plan picks the index path for a filter with an IP prefix from two cheap
// counts that read covering indexes only: rows of the prefix in the scope
// at any time (prefixRows) and rows of the scope in the time window
// (windowRows). Both paths must look at one table row per candidate, so the
// smaller candidate set wins.
type plan struct {
	via        access
	prefixRows int64 // rows matching jails and prefix, any time
	windowRows int64 // rows matching jails and time window, any IP
}

func (r *Fail2BanDBReader) planFor(ctx context.Context, sc jailScope, since int64, prefix string) (plan, error) {
	var p plan
	var err error
	pw := filterWhere(sc, 0, prefix, viaIP)
	if p.prefixRows, err = r.count(ctx, `SELECT count(*) FROM bans`+pw.Clause(), pw.Args()...); err != nil {
		return p, err
	}
	ww := filterWhere(sc, since, "", viaTime)
	if p.windowRows, err = r.count(ctx, `SELECT count(*) FROM bans`+ww.Clause(), ww.Args()...); err != nil {
		return p, err
	}
	if since > 0 && p.windowRows < p.prefixRows {
		p.via = viaTime
	} else {
		p.via = viaIP
	}
	return p, nil
}

// mostlyAfter reports whether since lies nearer the jails' oldest ban than
// their newest, so that, bans spreading over time, most rows are stamped at
// or after it. Counting a window costs a step per row, while the plain
// count(*) of the table only visits its b-tree pages: for such a window,
// counting the rows before it and subtracting is several times cheaper. It
// costs two index seeks per jail.
func (r *Fail2BanDBReader) mostlyAfter(ctx context.Context, jails []string, since int64) (bool, error) {
	values, args := sqlkit.Values(jails)
	var lo, hi sql.NullInt64
	err := r.read(ctx, "time span", func(ctx context.Context) error {
		return r.queryRow(ctx, `WITH j(name) AS (`+values+`)
			SELECT min((SELECT min(timeofban) FROM bans WHERE jail = j.name)),
				max((SELECT max(timeofban) FROM bans WHERE jail = j.name)) FROM j`, args...).Scan(&lo, &hi)
	})
	if err != nil {
		return false, err
	}
	return lo.Valid && hi.Valid && since-lo.Int64 < hi.Int64-since, nil
}
