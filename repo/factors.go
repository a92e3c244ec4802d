package repo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// FactorStore keeps the users' second factors: the authenticator app
// (user_totp) and the one-time recovery codes (user_recovery_codes). Both go
// with their user (ON DELETE CASCADE).
type FactorStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewFactorStore returns a store on db.
func NewFactorStore(db bun.IDB) *FactorStore { return &FactorStore{db: db, now: time.Now} }

// TOTP returns the user's authenticator app, confirmed or not, or
// ErrNotFound.
func (s *FactorStore) TOTP(ctx context.Context, userID int64) (models.UserTOTP, error) {
	var t models.UserTOTP
	if err := s.db.NewSelect().Model(&t).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return t, fmt.Errorf("repo: totp of user %d: %w", userID, dbError(err))
	}
	return t, nil
}

// StartTOTP stores secret as the user's unconfirmed authenticator app,
// replacing an unconfirmed one. A confirmed one stays: ErrDuplicate.
func (s *FactorStore) StartTOTP(ctx context.Context, userID int64, secret string) error {
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.UserTOTP)(nil)).
			Where("user_id = ?", userID).Where("confirmed = ?", false).Exec(ctx); err != nil {
			return err
		}
		t := models.UserTOTP{UserID: userID, Secret: secret, CreatedAt: s.now().Unix()}
		_, err := tx.NewInsert().Model(&t).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("repo: start totp of user %d: %w", userID, err)
	}
	return nil
}

// ConfirmTOTP marks the user's unconfirmed authenticator app confirmed,
// with step (the time step of the code that confirmed it) as its last used
// step. ErrNotFound when there is no unconfirmed one.
func (s *FactorStore) ConfirmTOTP(ctx context.Context, userID, step int64) error {
	res, err := s.db.NewUpdate().Model((*models.UserTOTP)(nil)).
		Set("confirmed = ?", true).Set("confirmed_at = ?", s.now().Unix()).Set("last_step = ?", step).
		Where("user_id = ?", userID).Where("confirmed = ?", false).Exec(ctx)
	what := fmt.Sprintf("confirm totp of user %d", userID)
	ok, err := changed(res, err, what)
	if err == nil && !ok {
		err = fmt.Errorf("repo: %s: %w", what, ErrNotFound)
	}
	return err
}

// UseTOTPStep records that a code of time step step was accepted for the
// user's confirmed authenticator app. It reports false, changing nothing,
// when a code of this step or a later one was accepted before: each code
// works once, even for two requests at the same instant.
func (s *FactorStore) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.db.NewUpdate().Model((*models.UserTOTP)(nil)).Set("last_step = ?", step).
		Where("user_id = ?", userID).Where("confirmed = ?", true).Where("last_step < ?", step).Exec(ctx)
	return changed(res, err, fmt.Sprintf("use totp step of user %d", userID))
}

// DeleteTOTP removes the user's authenticator app; deleting none is no
// error.
func (s *FactorStore) DeleteTOTP(ctx context.Context, userID int64) error {
	if _, err := s.db.NewDelete().Model((*models.UserTOTP)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("repo: delete totp of user %d: %w", userID, dbError(err))
	}
	return nil
}

// ReplaceRecoveryCodes makes hashes the user's only recovery codes, all
// unused.
func (s *FactorStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	now := s.now().Unix()
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.RecoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		if len(hashes) == 0 {
			return nil
		}
		rows := make([]models.RecoveryCode, len(hashes))
		for i, h := range hashes {
			rows[i] = models.RecoveryCode{UserID: userID, CodeHash: h, CreatedAt: now}
		}
		_, err := tx.NewInsert().Model(&rows).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("repo: replace recovery codes of user %d: %w", userID, err)
	}
	return nil
}

// UseRecoveryCode spends the user's unused recovery code with this hash. It
// reports false when there is none (wrong, or used already); of two requests
// with the same code only one succeeds.
func (s *FactorStore) UseRecoveryCode(ctx context.Context, userID int64, hash string) (bool, error) {
	res, err := s.db.NewUpdate().Model((*models.RecoveryCode)(nil)).Set("used_at = ?", s.now().Unix()).
		Where("user_id = ?", userID).Where("code_hash = ?", hash).Where("used_at = 0").Exec(ctx)
	return changed(res, err, fmt.Sprintf("use recovery code of user %d", userID))
}

// RecoveryCodesLeft returns how many unused recovery codes the user has.
func (s *FactorStore) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := s.db.NewSelect().Model((*models.RecoveryCode)(nil)).
		Where("user_id = ?", userID).Where("used_at = 0").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: count recovery codes of user %d: %w", userID, dbError(err))
	}
	return int(n), nil
}

// Reset removes all the user's second factors at once: authenticator app,
// recovery codes and passkeys (an admin's reset after a lost device).
func (s *FactorStore) Reset(ctx context.Context, userID int64) error {
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.UserTOTP)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*models.RecoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model((*models.Passkey)(nil)).Where("user_id = ?", userID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("repo: reset factors of user %d: %w", userID, err)
	}
	return nil
}

// changed runs an update's result through affectedOne: whether it
// changed a row.
func changed(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("repo: %s: %w", what, dbError(err))
	}
	return affectedOne(res, what)
}
