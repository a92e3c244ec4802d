package models

// Role is what an identity may do in the panel. Roles are ordered: each
// allows everything the roles below it allow.
type Role int

// The roles, lowest first. Today the only identity is the master-password
// admin; the roles below it arrive with user accounts.
const (
	RoleNone Role = iota // not logged in
	RoleAdmin
)

// Allows reports whether r may do what need requires.
func (r Role) Allows(need Role) bool { return r >= need }

// String names the role for logs and pages.
func (r Role) String() string {
	switch r {
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Identity is who made a request.
type Identity struct {
	Name string // what pages and logs call them
	Role Role
}

// MasterAdmin is the identity of whoever logs in with the master password.
var MasterAdmin = Identity{Name: "admin", Role: RoleAdmin}

// LoggedIn reports whether the identity is a logged-in one.
func (id Identity) LoggedIn() bool { return id.Role > RoleNone }
