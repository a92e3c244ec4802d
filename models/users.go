package models

import "github.com/uptrace/bun"

// User is one account of the panel (table users).
type User struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name,notnull"`          // unique, compared case-insensitively
	PasswordHash  string `bun:"password_hash,notnull"` // bcrypt
	Role          string `bun:"role,notnull"`          // a Role's String
	Disabled      bool   `bun:"disabled,notnull"`      // a disabled user's sessions and tokens stop at once
	Language      string `bun:"language,notnull"`      // the panel's language for this user ("en", "de"); "" follows the browser
	CreatedAt     int64  `bun:"created_at,notnull"`    // unix seconds
	UpdatedAt     int64  `bun:"updated_at,notnull"`    // unix seconds
}

// RoleOf returns the user's role, RoleNone if the stored name is unknown.
func (u User) RoleOf() Role {
	r, _ := ParseRole(u.Role)
	return r
}

// Identity returns who a request made by this user is.
func (u User) Identity() Identity {
	return Identity{UserID: u.ID, Name: u.Name, Role: u.RoleOf()}
}
