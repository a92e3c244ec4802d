// Package setup is first-run configuration: the setup form's rules, the
// one-time setup code, and the panel settings chosen at setup.
package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// Session length bounds, in minutes.
const (
	MinSessionMinutes = 5
	MaxSessionMinutes = 30 * 24 * 60
)

// ErrDone is returned when setup is attempted a second time.
var ErrDone = errors.New("setup has already been completed")

// Input is what the setup form submits.
type Input struct {
	Username       string // the first admin's
	Password       string
	Confirm        string
	Socket         string
	ConfigDir      string
	Timezone       string
	SessionMinutes string
	Code           string // the setup code, when one is required
}

// PanelSettings are the settings chosen at setup.
type PanelSettings struct {
	Socket          string
	ConfigDir       string
	Location        *time.Location
	SessionDuration time.Duration
}

// Service completes first-run configuration.
type Service struct {
	settings repo.Settings
	accounts *services.Accounts
	code     *Code // nil: no code asked (the demo sets itself up)
}

// New returns the setup use case on the panel's settings; the first admin
// becomes an account of accounts.
func New(settings repo.Settings, accounts *services.Accounts) *Service {
	return &Service{settings: settings, accounts: accounts}
}

// RequireCode makes Complete refuse input without the setup code, and
// delete the code's file once setup is done.
func (s *Service) RequireCode(c *Code) { s.code = c }

// CodeMatches reports whether code is the setup code, or no code is
// required.
func (s *Service) CodeMatches(code string) bool { return s.code == nil || s.code.Matches(code) }

