package configuration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"bangui/lang"

	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
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

// RawFiles lists the files of a host the raw editor may open that exist.
func (c *Service) RawFiles(ctx context.Context, host string) ([]models.RawFile, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	files, err := h.EditableFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("read fail2ban's configuration: %w", err)
	}
	out := make([]models.RawFile, 0, len(files))
	for _, f := range files {
		out = append(out, models.RawFile{Name: f.Name, Exists: f.Exists, Size: f.Size, Backup: f.Backup})
	}
	return out, nil
}

// rawError turns a refused name into a form error.
func rawError(err error) error {
	var pe *f2bconf.PathError
	if errors.As(err, &pe) {
		return services.Invalid(FieldRawFile, pe.Message)
	}
	return err
}

// ReadRaw returns the text of a host's editable file; a file that does not
// exist yet comes back empty with Exists false.
func (c *Service) ReadRaw(ctx context.Context, host, name string) (models.RawFile, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.RawFile{Name: name}, err
	}
	f, err := h.ReadConfigFile(ctx, name)
	if err != nil {
		return models.RawFile{Name: name}, rawError(err)
	}
	return models.RawFile{Name: name, Exists: f.Exists, Size: f.Size, Backup: f.Backup, Content: string(f.Data)}, nil
}

// normalizeBreaks gives text the line breaks of the file it replaces:
// browsers send text areas with CRLF, which would otherwise turn every
// saved file into a CRLF file.
func normalizeBreaks(ctx context.Context, h hosts.Host, name, text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if old, err := h.ReadConfigFile(ctx, name); err == nil && bytes.Contains(old.Data, []byte("\r\n")) {
		return strings.ReplaceAll(text, "\n", "\r\n")
	}
	return text
}

// SaveRaw replaces a host's editable file with content after checking that
// it parses, then runs fail2ban's configuration test; when the test fails
// the previous file comes back. Nothing is reloaded: the result says so.
func (c *Service) SaveRaw(ctx context.Context, host, name, content string) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	if _, err := f2bconf.CleanEditable(name); err != nil {
		return models.ApplyResult{}, rawError(err)
	}
	if len(content) > MaxRawSize {
		return models.ApplyResult{}, ErrRawTooLarge
	}
	data := []byte(normalizeBreaks(ctx, h, name, content))
	if !utf8.Valid(data) {
		return models.ApplyResult{}, services.Invalid(FieldRawContent, lang.M("cfg.value_not_utf8"))
	}
	for i, b := range data {
		if b == 0 {
			return models.ApplyResult{}, services.Invalid(FieldRawContent, lang.M("cfg.raw_nul", "Byte", i))
		}
	}
	if _, err := f2bconf.Parse(name, data); err != nil {
		return models.ApplyResult{}, services.Invalid(FieldRawContent, lang.M("cfg.raw_unparsable", "Error", err))
	}
	res, err := c.apply(ctx, h, change{
		file:      name,
		edit:      func([]byte) ([]byte, error) { return data, nil },
		offlineOK: true,
	})
	return res, rawError(err)
}
