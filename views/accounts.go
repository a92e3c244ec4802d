package views

import (
	"context"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"bangui/lang"
	"bangui/models"
)

// Can reports whether the request's identity has at least role need: pages
// show a form or link only to those whose role the route table lets use
// it.
func Can(ctx context.Context, need models.Role) bool {
	id := RequestFrom(ctx).Identity
	return id.LoggedIn() && id.Role.Allows(need)
}

// LoginForm is the login page.
type LoginForm struct {
	Error    string
	Next     string // where to go afterwards
	Username string
	// AdminNotice says that the master password became the password of
	// the account admin (an installation from before accounts).
	AdminNotice bool
}

// UserForm is the add-account form, or one account's reset-password form.
type UserForm struct {
	Username string
	Role     string
	Errors   map[string][]string // field name → messages
}

func (f UserForm) errs(field string) []string { return f.Errors[field] }

// UsersPage is /users: every account and the add form. Form holds the
// messages of a refused change of one account (FormUser).
type UsersPage struct {
	Users    []models.User
	Add      UserForm
	FormUser int64
	Form     UserForm
}

// roleOptions are the roles an account can have, for a select.
func roleOptions(ctx context.Context) []Option {
	out := make([]Option, len(models.Roles))
	for i, r := range models.Roles {
		out[i] = Option{Value: r.String(), Label: roleLabel(ctx, r)}
	}
	return out
}

func userURL(id int64) string { return "/users/" + strconv.FormatInt(id, 10) }

// AccountSession is one of the own sessions listed on /account.
type AccountSession struct {
	ID      string // repo.SessionID
	Current bool   // the session of this request
	LoginAt time.Time
	Client  string
	Agent   string
	Expires time.Time
}

// AccountPage is /account: the own password, the own sessions, and the
// sections other features add (API tokens, second factors), in order.
type AccountPage struct {
	User     models.User
	Password UserForm // the change-password form's messages
	Sessions []AccountSession
	Sections []templ.Component
}

// formErrs are the messages of field in the refused form of account id.
func formErrs(p UsersPage, id int64, field string) []string {
	if p.FormUser != id {
		return nil
	}
	return p.Form.Errors[field]
}

// defaultRole is the role the add form selects: the one typed, or viewer.
func defaultRole(r string) string {
	if r == "" {
		return models.RoleViewer.String()
	}
	return r
}

// languageOptions are the panel's languages, each named in itself.
func languageOptions() []Option {
	var out []Option
	for _, code := range lang.Codes() {
		out = append(out, Option{Value: code, Label: lang.Get(code).T("lang.name")})
	}
	return out
}
