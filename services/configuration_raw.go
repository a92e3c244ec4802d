package services

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	f2bconf "bangui/fail2ban/config"
	"bangui/models"
)

// MaxRawSize is the largest file the raw editor saves.
const MaxRawSize = 512 << 10

// Field names of the raw editor.
const (
	FieldRawFile    = "file"
	FieldRawContent = "content"
)

// ErrRawTooLarge is returned for content above MaxRawSize.
var ErrRawTooLarge = fmt.Errorf("the file is larger than %d KB, the most the editor saves", MaxRawSize>>10)

// RawFiles lists the files the raw editor may open that exist.
func (c *Configuration) RawFiles() ([]models.RawFile, error) {
	names, err := f2bconf.LocalFiles(c.dir())
	if err != nil {
		return nil, fmt.Errorf("read fail2ban's configuration: %w", err)
	}
	out := make([]models.RawFile, 0, len(names))
	for _, n := range names {
		f := models.RawFile{Name: n, Exists: true}
		if p, err := f2bconf.ResolveEditable(c.dir(), n); err == nil {
			if fi, err := os.Stat(p); err == nil {
				f.Size = fi.Size()
			}
			f.Backup = fileExists(p + f2bconf.BackupSuffix)
		}
		out = append(out, f)
	}
	return out, nil
}

// rawError turns a refused name into a form error.
func rawError(err error) error {
	var pe *f2bconf.PathError
	if errors.As(err, &pe) {
		return &ValidationError{Fields: map[string][]string{FieldRawFile: {pe.Message}}}
	}
	return err
}

// ReadRaw returns an editable file's text; a file that does not exist yet
// comes back empty with Exists false.
func (c *Configuration) ReadRaw(name string) (models.RawFile, error) {
	p, err := f2bconf.ResolveEditable(c.dir(), name)
	if err != nil {
		return models.RawFile{Name: name}, rawError(err)
	}
	f := models.RawFile{Name: name}
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("read %s: %w", name, err)
	}
	f.Exists, f.Size, f.Content = true, int64(len(b)), string(b)
	f.Backup = fileExists(p + f2bconf.BackupSuffix)
	return f, nil
}

// normalizeBreaks gives text the line breaks of the file it replaces:
// browsers send text areas with CRLF, which would otherwise turn every
// saved file into a CRLF file.
func normalizeBreaks(dir, name, text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if p, err := f2bconf.ResolveEditable(dir, name); err == nil {
		if old, err := os.ReadFile(p); err == nil && strings.Contains(string(old), "\r\n") {
			return strings.ReplaceAll(text, "\n", "\r\n")
		}
	}
	return text
}

// SaveRaw replaces an editable file with content after checking that it
// parses, then runs fail2ban's configuration test; when the test fails the
// previous file comes back. Nothing is reloaded: the result says so.
func (c *Configuration) SaveRaw(ctx context.Context, name, content string) (models.ApplyResult, error) {
	if _, err := f2bconf.CleanEditable(name); err != nil {
		return models.ApplyResult{}, rawError(err)
	}
	if len(content) > MaxRawSize {
		return models.ApplyResult{}, ErrRawTooLarge
	}
	data := []byte(normalizeBreaks(c.dir(), name, content))
	if !utf8.Valid(data) {
		return models.ApplyResult{}, &ValidationError{Fields: map[string][]string{FieldRawContent: {"The text is not valid UTF-8."}}}
	}
	for i, b := range data {
		if b == 0 {
			return models.ApplyResult{}, &ValidationError{Fields: map[string][]string{FieldRawContent: {fmt.Sprintf("The text contains a NUL byte (at byte %d).", i)}}}
		}
	}
	if _, err := f2bconf.Parse(name, data); err != nil {
		return models.ApplyResult{}, &ValidationError{Fields: map[string][]string{FieldRawContent: {"fail2ban could not read this: " + err.Error()}}}
	}
	res, err := c.apply(ctx, change{
		file:      name,
		edit:      func([]byte) ([]byte, error) { return data, nil },
		offlineOK: true,
	})
	return res, rawError(err)
}
