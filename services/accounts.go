package services

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
)

// BcryptCost is the work factor of password hashes.
const BcryptCost = 12

// ErrLastAdmin refuses to remove, demote or disable the last enabled admin.
var ErrLastAdmin = repo.ErrLastAdmin

// noAccountHash is a bcrypt hash (of BcryptCost) that no password of
// interest matches: a login with an unknown name is checked against it, so
// it takes as long as one with a known name.
const noAccountHash = "$2a$12$AfPfTIo8k6Xn4P6DY.hjuufDSK1G7e54mPrGjbvdd.CochYa5BYVG"

// Accounts is the use case of the panel's user accounts: checking a login,
// and adding, changing and removing accounts. A disabled or removed
// account's sessions are ended at once.
type Accounts struct {
	users    *repo.UserStore
	sessions *repo.SessionStore
	settings repo.Settings
}

// NewAccounts returns the accounts use case.
func NewAccounts(users *repo.UserStore, sessions *repo.SessionStore, settings repo.Settings) *Accounts {
	return &Accounts{users: users, sessions: sessions, settings: settings}
}

// AdoptMasterPassword makes the master password an account, once: the
// first admin chosen at setup, or the account "admin" of an installation
// from before accounts. It is safe to call at every start and from several
// panel processes at once; it reports whether it created the account.
func (a *Accounts) AdoptMasterPassword(ctx context.Context) (bool, error) {
	_, created, err := a.users.AdoptMasterPassword(ctx)
	return created, err
}

// AdminNotice reports whether the login page must say that the master
// password became the password of the account admin.
func (a *Accounts) AdminNotice(ctx context.Context) bool {
	_, err := a.settings.Get(ctx, models.SettingAdminNotice)
	return err == nil
}

// Authenticate checks a login. It returns the account when name (ignoring
// case) names an enabled account whose password is pw, and ok false
// otherwise; every attempt costs one bcrypt comparison, so an unknown name
// answers as slowly as a known one. A successful login of the account admin
// ends the login page's notice.
func (a *Accounts) Authenticate(ctx context.Context, name, pw string) (u models.User, ok bool, err error) {
	u, err = a.users.ByName(ctx, strings.TrimSpace(name))
	hash := u.PasswordHash
	switch {
	case errors.Is(err, repo.ErrNotFound):
		hash = noAccountHash
	case err != nil:
		return u, false, err
	}
	err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) || hash == noAccountHash || u.Disabled || u.RoleOf() == models.RoleNone {
		return models.User{}, false, nil
	}
	if err != nil {
		return models.User{}, false, fmt.Errorf("services: check password: %w", err)
	}
	if strings.EqualFold(u.Name, repo.MasterAdminName) {
		if err := a.settings.Delete(ctx, models.SettingAdminNotice); err != nil {
			return u, true, err
		}
	}
	return u, true, nil
}

// List returns every account by name.
func (a *Accounts) List(ctx context.Context) ([]models.User, error) { return a.users.List(ctx) }

// NewUser is the add-account form.
type NewUser struct {
	Name, Password, Confirm, Role string
}

// Add creates an account. It returns a *ValidationError for a bad name, a
// name that is taken, a weak password or an unknown role.
func (a *Accounts) Add(ctx context.Context, in NewUser) (models.User, error) {
	verr := &ValidationError{}
	name := strings.TrimSpace(in.Name)
	for _, msg := range UsernameProblems(name) {
		verr.Add(models.AccountFieldUsername, msg)
	}
	checkNewPassword(verr, in.Password, in.Confirm)
	role, err := models.ParseRole(in.Role)
	if err != nil {
		verr.Add(models.AccountFieldRole, lang.M("acct.role_choose"))
	}
	if !verr.Empty() {
		return models.User{}, verr
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return models.User{}, err
	}
	u := models.User{Name: name, PasswordHash: hash, Role: role.String()}
	u.ID, err = a.users.Create(ctx, u)
	if errors.Is(err, repo.ErrDuplicate) {
		verr.Add(models.AccountFieldUsername, lang.M("acct.username_taken"))
		return u, verr
	}
	return u, err
}

// SetRole changes an account's role and returns it as it was before and
// after; ErrLastAdmin when it is the last enabled admin.
func (a *Accounts) SetRole(ctx context.Context, id int64, role models.Role) (before, after models.User, err error) {
	if role == models.RoleNone {
		return before, after, Invalid(models.AccountFieldRole, lang.M("acct.role_choose"))
	}
	return a.users.Edit(ctx, id, func(u *models.User) error { u.Role = role.String(); return nil })
}

// SetDisabled disables or enables an account; disabling ends its sessions.
// ErrLastAdmin when it is the last enabled admin.
func (a *Accounts) SetDisabled(ctx context.Context, id int64, disabled bool) (models.User, error) {
	_, u, err := a.users.Edit(ctx, id, func(u *models.User) error { u.Disabled = disabled; return nil })
	if err == nil && disabled {
		_, err = a.sessions.DeleteAllOfUser(ctx, id, "")
	}
	return u, err
}

