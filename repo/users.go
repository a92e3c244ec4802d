package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

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

// SetLanguage stores the user's language ("" follows the browser).
func (s *UserStore) SetLanguage(ctx context.Context, id int64, code string) error {
	return s.update(ctx, id, "language", code)
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

// ErrLastAdmin refuses a change that would leave no enabled admin.
var ErrLastAdmin = errors.New("the last enabled admin cannot be removed, demoted or disabled")

// MasterAdminName is the account the master password of an installation
// from before accounts becomes.
const MasterAdminName = "admin"

// lockUsers serialises the transactions that change accounts, so two of
// them (two admins, two panel processes) cannot each remove one of the last
// two admins. SQLite transactions take the write lock at their start;
// PostgreSQL ones take a transaction-scoped advisory lock.
func lockUsers(ctx context.Context, tx bun.Tx) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('bangui.users'))`)
	return err
}

// Edit changes user id with change in one transaction and returns the user
// before and after. It refuses with ErrLastAdmin when afterwards no enabled
// admin would remain; an error of change is returned wrapped.
func (s *UserStore) Edit(ctx context.Context, id int64, change func(u *models.User) error) (before, after models.User, err error) {
	err = inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUsers(ctx, tx); err != nil {
			return err
		}
		st := &UserStore{db: tx, now: s.now}
		u, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		before, after = u, u
		if err := change(&after); err != nil {
			return err
		}
		after.UpdatedAt = s.now().Unix()
		if _, err := tx.NewUpdate().Model(&after).Column("role", "disabled", "password_hash", "updated_at").WherePK().Exec(ctx); err != nil {
			return dbError(err)
		}
		if activeAdmin(before) && !activeAdmin(after) {
			return st.keepAnAdmin(ctx)
		}
		return nil
	})
	if err != nil {
		return before, after, fmt.Errorf("repo: change user %d: %w", id, err)
	}
	return before, after, nil
}

// Remove deletes user id and returns it; ErrLastAdmin when it is the last
// enabled admin, ErrNotFound when there is no such user.
func (s *UserStore) Remove(ctx context.Context, id int64) (models.User, error) {
	var u models.User
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUsers(ctx, tx); err != nil {
			return err
		}
		st := &UserStore{db: tx, now: s.now}
		var err error
		if u, err = st.Get(ctx, id); err != nil {
			return err
		}
		if err := st.Delete(ctx, id); err != nil {
			return err
		}
		if activeAdmin(u) {
			return st.keepAnAdmin(ctx)
		}
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("repo: remove user %d: %w", id, err)
	}
	return u, nil
}

// activeAdmin reports whether u is an enabled admin.
func activeAdmin(u models.User) bool { return !u.Disabled && u.RoleOf() == models.RoleAdmin }

// keepAnAdmin returns ErrLastAdmin when no enabled admin is left.
func (s *UserStore) keepAnAdmin(ctx context.Context) error {
	n, err := s.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// AdoptMasterPassword turns the master password hash kept in settings into
// an admin account, in one transaction that two panel processes may run at
// once: when settings hold the hash and no account exists, it creates the
// account named by SettingFirstAdmin (set by setup) with that hash, or, for
// an installation from before accounts, the account MasterAdminName and
// the SettingAdminNotice; then it removes the hash and the name. Otherwise
// it changes nothing. It reports whether it created the account.
func (s *UserStore) AdoptMasterPassword(ctx context.Context) (models.User, bool, error) {
	var u models.User
	created := false
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUsers(ctx, tx); err != nil {
			return err
		}
		st := &UserStore{db: tx, now: s.now}
		settings := NewSettingsStore(tx)
		hash, err := settings.Get(ctx, models.SettingPasswordHash)
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if n, err := st.Count(ctx); err != nil || n > 0 {
			return err
		}
		name, err := settings.Get(ctx, models.SettingFirstAdmin)
		legacy := errors.Is(err, ErrNotFound)
		switch {
		case legacy:
			name = MasterAdminName
		case err != nil:
			return err
		}
		u = models.User{Name: name, PasswordHash: hash, Role: models.RoleAdmin.String()}
		if u.ID, err = st.Create(ctx, u); err != nil {
			return err
		}
		for _, k := range []string{models.SettingPasswordHash, models.SettingFirstAdmin} {
			if err := settings.Delete(ctx, k); err != nil {
				return err
			}
		}
		if legacy {
			if err := settings.Set(ctx, models.SettingAdminNotice, "1"); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	if err != nil {
		return models.User{}, false, fmt.Errorf("repo: turn the master password into an account: %w", err)
	}
	return u, created, nil
}
