package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"bangui/models"
	"bangui/repo/bandata"
)

// Settings keys holding the archive sync cursor of the local host; other
// hosts' keys carry ":<host id>" at the end (see cursorKeys).
const (
	SettingArchiveLastRowID = "archive_last_rowid" // rowid of the last fail2ban row synced
	SettingArchiveLastRow   = "archive_last_row"   // that row's identity, JSON
)

// cursorKeys are the settings keys of one host's sync cursor: the local
// host keeps the keys it had before hosts existed, so an installation
// resumes where it stopped; any other host's carry its id.
type cursorKeys struct {
	rowID, row string
}

func cursorKeysOf(host string) cursorKeys {
	if host == models.LocalHost {
		return cursorKeys{SettingArchiveLastRowID, SettingArchiveLastRow}
	}
	return cursorKeys{SettingArchiveLastRowID + ":" + host, SettingArchiveLastRow + ":" + host}
}

// SyncBatch is how many fail2ban rows SyncArchive copies per transaction.
const SyncBatch = 5000

// SyncOverlap is how far before the last synced ban SyncArchive looks again
// when it finds that fail2ban's rowids were reused. fail2ban stamps a ban
// with the time of the failure that triggered it, at most findtime before
// the row is written (recidive's default findtime is one day).
const SyncOverlap = 48 * time.Hour

// syncCursor is where the last sync stopped: a rowid and the identity of
// the row that had it.
type syncCursor struct {
	RowID int64
	Row   *syncAnchor // nil when unknown
}

type syncAnchor struct {
	Jail      string `json:"jail"`
	IP        string `json:"ip"`
	TimeOfBan int64  `json:"timeofban"`
}

func anchorOf(row F2BRow) *syncAnchor {
	return &syncAnchor{Jail: row.Jail, IP: row.IP, TimeOfBan: row.TimeOfBan}
}

func loadCursor(ctx context.Context, settings Settings, keys cursorKeys) (syncCursor, error) {
	var c syncCursor
	v, err := settings.Get(ctx, keys.rowID)
	if errors.Is(err, ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if c.RowID, err = strconv.ParseInt(v, 10, 64); err != nil || c.RowID < 0 {
		return syncCursor{}, nil // unreadable: start over, the unique key drops duplicates
	}
	v, err = settings.Get(ctx, keys.row)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return c, err
	}
	var a syncAnchor
	if err == nil && json.Unmarshal([]byte(v), &a) == nil {
		c.Row = &a
	}
	return c, nil
}

func saveCursor(ctx context.Context, settings Settings, keys cursorKeys, c syncCursor) error {
	row := ""
	if c.Row != nil {
		b, err := json.Marshal(c.Row)
		if err != nil {
			return fmt.Errorf("repo: sync cursor: %w", dbError(err))
		}
		row = string(b)
	}
	return settings.SetMany(ctx, map[string]string{
		keys.rowID: strconv.FormatInt(c.RowID, 10),
		keys.row:   row,
	})
}

// archivedFromF2B converts one host's fail2ban rows to archive events:
// action ban, origin from the jail, failures from the data, country unknown.
func archivedFromF2B(host string, rows []F2BRow) []models.ArchivedBan {
	out := make([]models.ArchivedBan, len(rows))
	for i, r := range rows {
		out[i] = models.ArchivedBan{
			Host:      host,
			Jail:      r.Jail,
			IP:        r.IP,
			TimeOfBan: r.TimeOfBan,
			BanTime:   r.BanTime,
			BanCount:  r.BanCount,
			Data:      r.Data,
			Action:    ActionBan,
			Origin:    string(originOfJail(r.Jail)),
			Failures:  bandata.Failures(r.Data),
		}
	}
	return out
}

// SyncArchive copies the ban events that host's fail2ban added since the
// last run from src (that host's database) into dst, stamped with host, and
// returns how many were new. The first run backfills every row. It copies
// SyncBatch rows per transaction and saves the host's cursor in settings
// after each batch, so an interrupted run resumes where it stopped. Each
// host has its own cursor (see cursorKeysOf).
//
// The cursor is the rowid of the last row copied (archive_last_rowid) plus
// that row's identity (jail, ip, timeofban; archive_last_row). New fail2ban
// rows get rowid max(rowid)+1, so normally every new row lies above the
// cursor and one indexed range read finds them. But rowids are not stable:
// when the newest rows are deleted (a manual unban, a purge that empties the
// table, fail2ban recreating its file) the next inserts reuse their rowids,
// and VACUUM may renumber the whole table. Any of these changes or removes
// the row at the cursor, because a rowid at or below the cursor can only be
// handed out again after the cursor's row is gone. So each run first checks
// that the row at the cursor is still the one it remembers; if not, it
// re-reads every row stamped within SyncOverlap before the remembered ban
// (new bans cannot be older than that) and then continues from the current
// end of the table. Re-reading is harmless: the archive's unique key (host,
// ip, jail, action, timeofban) makes it drop what it already has, so rows
// are never lost nor duplicated, and rows fail2ban deletes stay in the
// archive.
func SyncArchive(ctx context.Context, host string, src BanRowSource, dst HistoryArchive, settings Settings) (int64, error) {
	return syncArchive(ctx, host, src, dst, settings, true)
}

