package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// UserStore keeps the panel's accounts in the users table.
type UserStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewUserStore returns a store on db.
func NewUserStore(db bun.IDB) *UserStore { return &UserStore{db: db, now: time.Now} }

// Create stores a new user, stamping its times, and returns its id. A name
// that is taken (ignoring case) yields a *DuplicateError on "name".
func (s *UserStore) Create(ctx context.Context, u models.User) (int64, error) {
	now := s.now().Unix()
	u.ID, u.CreatedAt, u.UpdatedAt = 0, now, now
	if _, err := s.db.NewInsert().Model(&u).Returning("id").Exec(ctx, &u.ID); err != nil {
		err = dbError(err)
		if errors.Is(err, ErrDuplicate) {
			err = &DuplicateError{Column: "name", Err: err}
		}
		return 0, fmt.Errorf("repo: create user %q: %w", u.Name, err)
	}
	return u.ID, nil
}

// Get returns one user by id, or ErrNotFound.
func (s *UserStore) Get(ctx context.Context, id int64) (models.User, error) {
	var u models.User
	if err := s.db.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		return u, fmt.Errorf("repo: get user %d: %w", id, dbError(err))
	}
	return u, nil
}

// ByName returns one user by name, ignoring case, or ErrNotFound.
func (s *UserStore) ByName(ctx context.Context, name string) (models.User, error) {
	var u models.User
	if err := s.db.NewSelect().Model(&u).Where("lower(name) = lower(?)", name).Scan(ctx); err != nil {
		return u, fmt.Errorf("repo: get user %q: %w", name, dbError(err))
	}
	return u, nil
}

// List returns every user by name, ignoring case.
func (s *UserStore) List(ctx context.Context) ([]models.User, error) {
	var out []models.User
	if err := s.db.NewSelect().Model(&out).OrderExpr("lower(name), id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list users: %w", dbError(err))
	}
	return out, nil
}

// Count returns how many users there are.
func (s *UserStore) Count(ctx context.Context) (int64, error) {
	n, err := s.db.NewSelect().Model((*models.User)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: count users: %w", dbError(err))
	}
	return n, nil
}

// CountActiveAdmins returns how many enabled admins there are.
func (s *UserStore) CountActiveAdmins(ctx context.Context) (int64, error) {
	n, err := s.db.NewSelect().Model((*models.User)(nil)).
		Where("role = ?", models.RoleAdmin.String()).Where("disabled = ?", false).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: count admins: %w", dbError(err))
	}
	return n, nil
}

// SetRole changes a user's role.
func (s *UserStore) SetRole(ctx context.Context, id int64, r models.Role) error {
	return s.update(ctx, id, "role", r.String())
}

// SetDisabled disables or enables a user.
func (s *UserStore) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.update(ctx, id, "disabled", disabled)
}

// SetPasswordHash stores a new password hash.
func (s *UserStore) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	return s.update(ctx, id, "password_hash", hash)
}

// Delete removes a user; ErrNotFound for an unknown id.
func (s *UserStore) Delete(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*models.User)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: delete user %d: %w", id, dbError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: delete user %d: %w", id, ErrNotFound)
	}
	return nil
}

// update sets one column of a user and stamps updated_at; ErrNotFound for
// an unknown id.
func (s *UserStore) update(ctx context.Context, id int64, column string, value any) error {
	res, err := s.db.NewUpdate().Model((*models.User)(nil)).
		Set("? = ?", bun.Ident(column), value).Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: set %s of user %d: %w", column, id, dbError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: set %s of user %d: %w", column, id, ErrNotFound)
	}
	return nil
}
