package repo

import (
	"context"
	"database/sql"
	"time"

	"bangui/models"
	"bangui/repo/bandata"
	"bangui/repo/sqlkit"
)

// F2BRow is one raw row of fail2ban's bans table, as the archive sync copies it.
type F2BRow struct {
	RowID     int64
	Jail      string
	IP        string // "" when the column is NULL
	TimeOfBan int64  // unix seconds
	BanTime   int64  // seconds; -1 permanent
	BanCount  int64
	Data      string // the data column's JSON text; "null" when the column is NULL
}

func scanF2BRow(rows interface{ Scan(...any) error }) (F2BRow, error) {
	var row F2BRow
	var ip, data sql.NullString
	if err := rows.Scan(&row.RowID, &row.Jail, &ip, &row.TimeOfBan, &row.BanTime, &row.BanCount, &data); err != nil {
		return row, err
	}
	row.IP = ip.String
	row.Data = "null"
	if data.Valid {
		row.Data = data.String
	}
	return row, nil
}

// Record converts the row to a models.BanRecord, decoding failures and
// matches from its data and deriving the origin from the jail.
func (row F2BRow) Record() models.BanRecord {
	failures, matches := bandata.Decode(row.Data)
	return models.BanRecord{
		Jail:      row.Jail,
		IP:        row.IP,
		TimeOfBan: time.Unix(row.TimeOfBan, 0),
		BanTime:   row.BanTime,
		BanCount:  row.BanCount,
		Failures:  failures,
		Matches:   matches,
		Origin:    originOfJail(row.Jail),
	}
}

// originOfJail is where a ban found in fail2ban's database came from.
func originOfJail(jail string) models.Origin {
	if jail == models.BlocklistJail {
		return models.OriginBlocklist
	}
	return models.OriginSelfblock
}

// NewRowsSince returns up to limit rows with a rowid above afterRowID, in
// rowid order — the rows fail2ban added since a sync stopped at afterRowID
// (see SyncArchive for why rowids alone are not enough).
func (r *Fail2BanDBReader) NewRowsSince(ctx context.Context, afterRowID int64, limit int) ([]F2BRow, error) {
	if limit < 1 {
		return nil, nil
	}
	return r.rows(ctx, "new rows", `SELECT `+banColumns+` FROM bans WHERE rowid > ? ORDER BY rowid LIMIT ?`, afterRowID, limit)
}

// RowsAtOrAfter returns up to limit rows with timeofban >= since and a
// rowid in (afterRowID, maxRowID], in rowid order.
func (r *Fail2BanDBReader) RowsAtOrAfter(ctx context.Context, since, afterRowID, maxRowID int64, limit int) ([]F2BRow, error) {
	jails, err := r.Jails(ctx)
	if err != nil || len(jails) == 0 {
		return nil, err
	}
	var w sqlkit.Where
	w.In("jail", jails)
	w.Add("timeofban >= ?", since)
	w.Add("+rowid > ?", afterRowID)
	w.Add("+rowid <= ?", maxRowID)
	return r.rows(ctx, "rows since", `SELECT `+banColumns+` FROM bans`+w.Clause()+` ORDER BY rowid LIMIT ?`, append(w.Args(), limit)...)
}

// RowByID returns the row with the given rowid; found is false when there is none.
func (r *Fail2BanDBReader) RowByID(ctx context.Context, rowid int64) (F2BRow, bool, error) {
	return r.oneRow(ctx, "row", `SELECT `+banColumns+` FROM bans WHERE rowid = ?`, rowid)
}

// LastRowAtOrBelow returns the row with the highest rowid <= rowid; found is false when there is none.
func (r *Fail2BanDBReader) LastRowAtOrBelow(ctx context.Context, rowid int64) (F2BRow, bool, error) {
	return r.oneRow(ctx, "last row", `SELECT `+banColumns+` FROM bans WHERE rowid <= ? ORDER BY rowid DESC LIMIT 1`, rowid)
}

func (r *Fail2BanDBReader) oneRow(ctx context.Context, what, q string, args ...any) (F2BRow, bool, error) {
	rows, err := r.rows(ctx, what, q, args...)
	if err != nil || len(rows) == 0 {
		return F2BRow{}, false, err
	}
	return rows[0], true, nil
}

// MaxRowID is the highest rowid in bans, 0 when it is empty.
func (r *Fail2BanDBReader) MaxRowID(ctx context.Context) (int64, error) {
	return r.count(ctx, `SELECT coalesce(max(rowid), 0) FROM bans`)
}

func (r *Fail2BanDBReader) rows(ctx context.Context, what, q string, args ...any) ([]F2BRow, error) {
	return readAll(ctx, r, what, q, args, func(rows *sql.Rows) (F2BRow, error) { return scanF2BRow(rows) })
}
