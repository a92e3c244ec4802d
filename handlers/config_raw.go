package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/services/configuration"
	"bangui/views"
)

// configRaw is the raw editor, with the file named in the query open.
func (s *Server) configRaw(c echo.Context) error {
	name := c.QueryParam("file")
	p := views.ConfigRawPage{Name: name, MaxKB: configuration.MaxRawSize >> 10}
	if name != "" {
		f, err := s.configuration.ReadRaw(c.Request().Context(), s.hostID(c), name)
		if fe := configErrors(langOf(c), err); fe != nil {
			p.Errors = fe
			return s.renderConfigRaw(c, http.StatusBadRequest, p)
		}
		if err != nil {
			return err
		}
		p.Open, p.Content = &f, f.Content
	}
	return s.renderConfigRaw(c, http.StatusOK, p)
}

// renderConfigRaw renders the raw editor with the list of .local files.
func (s *Server) renderConfigRaw(c echo.Context, status int, p views.ConfigRawPage) error {
	files, err := s.configuration.RawFiles(c.Request().Context(), s.hostID(c))
	if err != nil {
		s.log.Warn("listing .local files failed", "err", err)
	}
	p.Files, p.MaxKB = files, configuration.MaxRawSize>>10
	return s.render(c, status, views.ConfigRawView(p), nil)
}

// rawInput is the raw editor's form.
type rawInput struct {
	File    string `form:"file"`
	Content string `form:"content"`
}

// configRawSave saves a .local file and runs fail2ban's configuration test.
func (s *Server) configRawSave(c echo.Context) error {
	var in rawInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	name, content := in.File, in.Content
	p := views.ConfigRawPage{Name: name, Content: content}
	res, err := s.configuration.SaveRaw(c.Request().Context(), s.hostID(c), name, content)
	tooLarge := lang.M("cfg.raw_too_large", "Size", lang.Bytes(c.Request().Context(), int64(len(content))), "Max", lang.Bytes(c.Request().Context(), configuration.MaxRawSize))
	e := models.AuditEntry{File: name, Detail: "raw edit"}
	if errors.Is(err, configuration.ErrRawTooLarge) {
		e.Result = tooLarge.Error()
	}
	s.auditApply(c, e, res, err)
	switch fe := configErrors(langOf(c), err); {
	case errors.Is(err, configuration.ErrRawTooLarge):
		p.Open = &models.RawFile{Name: name}
		p.Errors = map[string][]string{configuration.FieldRawContent: {tooLarge.In(langOf(c))}}
		return s.renderConfigRaw(c, http.StatusRequestEntityTooLarge, p)
	case fe != nil:
		status := http.StatusUnprocessableEntity
		if _, bad := fe[configuration.FieldRawFile]; bad {
			status = http.StatusBadRequest
		} else {
			p.Open = &models.RawFile{Name: name}
		}
		p.Errors = fe
		return s.renderConfigRaw(c, status, p)
	case err != nil:
		return err
	}
	s.flashApply(c, res, tr(c, "cfg.raw_saved", "File", res.File))
	return s.redirect(c, s.hostURL(c, "/config/raw?file="+url.QueryEscape(name)))
}
