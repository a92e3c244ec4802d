package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// HostStore keeps the enrolled remote hosts in the hosts table.
type HostStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewHostStore returns a store on db.
func NewHostStore(db bun.IDB) *HostStore { return &HostStore{db: db, now: time.Now} }

// Create stores a new host, stamping its times. An id that is taken yields
// a *DuplicateError on "id".
func (s *HostStore) Create(ctx context.Context, h models.RemoteHost) error {
	now := s.now().Unix()
	h.CreatedAt, h.UpdatedAt = now, now
	if _, err := s.db.NewInsert().Model(&h).Exec(ctx); err != nil {
		err = dbError(err)
		if errors.Is(err, ErrDuplicate) {
			err = &DuplicateError{Column: "id", Err: err}
		}
		return fmt.Errorf("repo: create host %q: %w", h.ID, err)
	}
	return nil
}

// Get returns one host, or ErrNotFound.
func (s *HostStore) Get(ctx context.Context, id string) (models.RemoteHost, error) {
	var h models.RemoteHost
	if err := s.db.NewSelect().Model(&h).Where("id = ?", id).Scan(ctx); err != nil {
		return h, fmt.Errorf("repo: get host %q: %w", id, dbError(err))
	}
	return h, nil
}

// List returns every host by name (ignoring case), then id.
func (s *HostStore) List(ctx context.Context) ([]models.RemoteHost, error) {
	var out []models.RemoteHost
	if err := s.db.NewSelect().Model(&out).OrderExpr("lower(name), id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list hosts: %w", dbError(err))
	}
	return out, nil
}

// SetName renames a host.
func (s *HostStore) SetName(ctx context.Context, id, name string) error {
	return s.update(ctx, id, "name", name)
}

// SetEnabled enables or disables a host.
func (s *HostStore) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return s.update(ctx, id, "enabled", enabled)
}

// SetFingerprint pins another certificate fingerprint.
func (s *HostStore) SetFingerprint(ctx context.Context, id, fingerprint string) error {
	return s.update(ctx, id, "fingerprint", fingerprint)
}

// update sets one column of a host and stamps updated_at; ErrNotFound for
// an unknown id.
func (s *HostStore) update(ctx context.Context, id, column string, value any) error {
	res, err := s.db.NewUpdate().Model((*models.RemoteHost)(nil)).
		Set("? = ?", bun.Ident(column), value).Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: set %s of host %q: %w", column, id, dbError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: set %s of host %q: %w", column, id, ErrNotFound)
	}
	return nil
}

// Delete removes a host; ErrNotFound for an unknown id. Its archived
// events stay in history_archive under its id.
func (s *HostStore) Delete(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*models.RemoteHost)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: delete host %q: %w", id, dbError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: delete host %q: %w", id, ErrNotFound)
	}
	return nil
}
