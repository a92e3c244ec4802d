package blocklists

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// SourceInput is what the source form submits.
type SourceInput struct {
	Name    string
	URL     string
	Enabled bool
	// Hosts are the hosts imports ban on: "" the local host only (the
	// default), models.AllHosts every host, else registered ids.
	Hosts models.HostTargets
}

// validate checks a source form; id is the source being edited (0: new).
func (b *Service) validate(ctx context.Context, id int64, in SourceInput) (SourceInput, error) {
	verr := &services.ValidationError{}
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	switch {
	case in.Name == "":
		verr.Add(FieldSourceName, lang.M("blk.src.name_missing"))
	case utf8.RuneCountInString(in.Name) > MaxSourceNameLen:
		verr.Add(FieldSourceName, lang.M("blk.src.name_long", "Max", MaxSourceNameLen))
	case strings.ContainsAny(in.Name, "\r\n\t"):
		verr.Add(FieldSourceName, lang.M("blk.src.name_line"))
	}
	if u, msg := CheckListURL(in.URL); !msg.IsZero() {
		verr.Add(FieldSourceURL, msg)
	} else {
		in.URL = u.String()
	}
	if in.Hosts != "" && !in.Hosts.Every() {
		for _, id := range strings.Split(string(in.Hosts), ",") {
			if _, err := b.hosts.Get(id); err != nil {
				verr.Add(FieldHosts, lang.M("blk.src.no_host", "Host", id))
			}
		}
	}
	if verr.Empty() {
		all, err := b.sources.List(ctx)
		if err != nil {
			return in, err
		}
		for _, s := range all {
			if s.ID == id {
				continue
			}
			if strings.EqualFold(s.Name, in.Name) {
				verr.Add(FieldSourceName, lang.M("blk.src.name_taken", "Name", s.Name))
			}
			if s.URL == in.URL {
				verr.Add(FieldSourceURL, lang.M("blk.src.url_taken", "Name", s.Name))
			}
		}
	}
	if !verr.Empty() {
		return in, verr
	}
	return in, nil
}

// duplicateSourceField turns a repository duplicate into a form message.
func duplicateSourceField(err error) error {
	var de *repo.DuplicateError
	if !errors.As(err, &de) {
		return err
	}
	verr := &services.ValidationError{}
	if de.Column == "url" {
		verr.Add(FieldSourceURL, lang.M("blk.src.url_taken_other"))
	} else {
		verr.Add(FieldSourceName, lang.M("blk.src.name_taken_other"))
	}
	return verr
}

// Sources returns every source by name.
func (b *Service) Sources(ctx context.Context) ([]models.BlocklistSource, error) {
	return b.sources.List(ctx)
}

// Source returns one source, or an error matching repo.ErrNotFound.
func (b *Service) Source(ctx context.Context, id int64) (models.BlocklistSource, error) {
	return b.sources.Get(ctx, id)
}

// CreateSource adds a source. Bad input yields a *services.ValidationError.
func (b *Service) CreateSource(ctx context.Context, in SourceInput) (models.BlocklistSource, error) {
	in, err := b.validate(ctx, 0, in)
	if err != nil {
		return models.BlocklistSource{}, err
	}
	id, err := b.sources.Create(ctx, in.Name, in.URL, in.Enabled)
	if err != nil {
		return models.BlocklistSource{}, duplicateSourceField(err)
	}
	src, err := b.sources.Get(ctx, id)
	if err != nil || in.Hosts == "" {
		return src, err
	}
	src.Hosts = in.Hosts
	if err := b.sources.Update(ctx, src); err != nil {
		return src, err
	}
	return src, nil
}

// UpdateSource changes a source's name, URL and enabled state.
func (b *Service) UpdateSource(ctx context.Context, id int64, in SourceInput) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	if in, err = b.validate(ctx, id, in); err != nil {
		return src, err
	}
	src.Name, src.URL, src.Enabled, src.Hosts = in.Name, in.URL, in.Enabled, in.Hosts
	if err := b.sources.Update(ctx, src); err != nil {
		return src, duplicateSourceField(err)
	}
	return b.sources.Get(ctx, id)
}

// SetSourceEnabled switches a source on or off.
func (b *Service) SetSourceEnabled(ctx context.Context, id int64, on bool) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	src.Enabled = on
	if err := b.sources.Update(ctx, src); err != nil {
		return src, err
	}
	return src, nil
}

// DeleteSource removes a source and its run records; its import log stays
// readable (name and URL are kept in every entry). A source that is being
// imported right now is not deleted (ErrImportRunning).
func (b *Service) DeleteSource(ctx context.Context, id int64) (models.BlocklistSource, error) {
	src, err := b.sources.Get(ctx, id)
	if err != nil {
		return src, err
	}
	if p := b.Progress(); p.Running {
		return src, ErrImportRunning
	}
	return src, b.sources.Delete(ctx, id)
}

// Preview reads the first part of a list (at most PreviewBytes) and
// returns its first lines and counts of what they hold. Ignore lists are
// not applied. Errors are *DownloadError with a message for the page.
func (b *Service) Preview(ctx context.Context, rawURL string) (models.BlocklistPreview, error) {
	d := b.opts.Downloader
	d.Attempts = min(d.attempts(), DefaultPreviewAttempts)
	limit := b.opts.PreviewBytes
	pv := models.BlocklistPreview{URL: rawURL}
	err := d.Fetch(ctx, rawURL, func(r io.Reader) error {
		buf, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		pv.Truncated = false
		if int64(len(buf)) > limit {
			// The list goes on: keep whole lines only.
			pv.Truncated = true
			buf = buf[:limit]
			if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
				buf = buf[:i+1]
			}
		}
		parsed, err := Parse(bytes.NewReader(buf), nil, DefaultPreviewSample)
		pv.Bytes, pv.Sample, pv.Counts = parsed.Bytes, parsed.Sample, parsed.Counts
		return err
	})
	return pv, err
}
