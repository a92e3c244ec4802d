package repo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// SessionStore keeps scs sessions in the sessions table. Only the SHA-256 of
// each token is stored. It implements scs.Store and scs.CtxStore.
type SessionStore struct {
	db  *bun.DB
	now func() time.Time
}

// NewSessionStore returns a store on db.
func NewSessionStore(db *bun.DB) *SessionStore {
	return &SessionStore{db: db, now: time.Now}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of a live session; found is false for unknown or expired tokens.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row models.Session
	err := s.db.NewSelect().Model(&row).
		Where("token = ?", hashToken(token)).
		Where("expiry > ?", s.now().Unix()).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("repo: find session: %w", dbError(err))
	}
	return row.Data, true, nil
}

// CommitCtx inserts or replaces a session.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := models.Session{Token: hashToken(token), Data: b, Expiry: expiry.Unix()}
	_, err := s.db.NewInsert().Model(&row).
		On("CONFLICT (token) DO UPDATE").
		Set("data = EXCLUDED.data").
		Set("expiry = EXCLUDED.expiry").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: commit session: %w", dbError(err))
	}
	return nil
}

// DeleteCtx removes a session; deleting an unknown token is not an error.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.NewDelete().Model((*models.Session)(nil)).Where("token = ?", hashToken(token)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: delete session: %w", dbError(err))
	}
	return nil
}

// DeleteExpired removes sessions that expired before now and says how many.
func (s *SessionStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*models.Session)(nil)).Where("expiry <= ?", now.Unix()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: delete expired sessions: %w", dbError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repo: delete expired sessions: %w", dbError(err))
	}
	return n, nil
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}