// ResetPassword gives an account a new password (the admin tells its
// owner) and ends its sessions.
func (a *Accounts) ResetPassword(ctx context.Context, id int64, pw, confirm string) (models.User, error) {
	verr := &ValidationError{}
	checkNewPassword(verr, pw, confirm)
	if !verr.Empty() {
		return models.User{}, verr
	}
	u, err := a.setPassword(ctx, id, pw)
	if err == nil {
		_, err = a.sessions.DeleteAllOfUser(ctx, id, "")
	}
	return u, err
}

// ChangeOwnPassword changes the password of account id after checking its
// current one, and ends its other sessions (all but the one with SessionID
// keep).
func (a *Accounts) ChangeOwnPassword(ctx context.Context, id int64, current, pw, confirm, keep string) error {
	verr := &ValidationError{}
	u, err := a.users.Get(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		verr.Add(models.AccountFieldCurrentPassword, lang.M("acct.password_not_current"))
	}
	checkNewPassword(verr, pw, confirm)
	if !verr.Empty() {
		return verr
	}
	if _, err := a.setPassword(ctx, id, pw); err != nil {
		return err
	}
	_, err = a.sessions.DeleteAllOfUser(ctx, id, keep)
	return err
}

func (a *Accounts) setPassword(ctx context.Context, id int64, pw string) (models.User, error) {
	hash, err := HashPassword(pw)
	if err != nil {
		return models.User{}, err
	}
	_, u, err := a.users.Edit(ctx, id, func(u *models.User) error { u.PasswordHash = hash; return nil })
	return u, err
}

// Remove deletes an account and ends its sessions; ErrLastAdmin when it is
// the last enabled admin.
func (a *Accounts) Remove(ctx context.Context, id int64) (models.User, error) {
	u, err := a.users.Remove(ctx, id)
	if err == nil {
		_, err = a.sessions.DeleteAllOfUser(ctx, id, "")
	}
	return u, err
}

// Sessions returns the live sessions of account id.
func (a *Accounts) Sessions(ctx context.Context, id int64) ([]models.Session, error) {
	return a.sessions.ListByUser(ctx, id)
}

// EndSession ends one session of account id (by its repo.SessionID) and
// says whether there was one.
func (a *Accounts) EndSession(ctx context.Context, id int64, session string) (bool, error) {
	return a.sessions.DeleteOfUser(ctx, id, session)
}

// EndAllSessions ends every session of account id but keep ("" for none)
// and says how many it ended.
func (a *Accounts) EndAllSessions(ctx context.Context, id int64, keep string) (int64, error) {
	return a.sessions.DeleteAllOfUser(ctx, id, keep)
}

// HashPassword returns the bcrypt hash of pw.
func HashPassword(pw string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	if err != nil {
		return "", fmt.Errorf("services: hash password: %w", err)
	}
	return string(hash), nil
}

func checkNewPassword(verr *ValidationError, pw, confirm string) {
	for _, msg := range PasswordProblems(pw) {
		verr.Add(models.AccountFieldPassword, msg)
	}
	if confirm != pw {
		verr.Add(models.AccountFieldConfirm, MsgPasswordsDiffer)
	}
}

// MsgPasswordsDiffer refuses a new password whose repetition differs.
var MsgPasswordsDiffer = lang.M("acct.passwords_differ")

// Bounds of a password's length, in bytes (bcrypt reads at most 72).
const (
	minPassword = 8
	maxPassword = 72
)

// PasswordProblems lists every rule a new password breaks.
func PasswordProblems(pw string) []lang.Message {
	var out []lang.Message
	if len(pw) < minPassword {
		out = append(out, lang.M("acct.password_short", "Min", minPassword))
	}
	if len(pw) > maxPassword {
		out = append(out, lang.M("acct.password_long", "Max", maxPassword))
	}
	if !strings.ContainsFunc(pw, unicode.IsUpper) {
		out = append(out, lang.M("acct.password_upper"))
	}
	if !strings.ContainsFunc(pw, unicode.IsDigit) {
		out = append(out, lang.M("acct.password_digit"))
	}
	return out
}

// maxUsername is the longest user name, in bytes.
const maxUsername = 64

// UsernameProblems lists every rule a new user name breaks: 1 to 64
// letters, digits and . _ - @.
func UsernameProblems(name string) []lang.Message {
	switch {
	case name == "":
		return []lang.Message{lang.M("acct.username_missing")}
	case len(name) > maxUsername:
		return []lang.Message{lang.M("acct.username_long", "Max", maxUsername)}
	case strings.ContainsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r)
	}):
		return []lang.Message{lang.M("acct.username_chars")}
	}
	return nil
}
