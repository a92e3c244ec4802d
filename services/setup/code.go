package setup

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

// CodeFile is the file in the data dir that holds the setup code until
// setup is done.
const CodeFile = "setup-code"

// codeAlphabet has no letters that read like digits (I, L, O, U).
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLen is the code's length in characters: 10 of 32 symbols, 50 bits.
const codeLen = 10

// Code is the one-time code the setup form asks for, so that whoever
// reaches an unconfigured panel first (from the internet, or a web page
// through DNS rebinding to 127.0.0.1) cannot choose its password: only
// someone who can read BanGUI's log or data dir knows it.
type Code struct {
	path string
	code string // normalised: upper case, no separators
}

// LoadCode returns the setup code kept in dataDir, creating it (mode
// 0600) when there is none, so a restart before setup keeps the code.
func LoadCode(dataDir string) (*Code, error) {
	path := filepath.Join(dataDir, CodeFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if code := normaliseCode(string(b)); validCode(code) {
			return &Code{path: path, code: code}, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("setup: read the setup code: %w", err)
	}
	c := &Code{path: path, code: newCode()}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("setup: write the setup code: %w", err)
	}
	if err := os.WriteFile(path, []byte(c.String()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("setup: write the setup code: %w", err)
	}
	return c, nil
}

func newCode() string {
	b := make([]byte, codeLen)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b)
}

// normaliseCode is what a person may type: any case, with spaces or
// dashes.
func normaliseCode(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\n", "", "\r", "", "\t", "").Replace(s))
}

func validCode(code string) bool {
	if len(code) != codeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !strings.ContainsRune(codeAlphabet, rune(code[i])) {
			return false
		}
	}
	return true
}

// String returns the code as shown to people: two groups of five.
func (c *Code) String() string { return c.code[:5] + "-" + c.code[5:] }

// Path is the file that holds the code.
func (c *Code) Path() string { return c.path }

// Matches reports whether input is the code, ignoring case, spaces and
// dashes.
func (c *Code) Matches(input string) bool {
	return subtle.ConstantTimeCompare([]byte(normaliseCode(input)), []byte(c.code)) == 1
}

// Remove deletes the file once setup is done.
func (c *Code) Remove() error {
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
