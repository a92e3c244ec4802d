package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"bangui/lang"
)

// PathError is a file name the editor refuses. Message is meant for the
// user.
type PathError struct {
	Name    string
	Message lang.Message
}

// Error is the message in English.
func (e *PathError) Error() string { return e.Message.Error() }

// As lets lang.Of find the error's Message.
func (e *PathError) As(target any) bool { return lang.As(target, e.Message) }

// Editable folders and top-level files: BanGUI writes nothing else.
var (
	editableDirs  = []string{"jail.d", "filter.d", "action.d"}
	editableFiles = []string{"jail.local", "fail2ban.local"}
	localNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+\-]{0,95}\.local$`)
)

// MaxNameLen is the longest file name CleanEditable accepts.
const MaxNameLen = 200

// CleanEditable checks a path relative to the configuration directory that
// BanGUI may write: jail.local, fail2ban.local or NAME.local directly inside
// jail.d/, filter.d/ or action.d/. It refuses absolute paths, "..", NUL and
// other control characters, backslashes, "%" (URL-encoded or
// double-encoded names arrive with it), hidden names and deeper paths, each
// with a *PathError that says why. It returns the name unchanged.
func CleanEditable(name string) (string, error) {
	bad := func(msg lang.Message) (string, error) { return "", &PathError{Name: name, Message: msg} }
	switch {
	case name == "":
		return bad(lang.M("cfg.path_choose"))
	case len(name) > MaxNameLen:
		return bad(lang.M("cfg.path_too_long"))
	case !utf8.ValidString(name):
		return bad(lang.M("cfg.path_not_text"))
	case strings.ContainsFunc(name, unicode.IsControl):
		return bad(lang.M("cfg.path_control"))
	case strings.Contains(name, "%"):
		return bad(lang.M("cfg.path_percent"))
	case strings.Contains(name, `\`):
		return bad(lang.M("cfg.path_backslash"))
	case strings.HasPrefix(name, "/"):
		return bad(lang.M("cfg.path_absolute"))
	case strings.Contains(name, ".."):
		return bad(lang.M("cfg.path_dotdot"))
	}
	parts := strings.Split(name, "/")
	switch len(parts) {
	case 1:
		for _, f := range editableFiles {
			if name == f {
				return name, nil
			}
		}
		return bad(lang.M("cfg.path_not_editable"))
	case 2:
		ok := false
		for _, d := range editableDirs {
			ok = ok || parts[0] == d
		}
		if !ok {
			return bad(lang.M("cfg.path_wrong_folder"))
		}
		if !localNameRE.MatchString(parts[1]) {
			return bad(lang.M("cfg.path_local_name"))
		}
		return name, nil
	}
	return bad(lang.M("cfg.path_too_deep"))
}

// ResolveEditable checks name with CleanEditable and returns the absolute
// path to read and write. The folder and, if it exists, the file are
// resolved through symbolic links, and both must stay inside dir; a link
// must also end at a file BanGUI may edit. A missing folder (jail.d, ...)
// is fine: WriteAtomic creates it.
func ResolveEditable(dir, name string) (string, error) {
	if _, err := CleanEditable(name); err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("config: configuration directory: %w", err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	outside := &PathError{Name: name, Message: lang.M("cfg.path_link_outside")}
	parent := root
	if sub, _, ok := strings.Cut(name, "/"); ok {
		p := filepath.Join(root, sub)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(p, filepath.Base(name)), nil // WriteAtomic creates the folder
		}
		if parent, err = filepath.EvalSymlinks(p); err != nil {
			return "", fmt.Errorf("config: %w", err)
		}
		if !within(root, parent) || parent == root {
			return "", outside
		}
		if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
			return "", &PathError{Name: name, Message: lang.M("cfg.path_not_folder", "Name", sub)}
		}
	}
	target := filepath.Join(parent, filepath.Base(name))
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return target, nil
	case err != nil:
		return "", fmt.Errorf("config: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		real, err := filepath.EvalSymlinks(target)
		if err != nil {
			return "", &PathError{Name: name, Message: lang.M("cfg.path_link_dangling")}
		}
		if !within(root, real) {
			return "", outside
		}
		rel, err := filepath.Rel(root, real)
		if err != nil {
			return "", outside
		}
		if _, err := CleanEditable(filepath.ToSlash(rel)); err != nil {
			return "", &PathError{Name: name, Message: lang.M("cfg.path_link_forbidden", "Target", filepath.ToSlash(rel))}
		}
		target = real
		if fi, err = os.Stat(real); err != nil {
			return "", fmt.Errorf("config: %w", err)
		}
	}
	if !fi.Mode().IsRegular() {
		return "", &PathError{Name: name, Message: lang.M("cfg.path_not_regular")}
	}
	return target, nil
}

// within reports whether path is root or below it (both clean and absolute).
func within(root, path string) bool {
	return path == root || strings.HasPrefix(path, root+string(filepath.Separator))
}

// LocalFiles lists the editable files that exist in dir: jail.local,
// fail2ban.local and the .local files of jail.d/, filter.d/ and action.d/,
// as names relative to dir.
func LocalFiles(dir string) ([]string, error) {
	var out []string
	for _, f := range editableFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	for _, d := range editableDirs {
		entries, err := os.ReadDir(filepath.Join(dir, d))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		for _, e := range entries {
			if localNameRE.MatchString(e.Name()) && !e.IsDir() {
				out = append(out, d+"/"+e.Name())
			}
		}
	}
	return out, nil
}
