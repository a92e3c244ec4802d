package repo

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"bangui/models"
)

// AuditStore keeps the audit log in the audit_log table. It appends,
// reads and, for retention only, deletes the oldest entries: it has no
// method that changes an entry, and the table's trigger refuses updates.
type AuditStore struct{ db bun.IDB }

// NewAuditStore returns a store on db.
func NewAuditStore(db bun.IDB) *AuditStore { return &AuditStore{db: db} }

// auditRow is an audit entry as the table stores it (the role by name).
type auditRow struct {
	bun.BaseModel `bun:"table:audit_log"`
	ID            int64  `bun:"id,pk,autoincrement"`
	At            int64  `bun:"at,notnull"`
	Actor         string `bun:"actor,notnull"`
	UserID        int64  `bun:"user_id,notnull"`
	TokenID       int64  `bun:"token_id,notnull"`
	Role          string `bun:"role,notnull"`
	Client        string `bun:"client,notnull"`
	Action        string `bun:"action,notnull"`
	Host          string `bun:"host,notnull"`
	Jail          string `bun:"jail,notnull"`
	File          string `bun:"file,notnull"`
	Target        string `bun:"target,notnull"`
	Detail        string `bun:"detail,notnull"`
	Result        string `bun:"result,notnull"`
}

// rowOfEntry is e as the table stores it, its text made storable (see
// storableText): an entry is never lost to what a request sent.
func rowOfEntry(e models.AuditEntry) auditRow {
	t := storableText
	return auditRow{At: e.At, Actor: t(e.Actor), UserID: e.UserID, TokenID: e.Token, Role: e.Role.String(),
		Client: t(e.Client), Action: t(string(e.Action)), Host: t(e.Host), Jail: t(e.Jail), File: t(e.File),
		Target: t(e.Target), Detail: t(e.Detail), Result: t(e.Result)}
}

// storableText is v as both dialects store text: PostgreSQL refuses NUL
// and bytes that are not UTF-8, so they become U+FFFD.
func storableText(v string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD")
}

func (r auditRow) entry() models.AuditEntry {
	role, _ := models.ParseRole(r.Role)
	return models.AuditEntry{ID: r.ID, At: r.At, Actor: r.Actor, UserID: r.UserID, Token: r.TokenID, Role: role,
		Client: r.Client, Action: models.AuditAction(r.Action), Host: r.Host, Jail: r.Jail, File: r.File,
		Target: r.Target, Detail: r.Detail, Result: r.Result}
}

// Record appends one entry (its ID is ignored).
func (s *AuditStore) Record(ctx context.Context, e models.AuditEntry) error {
	row := rowOfEntry(e)
	if _, err := s.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("repo: record audit entry %s: %w", e.Action, dbError(err))
	}
	return nil
}

// List returns one page of the entries matching f, newest first, and how
// many match in all.
func (s *AuditStore) List(ctx context.Context, f models.AuditFilter, page models.Page) ([]models.AuditEntry, int64, error) {
	var rows []auditRow
	q := s.db.NewSelect().Model(&rows).OrderExpr("at DESC, id DESC").Limit(int64(page.Size)).Offset(int64(page.Offset()))
	total, err := filterAudit(q, f).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: list audit log: %w", dbError(err))
	}
	return entriesOf(rows), int64(total), nil
}

// Count returns how many entries match f.
func (s *AuditStore) Count(ctx context.Context, f models.AuditFilter) (int64, error) {
	n, err := filterAudit(s.db.NewSelect().Model((*auditRow)(nil)), f).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: count audit log: %w", dbError(err))
	}
	return int64(n), nil
}

// auditBatch is how many entries Each reads per query.
const auditBatch = 500

// Each calls fn with every entry matching f, newest first, reading them in
// batches so that an export holds no query open while it writes; it stops
// at fn's first error and returns it.
func (s *AuditStore) Each(ctx context.Context, f models.AuditFilter, fn func(models.AuditEntry) error) error {
	var lastAt, lastID int64
	for first := true; ; first = false {
		var rows []auditRow
		q := filterAudit(s.db.NewSelect().Model(&rows), f).OrderExpr("at DESC, id DESC").Limit(auditBatch)
		if !first {
			q = q.Where("(at < ? OR (at = ? AND id < ?))", lastAt, lastAt, lastID)
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("repo: read audit log: %w", dbError(err))
		}
		for _, r := range rows {
			if err := fn(r.entry()); err != nil {
				return err
			}
		}
		if len(rows) < auditBatch {
			return nil
		}
		lastAt, lastID = rows[len(rows)-1].At, rows[len(rows)-1].ID
	}
}

// DeleteOlderThan deletes the entries stamped before cutoff (unix
// seconds) and returns how many went. It serves retention, nothing else.
func (s *AuditStore) DeleteOlderThan(ctx context.Context, cutoff int64) (int64, error) {
	res, err := s.db.NewDelete().Model((*auditRow)(nil)).Where("at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: delete old audit entries: %w", dbError(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func entriesOf(rows []auditRow) []models.AuditEntry {
	out := make([]models.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out
}

// likeEscaper escapes LIKE's wildcards (and its escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// filterAudit adds f's conditions to q.
func filterAudit(q *bun.SelectQuery, f models.AuditFilter) *bun.SelectQuery {
	t := storableText
	f.Actor, f.Action, f.Host, f.Jail, f.File, f.Target = t(f.Actor), models.AuditAction(t(string(f.Action))), t(f.Host), t(f.Jail), t(f.File), t(f.Target)
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Actor != "" {
		q = q.Where("lower(actor) = lower(?)", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", string(f.Action))
	}
	if f.Host != "" {
		q = listHas(q, "host", f.Host)
	}
	if f.Jail != "" {
		q = q.Where("jail = ?", f.Jail)
	}
	if f.File != "" {
		q = q.Where("file = ?", f.File)
	}
	if f.Target != "" {
		q = listHas(q, "target", f.Target)
	}
	if f.From != 0 {
		q = q.Where("at >= ?", f.From)
	}
	if f.To != 0 {
		q = q.Where("at < ?", f.To)
	}
	return q
}

// listHas keeps the rows whose column, a comma-separated list (spaces
// ignored), has value as one of its items: "203.0.113.7" matches
// "203.0.113.7, 198.51.100.0/24" but not "203.0.113.70". An action on
// several addresses or hosts is one entry that names them all.
func listHas(q *bun.SelectQuery, column, value string) *bun.SelectQuery {
	return q.Where(`(',' || replace(?, ' ', '') || ',') LIKE ? ESCAPE '\'`,
		bun.Ident(column), "%,"+likeEscaper.Replace(strings.ReplaceAll(value, " ", ""))+",%")
}