// Done reports whether setup has been completed.
func (s *Service) Done(ctx context.Context) (bool, error) {
	_, err := s.settings.Get(ctx, models.SettingSetupCompleted)
	if errors.Is(err, repo.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Complete validates in and, when valid, stores it in one transaction,
// then makes the first admin an account (a crash in between is finished at
// the next start: see services.Accounts.AdoptMasterPassword). It returns a *services.ValidationError for bad input and ErrDone when setup
// was already completed (also by a concurrent request).
func (s *Service) Complete(ctx context.Context, in Input) (PanelSettings, error) {
	ps, verr := Validate(in)
	if !s.CodeMatches(in.Code) {
		msg := lang.M("acct.setup_code_missing", "File", CodeFile)
		if strings.TrimSpace(in.Code) != "" {
			msg = lang.M("acct.setup_code_wrong", "File", CodeFile)
		}
		verr.Add(models.SetupFieldCode, msg)
	}
	if !verr.Empty() {
		return ps, verr
	}
	hash, err := services.HashPassword(in.Password)
	if err != nil {
		return ps, fmt.Errorf("setup: %w", err)
	}
	stored, err := s.settings.SetManyOnce(ctx, models.SettingSetupCompleted, map[string]string{
		models.SettingPasswordHash:    hash,
		models.SettingFirstAdmin:      strings.TrimSpace(in.Username),
		models.SettingFail2banSocket:  ps.Socket,
		models.SettingFail2banConfDir: ps.ConfigDir,
		models.SettingTimezone:        ps.Location.String(),
		models.SettingSessionMinutes:  strconv.Itoa(int(ps.SessionDuration / time.Minute)),
		models.SettingSetupCompleted:  "1",
	})
	if err != nil {
		return ps, fmt.Errorf("setup: save: %w", err)
	}
	if !stored {
		return ps, ErrDone
	}
	if _, err := s.accounts.AdoptMasterPassword(ctx); err != nil {
		return ps, fmt.Errorf("setup: create the first admin: %w", err)
	}
	if s.code != nil {
		// Setup is stored: a code left behind would only mislead.
		_ = s.code.Remove()
	}
	return ps, nil
}

// maxSocketPath is the longest path a Unix socket can have on Linux
// (sun_path holds 108 bytes with the terminating NUL).
const maxSocketPath = 107

// Validate checks every field and returns one message per unmet rule.
func Validate(in Input) (PanelSettings, *services.ValidationError) {
	verr := &services.ValidationError{}
	var ps PanelSettings
	for _, msg := range services.UsernameProblems(strings.TrimSpace(in.Username)) {
		verr.Add(models.SetupFieldUsername, msg)
	}
	for _, msg := range services.PasswordProblems(in.Password) {
		verr.Add(models.SetupFieldPassword, msg)
	}
	if in.Confirm != in.Password {
		verr.Add(models.SetupFieldConfirm, services.MsgPasswordsDiffer)
	}
	ps.Socket = strings.TrimSpace(in.Socket)
	switch {
	case ps.Socket == "":
		verr.Add(models.SetupFieldSocket, lang.M("acct.socket_missing"))
	case !filepath.IsAbs(ps.Socket):
		verr.Add(models.SetupFieldSocket, lang.M("acct.path_not_absolute"))
	case len(ps.Socket) > maxSocketPath:
		verr.Add(models.SetupFieldSocket, lang.M("acct.socket_long", "Max", maxSocketPath, "Len", len(ps.Socket)))
	}
	ps.ConfigDir = strings.TrimSpace(in.ConfigDir)
	switch {
	case ps.ConfigDir == "":
		verr.Add(models.SetupFieldConfigDir, lang.M("acct.config_dir_missing"))
	case !filepath.IsAbs(ps.ConfigDir):
		verr.Add(models.SetupFieldConfigDir, lang.M("acct.path_not_absolute"))
	default:
		ps.ConfigDir = filepath.Clean(ps.ConfigDir)
		if fi, err := os.Stat(ps.ConfigDir); err == nil && !fi.IsDir() {
			verr.Add(models.SetupFieldConfigDir, lang.M("acct.config_dir_file"))
		}
	}
	loc, msg := ParseTimezone(in.Timezone)
	if !msg.IsZero() {
		verr.Add(models.SetupFieldTimezone, msg)
	}
	ps.Location = loc
	minutes, err := strconv.Atoi(strings.TrimSpace(in.SessionMinutes))
	switch {
	case err != nil:
		verr.Add(models.SetupFieldSessionMinutes, lang.M("acct.session_not_number"))
	case minutes < MinSessionMinutes || minutes > MaxSessionMinutes:
		verr.Add(models.SetupFieldSessionMinutes, lang.M("acct.session_range", "Min", MinSessionMinutes, "Max", MaxSessionMinutes))
	default:
		ps.SessionDuration = time.Duration(minutes) * time.Minute
	}
	return ps, verr
}

// ParseTimezone loads an IANA time zone. It returns a message for the user
// when the name is empty or unknown (a zero Message otherwise).
func ParseTimezone(name string) (*time.Location, lang.Message) {
	name = strings.TrimSpace(name)
	if name == "" {
		return time.UTC, lang.M("acct.timezone_missing")
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return time.UTC, lang.M("acct.timezone_not_iana", "Name", strconv.Quote(name))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, lang.M("acct.timezone_unknown", "Name", strconv.Quote(name))
	}
	return loc, lang.Message{}
}

// LoadPanelSettings reads the settings chosen at setup.
func LoadPanelSettings(ctx context.Context, st repo.Settings) (PanelSettings, error) {
	all, err := st.All(ctx)
	if err != nil {
		return PanelSettings{}, err
	}
	ps := PanelSettings{
		Socket:          all[models.SettingFail2banSocket],
		ConfigDir:       all[models.SettingFail2banConfDir],
		Location:        time.UTC,
		SessionDuration: 60 * time.Minute,
	}
	if loc, msg := ParseTimezone(all[models.SettingTimezone]); msg.IsZero() {
		ps.Location = loc
	}
	if m, err := strconv.Atoi(all[models.SettingSessionMinutes]); err == nil && m >= MinSessionMinutes {
		ps.SessionDuration = time.Duration(m) * time.Minute
	}
	return ps, nil
}
