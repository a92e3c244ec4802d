package repo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// userHandleBytes is the length of a WebAuthn user handle, the most the
// standard allows.
const userHandleBytes = 64

// PasskeyStore keeps the accounts' WebAuthn credentials (table passkeys)
// and user handles (table passkey_users).
type PasskeyStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewPasskeyStore returns a store on db.
func NewPasskeyStore(db bun.IDB) *PasskeyStore { return &PasskeyStore{db: db, now: time.Now} }

// UserHandle returns the user handle of an account, creating it (random,
// stored once) on first use.
func (s *PasskeyStore) UserHandle(ctx context.Context, userID int64) ([]byte, error) {
	var pu models.PasskeyUser
	err := s.db.NewSelect().Model(&pu).Where("user_id = ?", userID).Scan(ctx)
	if err == nil {
		return pu.Handle, nil
	}
	if err = dbError(err); !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("repo: user handle of %d: %w", userID, err)
	}
	pu = models.PasskeyUser{UserID: userID, Handle: make([]byte, userHandleBytes), CreatedAt: s.now().Unix()}
	rand.Read(pu.Handle)
	// Two requests may race to create it: the first one's handle stays.
	if _, err := s.db.NewInsert().Model(&pu).On("CONFLICT (user_id) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("repo: create user handle of %d: %w", userID, dbError(err))
	}
	if err := s.db.NewSelect().Model(&pu).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: user handle of %d: %w", userID, dbError(err))
	}
	return pu.Handle, nil
}

// UserOfHandle returns the account whose user handle is handle, or
// ErrNotFound.
func (s *PasskeyStore) UserOfHandle(ctx context.Context, handle []byte) (int64, error) {
	var pu models.PasskeyUser
	if err := s.db.NewSelect().Model(&pu).Where("handle = ?", handle).Scan(ctx); err != nil {
		return 0, fmt.Errorf("repo: user of a passkey handle: %w", dbError(err))
	}
	return pu.UserID, nil
}

// Add stores a new credential, stamping its creation time, and returns its
// id. A credential id that is already stored yields a *DuplicateError on
// "credential_id".
func (s *PasskeyStore) Add(ctx context.Context, p models.Passkey) (int64, error) {
	p.ID, p.CreatedAt, p.LastUsedAt = 0, s.now().Unix(), 0
	if _, err := s.db.NewInsert().Model(&p).Returning("id").Exec(ctx, &p.ID); err != nil {
		err = dbError(err)
		if errors.Is(err, ErrDuplicate) {
			err = &DuplicateError{Column: "credential_id", Err: err}
		}
		return 0, fmt.Errorf("repo: add passkey %q of user %d: %w", p.Name, p.UserID, err)
	}
	return p.ID, nil
}

// List returns an account's credentials, oldest first.
func (s *PasskeyStore) List(ctx context.Context, userID int64) ([]models.Passkey, error) {
	var out []models.Passkey
	if err := s.db.NewSelect().Model(&out).Where("user_id = ?", userID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: passkeys of user %d: %w", userID, dbError(err))
	}
	return out, nil
}

// Count returns how many credentials an account has.
func (s *PasskeyStore) Count(ctx context.Context, userID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*models.Passkey)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: count passkeys of user %d: %w", userID, dbError(err))
	}
	return n, nil
}

// RecordUse stores what a successful login with the credential id taught:
// its new sign count and flags, whether it looks cloned, and the time.
func (s *PasskeyStore) RecordUse(ctx context.Context, p models.Passkey) error {
	res, err := s.db.NewUpdate().Model((*models.Passkey)(nil)).
		Set("sign_count = ?", p.SignCount).Set("flags = ?", p.Flags).
		Set("clone_warning = ?", p.CloneWarning).Set("last_used_at = ?", s.now().Unix()).
		Where("id = ?", p.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: record use of passkey %d: %w", p.ID, dbError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: record use of passkey %d: %w", p.ID, ErrNotFound)
	}
	return nil
}

// Delete removes the credential id of the account userID, and returns its
// name; ErrNotFound when the account has no such credential.
func (s *PasskeyStore) Delete(ctx context.Context, userID, id int64) (string, error) {
	var p models.Passkey
	_, err := s.db.NewDelete().Model(&p).Where("id = ?", id).Where("user_id = ?", userID).
		Returning("name").Exec(ctx, &p.Name)
	if err != nil {
		return "", fmt.Errorf("repo: delete passkey %d of user %d: %w", id, userID, dbError(err))
	}
	return p.Name, nil
}
