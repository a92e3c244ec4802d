package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// Leases keeps the leases of work that must run once across the panel
// processes sharing this database. Each call is one statement written with
// bun's builder, the same on SQLite and PostgreSQL; whether the caller
// holds the lease afterwards is read from the affected row count.
type Leases struct {
	db  bun.IDB
	now func() time.Time
}

// NewLeases returns the lease store on db.
func NewLeases(db bun.IDB) *Leases {
	return &Leases{db: db, now: time.Now}
}

// TryAcquire takes the lease name for holder until ttl from now, when it is
// free, expired or held by holder already (then it is extended). It
// reports whether holder holds it now.
func (l *Leases) TryAcquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := l.now()
	row := models.Lease{Name: name, Holder: holder, ExpiresAt: now.Add(ttl).UnixMilli()}
	res, err := l.db.NewInsert().Model(&row).
		On("CONFLICT (name) DO UPDATE").
		Set("holder = EXCLUDED.holder").
		Set("expires_at = EXCLUDED.expires_at").
		Where("leases.expires_at <= ? OR leases.holder = EXCLUDED.holder", now.UnixMilli()).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("repo: acquire lease %s: %w", name, dbError(err))
	}
	return affectedOne(res, "acquire lease "+name)
}

// Renew extends holder's lease name to ttl from now. It reports false when
// holder no longer holds it (it expired and another holder took it, or it
// was released).
func (l *Leases) Renew(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	res, err := l.db.NewUpdate().Model((*models.Lease)(nil)).
		Set("expires_at = ?", l.now().Add(ttl).UnixMilli()).
		Where("name = ?", name).
		Where("holder = ?", holder).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("repo: renew lease %s: %w", name, dbError(err))
	}
	return affectedOne(res, "renew lease "+name)
}

// Release gives up holder's lease name at once, so that another process may
// take it without waiting for its expiry. Releasing a lease holder does not
// hold is not an error.
func (l *Leases) Release(ctx context.Context, name, holder string) error {
	_, err := l.db.NewDelete().Model((*models.Lease)(nil)).
		Where("name = ?", name).
		Where("holder = ?", holder).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: release lease %s: %w", name, dbError(err))
	}
	return nil
}

// ReleaseAll gives up every lease of holder (a panel process shutting
// down), so that the other processes take its work over at once.
func (l *Leases) ReleaseAll(ctx context.Context, holder string) error {
	_, err := l.db.NewDelete().Model((*models.Lease)(nil)).Where("holder = ?", holder).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: release leases of %s: %w", holder, dbError(err))
	}
	return nil
}

// Holder returns who holds the lease name and until when; an empty holder
// means nobody (no row, or an expired one).
func (l *Leases) Holder(ctx context.Context, name string) (string, time.Time, error) {
	var rows []models.Lease
	if err := l.db.NewSelect().Model(&rows).Where("name = ?", name).Scan(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("repo: read lease %s: %w", name, dbError(err))
	}
	if len(rows) == 0 || rows[0].ExpiresAt <= l.now().UnixMilli() {
		return "", time.Time{}, nil
	}
	return rows[0].Holder, time.UnixMilli(rows[0].ExpiresAt), nil
}

// affectedOne reports whether a statement changed a row.
func affectedOne(res interface{ RowsAffected() (int64, error) }, what string) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("repo: %s: %w", what, dbError(err))
	}
	return n > 0, nil
}
