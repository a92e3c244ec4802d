package models

import (
	"fmt"

	"github.com/uptrace/bun"
)

// TokenScope is what an API token may do at most: read, operate or admin.
// A request with the token may do the lower of its scope's role and its
// user's role.
type TokenScope string

// The token scopes, lowest first.
const (
	ScopeRead    TokenScope = "read"    // what a viewer may do
	ScopeOperate TokenScope = "operate" // what an operator may do: ban, unban, ignore lists, imports
	ScopeAdmin   TokenScope = "admin"   // what an admin may do
)

// TokenScopes lists the scopes, lowest first.
var TokenScopes = []TokenScope{ScopeRead, ScopeOperate, ScopeAdmin}

// Role is the role the scope stands for; RoleNone for an unknown scope.
func (s TokenScope) Role() Role {
	switch s {
	case ScopeRead:
		return RoleViewer
	case ScopeOperate:
		return RoleOperator
	case ScopeAdmin:
		return RoleAdmin
	}
	return RoleNone
}

// ScopeOf is the scope that stands for role r ("" for RoleNone).
func ScopeOf(r Role) TokenScope {
	for _, s := range TokenScopes {
		if s.Role() == r {
			return s
		}
	}
	return ""
}

// ParseTokenScope returns the scope s names, or an error.
func ParseTokenScope(s string) (TokenScope, error) {
	for _, sc := range TokenScopes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("unknown token scope %q", s)
}

// APIToken is one personal access token (table api_tokens). The secret is
// never stored: Hash is the hex SHA-256 of the whole token text.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`
	ID            int64      `bun:"id,pk,autoincrement"`
	UserID        int64      `bun:"user_id,notnull"`
	Name          string     `bun:"name,notnull"`
	Scope         TokenScope `bun:"scope,notnull"`
	Hash          string     `bun:"hash,notnull"`
	CreatedAt     int64      `bun:"created_at,notnull"` // unix seconds
	ExpiresAt     *int64     `bun:"expires_at"`         // nil: never
	LastUsedAt    *int64     `bun:"last_used_at"`       // nil: never used
	RevokedAt     *int64     `bun:"revoked_at"`         // nil: not revoked
}

// Expired reports whether the token's expiry has passed at now (unix seconds).
func (t APIToken) Expired(now int64) bool { return t.ExpiresAt != nil && *t.ExpiresAt <= now }

// Revoked reports whether the token was revoked.
func (t APIToken) Revoked() bool { return t.RevokedAt != nil }

// Usable reports whether a request may use the token at now.
func (t APIToken) Usable(now int64) bool { return !t.Revoked() && !t.Expired(now) }

// TokenOwner is a token with what the API needs to know of its user.
type TokenOwner struct {
	Token    APIToken
	UserName string
	UserRole Role
	Disabled bool
}

// Identity is who a request with the token is: its user, with the lower
// of the token's scope and the user's role.
func (o TokenOwner) Identity() Identity {
	return Identity{UserID: o.Token.UserID, Name: o.UserName, Role: min(o.Token.Scope.Role(), o.UserRole), TokenID: o.Token.ID}
}

// TokenInfo is a token as the token list shows it, with its user's name.
type TokenInfo struct {
	APIToken `bun:",extend"`
	UserName string `bun:"user_name"`
}
