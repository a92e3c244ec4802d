package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"bangui/models"
	"bangui/repo"
)

// Session length bounds, in minutes.
const (
	MinSessionMinutes = 5
	MaxSessionMinutes = 30 * 24 * 60
)

// BcryptCost is the work factor for the master password hash.
const BcryptCost = 12

// ErrSetupDone is returned when setup is attempted a second time.
var ErrSetupDone = errors.New("setup has already been completed")

// SetupInput is what the setup form submits.
type SetupInput struct {
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

// Setup completes first-run configuration.
type Setup struct {
	db   *bun.DB
	code *SetupCode // nil: no code asked (the demo sets itself up)
}

// NewSetup returns the setup use case on BanGUI's database.
func NewSetup(db *bun.DB) *Setup { return &Setup{db: db} }

// RequireCode makes Complete refuse input without the setup code, and
// delete the code's file once setup is done.
func (s *Setup) RequireCode(c *SetupCode) { s.code = c }

// Done reports whether setup has been completed.
func (s *Setup) Done(ctx context.Context) (bool, error) {
	_, err := repo.NewSettingsStore(s.db).Get(ctx, models.SettingSetupCompleted)
	if errors.Is(err, repo.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Complete validates in and, when valid, stores it in one transaction.
// It returns a *ValidationError for bad input and ErrSetupDone when setup
// was already completed (also by a concurrent request).
func (s *Setup) Complete(ctx context.Context, in SetupInput) (PanelSettings, error) {
	ps, verr := ValidateSetup(in)
	if s.code != nil && !s.code.Matches(in.Code) {
		msg := "Enter the setup code: BanGUI printed it in its log when it started, and keeps it in the file " +
			SetupCodeFile + " in its data directory."
		if strings.TrimSpace(in.Code) != "" {
			msg = "This is not the setup code. " + msg
		}
		verr.add(models.SetupFieldCode, msg)
	}
	if !verr.empty() {
		return ps, verr
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), BcryptCost)
	if err != nil {
		return ps, fmt.Errorf("services: hash password: %w", err)
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := repo.NewSettingsStore(tx)
		if _, err := st.Get(ctx, models.SettingSetupCompleted); err == nil {
			return ErrSetupDone
		} else if !errors.Is(err, repo.ErrNotFound) {
			return err
		}
		return st.SetMany(ctx, map[string]string{
			models.SettingPasswordHash:    string(hash),
			models.SettingFail2banSocket:  ps.Socket,
			models.SettingFail2banConfDir: ps.ConfigDir,
			models.SettingTimezone:        ps.Location.String(),
			models.SettingSessionMinutes:  strconv.Itoa(int(ps.SessionDuration / time.Minute)),
			models.SettingSetupCompleted:  "1",
		})
	})
	if err != nil {
		if errors.Is(err, ErrSetupDone) {
			return ps, ErrSetupDone
		}
		return ps, fmt.Errorf("services: save setup: %w", err)
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

// ValidateSetup checks every field and returns one message per unmet rule.
func ValidateSetup(in SetupInput) (PanelSettings, *ValidationError) {
	verr := &ValidationError{}
	var ps PanelSettings
	for _, msg := range PasswordProblems(in.Password) {
		verr.add(models.SetupFieldPassword, msg)
	}
	if in.Confirm != in.Password {
		verr.add(models.SetupFieldConfirm, "The two passwords differ.")
	}
	ps.Socket = strings.TrimSpace(in.Socket)
	switch {
	case ps.Socket == "":
		verr.add(models.SetupFieldSocket, "Enter the path of the fail2ban socket.")
	case !filepath.IsAbs(ps.Socket):
		verr.add(models.SetupFieldSocket, "Use an absolute path, starting with /.")
	case len(ps.Socket) > maxSocketPath:
		verr.add(models.SetupFieldSocket, fmt.Sprintf("A socket path can be at most %d bytes long; this one has %d.", maxSocketPath, len(ps.Socket)))
	}
	ps.ConfigDir = strings.TrimSpace(in.ConfigDir)
	switch {
	case ps.ConfigDir == "":
		verr.add(models.SetupFieldConfigDir, "Enter fail2ban's configuration directory.")
	case !filepath.IsAbs(ps.ConfigDir):
		verr.add(models.SetupFieldConfigDir, "Use an absolute path, starting with /.")
	default:
		ps.ConfigDir = filepath.Clean(ps.ConfigDir)
		if fi, err := os.Stat(ps.ConfigDir); err == nil && !fi.IsDir() {
			verr.add(models.SetupFieldConfigDir, "This path is a file, not a directory.")
		}
	}
	loc, msg := ParseTimezone(in.Timezone)
	if msg != "" {
		verr.add(models.SetupFieldTimezone, msg)
	}
	ps.Location = loc
	minutes, err := strconv.Atoi(strings.TrimSpace(in.SessionMinutes))
	switch {
	case err != nil:
		verr.add(models.SetupFieldSessionMinutes, "Enter a whole number of minutes.")
	case minutes < MinSessionMinutes || minutes > MaxSessionMinutes:
		verr.add(models.SetupFieldSessionMinutes, fmt.Sprintf("Choose between %d and %d minutes (30 days).", MinSessionMinutes, MaxSessionMinutes))
	default:
		ps.SessionDuration = time.Duration(minutes) * time.Minute
	}
	return ps, verr
}

// PasswordProblems lists every rule the master password breaks.
func PasswordProblems(pw string) []string {
	var out []string
	if len(pw) < 8 {
		out = append(out, "Use at least 8 characters.")
	}
	if len(pw) > 72 {
		out = append(out, "Use at most 72 bytes (the limit of bcrypt); accented letters count as two bytes.")
	}
	if !strings.ContainsFunc(pw, unicode.IsUpper) {
		out = append(out, "Include at least one upper-case letter.")
	}
	if !strings.ContainsFunc(pw, unicode.IsDigit) {
		out = append(out, "Include at least one digit.")
	}
	return out
}

// ParseTimezone loads an IANA time zone. It returns a message for the user
// when the name is empty or unknown.
func ParseTimezone(name string) (*time.Location, string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return time.UTC, "Choose a time zone."
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return time.UTC, fmt.Sprintf("%q is not an IANA time zone name; use one such as Europe/Berlin or UTC.", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, fmt.Sprintf("Unknown time zone %q; use an IANA name such as Europe/Berlin or UTC.", name)
	}
	return loc, ""
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
	if loc, msg := ParseTimezone(all[models.SettingTimezone]); msg == "" {
		ps.Location = loc
	}
	if m, err := strconv.Atoi(all[models.SettingSessionMinutes]); err == nil && m >= MinSessionMinutes {
		ps.SessionDuration = time.Duration(m) * time.Minute
	}
	return ps, nil
}
