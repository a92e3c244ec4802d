package models

import "fmt"

// Role is what an identity may do in the panel. Roles are ordered: each
// allows everything the roles below it allow.
type Role int

// The roles, lowest first.
const (
	RoleNone     Role = iota // not logged in
	RoleViewer               // reads every page, changes nothing
	RoleOperator             // bans, unbans, ignore lists, allow-list, blocklist imports
	RoleAdmin                // everything, including users, hosts and configuration
)

// Roles lists the roles an account can have, lowest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

// Allows reports whether r may do what need requires.
func (r Role) Allows(need Role) bool { return r >= need }

// String names the role for logs, pages and the database.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole returns the role String names; RoleNone and an error for
// anything else.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if r.String() == s {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q", s)
}

// Identity is who made a request: a user logged in with a session cookie,
// or a user's API token (TokenID set). Role is what this request may do:
// for a token, the lower of its scope and its user's role.
type Identity struct {
	UserID  int64  // the users row; 0 for the master-password admin of a session stored before accounts
	Name    string // what pages and logs call them: the user name
	Role    Role
	TokenID int64 // the api_tokens row when the request came with a token
}

// MasterAdmin is the identity of a session logged in before user accounts
// existed (the master password): the account "admin".
var MasterAdmin = Identity{Name: "admin", Role: RoleAdmin}

// LoggedIn reports whether the identity is a logged-in one.
func (id Identity) LoggedIn() bool { return id.Role > RoleNone }

// ViaToken reports whether the request came with an API token.
func (id Identity) ViaToken() bool { return id.TokenID != 0 }
