package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TokenStore keeps the API's personal access tokens in the api_tokens table.
type TokenStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewTokenStore returns a store on db.
func NewTokenStore(db bun.IDB) *TokenStore { return &TokenStore{db: db, now: time.Now} }

// Create stores a new token (its hash, never its secret), stamping its
// creation time, and returns its id.
func (s *TokenStore) Create(ctx context.Context, t models.APIToken) (int64, error) {
	t.ID, t.CreatedAt, t.LastUsedAt, t.RevokedAt = 0, s.now().Unix(), nil, nil
	if _, err := s.db.NewInsert().Model(&t).Returning("id").Exec(ctx, &t.ID); err != nil {
		return 0, fmt.Errorf("repo: create token %q: %w", t.Name, dbError(err))
	}
	return t.ID, nil
}

// tokenOwnerRow is a token joined with its user.
type tokenOwnerRow struct {
	models.APIToken `bun:",extend"`
	UserName        string `bun:"user_name"`
	UserRole        string `bun:"user_role"`
	UserDisabled    bool   `bun:"user_disabled"`
}

// ByHash returns the token whose hash is hash, with its user, or
// ErrNotFound. It does not judge the token: the caller checks expiry,
// revocation and the user's state.
func (s *TokenStore) ByHash(ctx context.Context, hash string) (models.TokenOwner, error) {
	var row tokenOwnerRow
	err := s.db.NewSelect().Model(&row).ModelTableExpr("api_tokens AS t").ColumnExpr("t.*").
		ColumnExpr("u.name AS user_name, u.role AS user_role, u.disabled AS user_disabled").
		Join("JOIN users AS u ON u.id = t.user_id").Where("t.hash = ?", hash).Limit(1).Scan(ctx)
	if err != nil {
		return models.TokenOwner{}, fmt.Errorf("repo: token by hash: %w", dbError(err))
	}
	role, _ := models.ParseRole(row.UserRole)
	return models.TokenOwner{Token: row.APIToken, UserName: row.UserName, UserRole: role, Disabled: row.UserDisabled}, nil
}

// List returns the tokens of one user (userID > 0) or of every user
// (userID 0), newest first, with their users' names.
func (s *TokenStore) List(ctx context.Context, userID int64) ([]models.TokenInfo, error) {
	out := []models.TokenInfo{}
	q := s.db.NewSelect().Model(&out).ModelTableExpr("api_tokens AS t").ColumnExpr("t.*").
		ColumnExpr("u.name AS user_name").Join("JOIN users AS u ON u.id = t.user_id").
		OrderExpr("t.created_at DESC, t.id DESC")
	if userID > 0 {
		q = q.Where("t.user_id = ?", userID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list tokens: %w", dbError(err))
	}
	return out, nil
}

// Revoke ends a token for good: of user userID, or of anyone when userID
// is 0. A token that is not there (or not the user's) is ErrNotFound; one
// revoked before keeps its first revocation time.
func (s *TokenStore) Revoke(ctx context.Context, id, userID int64) (models.APIToken, error) {
	var t models.APIToken
	q := s.db.NewSelect().Model(&t).Where("id = ?", id)
	if userID > 0 {
		q = q.Where("user_id = ?", userID)
	}
	if err := q.Scan(ctx); err != nil {
		return t, fmt.Errorf("repo: revoke token %d: %w", id, dbError(err))
	}
	if t.Revoked() {
		return t, nil
	}
	now := s.now().Unix()
	if _, err := s.db.NewUpdate().Model((*models.APIToken)(nil)).Set("revoked_at = ?", now).
		Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx); err != nil {
		return t, fmt.Errorf("repo: revoke token %d: %w", id, dbError(err))
	}
	t.RevokedAt = &now
	return t, nil
}

// MarkUsed stores at (unix seconds) as the token's last use.
func (s *TokenStore) MarkUsed(ctx context.Context, id, at int64) error {
	if _, err := s.db.NewUpdate().Model((*models.APIToken)(nil)).Set("last_used_at = ?", at).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("repo: mark token %d used: %w", id, dbError(err))
	}
	return nil
}