// CopyPending copies into dst what SyncArchive would copy of host's rows
// in src, reading the host's cursor the same way, but leaves the cursor
// where it is. It is for a process that must archive rows at once while
// another process holds the host's sync (its lease): that sync later reads
// the same rows again, and the archive's unique key drops them, so nothing
// is doubled.
func CopyPending(ctx context.Context, host string, src BanRowSource, dst HistoryArchive, settings Settings) (int64, error) {
	return syncArchive(ctx, host, src, dst, settings, false)
}

// syncArchive is SyncArchive; save says whether it moves the cursor.
func syncArchive(ctx context.Context, host string, src BanRowSource, dst HistoryArchive, settings Settings, save bool) (int64, error) {
	if host == "" {
		return 0, errors.New("repo: sync archive: no host")
	}
	keys := cursorKeysOf(host)
	cur, err := loadCursor(ctx, settings, keys)
	if err != nil {
		return 0, fmt.Errorf("repo: sync archive: %w", dbError(err))
	}
	store := func(c syncCursor) error {
		if !save {
			return nil
		}
		return saveCursor(ctx, settings, keys, c)
	}
	if cur.RowID > 0 && cur.Row == nil {
		cur.RowID = 0 // no identity to check: read everything again
	}
	var inserted int64
	if cur.RowID > 0 {
		row, found, err := src.RowByID(ctx, cur.RowID)
		if err != nil {
			return 0, fmt.Errorf("repo: sync archive: %w", dbError(err))
		}
		if !found || *anchorOf(row) != *cur.Row {
			n, next, err := resync(ctx, host, src, dst, cur.Row.TimeOfBan-int64(SyncOverlap/time.Second))
			inserted += n
			if err != nil {
				return inserted, fmt.Errorf("repo: sync archive: %w", dbError(err))
			}
			cur = next
			if err := store(cur); err != nil {
				return inserted, fmt.Errorf("repo: sync archive: %w", dbError(err))
			}
		}
	}
	for {
		rows, err := src.NewRowsSince(ctx, cur.RowID, SyncBatch)
		if err != nil {
			return inserted, fmt.Errorf("repo: sync archive: %w", dbError(err))
		}
		if len(rows) == 0 {
			return inserted, nil
		}
		n, err := dst.Archive(ctx, archivedFromF2B(host, rows))
		inserted += n
		if err != nil {
			return inserted, fmt.Errorf("repo: sync archive: %w", dbError(err))
		}
		last := rows[len(rows)-1]
		cur = syncCursor{RowID: last.RowID, Row: anchorOf(last)}
		if err := store(cur); err != nil {
			return inserted, fmt.Errorf("repo: sync archive: %w", dbError(err))
		}
		if len(rows) < SyncBatch {
			return inserted, nil
		}
	}
}

// resync copies every row stamped at or after since (in rowid order, up to
// the rowid that was the highest when it started) and returns the cursor
// to continue from: the highest row at or below that rowid.
func resync(ctx context.Context, host string, src BanRowSource, dst HistoryArchive, since int64) (int64, syncCursor, error) {
	maxID, err := src.MaxRowID(ctx)
	if err != nil {
		return 0, syncCursor{}, err
	}
	var inserted, after int64
	for {
		rows, err := src.RowsAtOrAfter(ctx, since, after, maxID, SyncBatch)
		if err != nil {
			return inserted, syncCursor{}, err
		}
		if len(rows) == 0 {
			break
		}
		n, err := dst.Archive(ctx, archivedFromF2B(host, rows))
		inserted += n
		if err != nil {
			return inserted, syncCursor{}, err
		}
		after = rows[len(rows)-1].RowID
		if len(rows) < SyncBatch {
			break
		}
	}
	last, found, err := src.LastRowAtOrBelow(ctx, maxID)
	if err != nil || !found {
		return inserted, syncCursor{}, err
	}
	return inserted, syncCursor{RowID: last.RowID, Row: anchorOf(last)}, nil
}
