package repo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/uptrace/bun"

	"bangui/models"
)

// SessionUserKey is the session value (an int64) that holds the id of the
// account a session is logged in as. The store copies it into the user_id
// column on every commit, so the sessions of one account can be listed and
// ended.
const SessionUserKey = "user_id"

// SessionStore keeps scs sessions in the sessions table. Only the SHA-256 of
// each token is stored. It implements scs.Store and scs.CtxStore.
type SessionStore struct {
	db    *bun.DB
	now   func() time.Time
	codec scs.Codec // decodes the data scs commits, for its SessionUserKey
}

// NewSessionStore returns a store on db.
func NewSessionStore(db *bun.DB) *SessionStore {
	return &SessionStore{db: db, now: time.Now, codec: scs.GobCodec{}}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SessionID is the id a session is stored under: the SHA-256 of its token.
// It names a session on pages without revealing the token.
func SessionID(token string) string { return hashToken(token) }

// userOf returns the account id a session's data holds, 0 for none.
func (s *SessionStore) userOf(b []byte) int64 {
	_, values, err := s.codec.Decode(b)
	if err != nil {
		return 0
	}
	id, _ := values[SessionUserKey].(int64)
	return id
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
	row := models.Session{Token: hashToken(token), Data: b, Expiry: expiry.Unix(), UserID: s.userOf(b)}
	_, err := s.db.NewInsert().Model(&row).
		On("CONFLICT (token) DO UPDATE").
		Set("data = EXCLUDED.data").
		Set("expiry = EXCLUDED.expiry").
		Set("user_id = EXCLUDED.user_id").
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

// ListByUser returns the live sessions of account userID, the one that
// expires last first. Their Token is the SessionID.
func (s *SessionStore) ListByUser(ctx context.Context, userID int64) ([]models.Session, error) {
	var out []models.Session
	err := s.db.NewSelect().Model(&out).
		Where("user_id = ?", userID).Where("expiry > ?", s.now().Unix()).
		OrderExpr("expiry DESC, token").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: list sessions of user %d: %w", userID, dbError(err))
	}
	return out, nil
}

// DeleteOfUser ends the session with SessionID id if it belongs to account
// userID, and says whether there was one.
func (s *SessionStore) DeleteOfUser(ctx context.Context, userID int64, id string) (bool, error) {
	res, err := s.db.NewDelete().Model((*models.Session)(nil)).
		Where("user_id = ?", userID).Where("token = ?", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("repo: end a session of user %d: %w", userID, dbError(err))
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteAllOfUser ends every session of account userID except the one with
// SessionID keep ("" keeps none), and says how many it ended.
func (s *SessionStore) DeleteAllOfUser(ctx context.Context, userID int64, keep string) (int64, error) {
	q := s.db.NewDelete().Model((*models.Session)(nil)).Where("user_id = ?", userID)
	if keep != "" {
		q = q.Where("token <> ?", keep)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: end the sessions of user %d: %w", userID, dbError(err))
	}
	n, _ := res.RowsAffected()
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
