package hosts

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"bangui/lang"
)

// logWindow is how many bytes TailLog reads from the end of a log file.
const logWindow = 4 << 20

// LogDirs returns the folders the log viewer and the regex tester may read.
func (l *Local) LogDirs() []string { return slices.Clone(l.opts.LogDirs) }

// TailLog returns the last n lines of a log file inside LogDirs that
// contain filter (case insensitive; all lines when empty), read from the
// last 4 MiB of the file. Links are followed before the check.
func (l *Local) TailLog(_ context.Context, path string, n int, filter string) (LogTail, error) {
	real, err := l.allowedFile(path)
	if err != nil {
		return LogTail{}, &LogPathError{Path: path, Err: err}
	}
	lines, truncated, err := tailLines(real, n, filter)
	if err != nil {
		return LogTail{}, err
	}
	return LogTail{Lines: lines, Truncated: truncated}, nil
}

// allowedFile resolves p (following links) and checks that it is a regular
// file inside one of the allowed folders.
func (l *Local) allowedFile(p string) (string, error) {
	if !filepath.IsAbs(p) || strings.ContainsRune(p, 0) {
		return "", lang.Wrap(lang.M("fleet.log.relative"), ErrLogNotAllowed)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", lang.Wrap(lang.M("fleet.log.unreadable", "Path", p, "Cause", err), err)
	}
	for _, d := range l.opts.LogDirs {
		rd, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if real == rd || strings.HasPrefix(real, strings.TrimSuffix(rd, string(filepath.Separator))+string(filepath.Separator)) {
			fi, err := os.Stat(real)
			if err != nil {
				return "", err
			}
			if !fi.Mode().IsRegular() {
				return "", lang.M("fleet.log.not_file", "Path", p)
			}
			return real, nil
		}
	}
	return "", lang.Wrap(lang.M("fleet.log.outside", "Dirs", strings.Join(l.opts.LogDirs, ", ")), ErrLogNotAllowed)
}

// tailLines returns the last n lines of a file that contain filter (case
// insensitive; all lines when empty) and whether there were more.
func tailLines(path string, n int, filter string) ([]string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	off := max(fi.Size()-logWindow, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, false, err
	}
	text := strings.ToValidUTF8(string(buf), "\uFFFD")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	cut := off > 0
	if cut && len(lines) > 0 {
		lines = lines[1:] // a partial first line
	}
	if text == "" {
		lines = nil
	}
	var out []string
	f2 := strings.ToLower(filter)
	for _, l := range lines {
		l = strings.TrimRight(l, "\r")
		if f2 == "" || strings.Contains(strings.ToLower(l), f2) {
			out = append(out, l)
		}
	}
	truncated := cut
	if len(out) > n {
		out = out[len(out)-n:]
		truncated = true
	}
	return out, truncated, nil
}
