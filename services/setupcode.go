package services

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SetupCodeFile is the file in the data dir that holds the setup code until
// setup is done.
const SetupCodeFile = "setup-code"

// setupCodeAlphabet has no letters that read like digits (I, L, O, U).
const setupCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// setupCodeLen is the code's length in characters: 10 of 32 symbols, 50 bits.
const setupCodeLen = 10

// SetupCode is the one-time code the setup form asks for, so that whoever
// reaches an unconfigured panel first (from the internet, or a web page
// through DNS rebinding to 127.0.0.1) cannot choose its password: only
// someone who can read BanGUI's log or data dir knows it.
type SetupCode struct {
	path string
	code string // normalised: upper case, no separators
}

// LoadSetupCode returns the setup code kept in dataDir, creating it (mode
// 0600) when there is none, so a restart before setup keeps the code.
func LoadSetupCode(dataDir string) (*SetupCode, error) {
	path := filepath.Join(dataDir, SetupCodeFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if code := normaliseSetupCode(string(b)); validSetupCode(code) {
			return &SetupCode{path: path, code: code}, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("services: read the setup code: %w", err)
	}
	c := &SetupCode{path: path, code: newSetupCode()}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("services: write the setup code: %w", err)
	}
	if err := os.WriteFile(path, []byte(c.String()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("services: write the setup code: %w", err)
	}
	return c, nil
}

func newSetupCode() string {
	b := make([]byte, setupCodeLen)
	rand.Read(b)
	for i := range b {
		b[i] = setupCodeAlphabet[int(b[i])%len(setupCodeAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b)
}

// normaliseSetupCode is what a person may type: any case, with spaces or
// dashes.
func normaliseSetupCode(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\n", "", "\r", "", "\t", "").Replace(s))
}

func validSetupCode(code string) bool {
	if len(code) != setupCodeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !strings.ContainsRune(setupCodeAlphabet, rune(code[i])) {
			return false
		}
	}
	return true
}

// String returns the code as shown to people: two groups of five.
func (c *SetupCode) String() string { return c.code[:5] + "-" + c.code[5:] }

// Path is the file that holds the code.
func (c *SetupCode) Path() string { return c.path }

// Matches reports whether input is the code, ignoring case, spaces and
// dashes.
func (c *SetupCode) Matches(input string) bool {
	return subtle.ConstantTimeCompare([]byte(normaliseSetupCode(input)), []byte(c.code)) == 1
}

// Remove deletes the file once setup is done.
func (c *SetupCode) Remove() error {
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
