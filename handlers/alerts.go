package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/services/alerts"
	"bangui/views"
)

// alertLogPage is how many deliveries a page of the log shows.
const alertLogPage = 50

// maxAnswerShown is how much of a receiver's answer the Send test shows.
const maxAnswerShown = 512

// alertRoutes registers the admin's alert channels and delivery log.
func (s *Server) alertRoutes(t routeTable) {
	t.GET("/alerts", models.RoleAdmin, s.alertsPage)
	t.POST("/alerts/channels", models.RoleAdmin, s.alertChannelSave)
	t.GET("/alerts/channels/:id", models.RoleAdmin, s.alertChannelEdit)
	t.POST("/alerts/channels/:id", models.RoleAdmin, s.alertChannelSave)
	t.POST("/alerts/channels/:id/delete", models.RoleAdmin, s.alertChannelDelete)
	t.POST("/alerts/channels/:id/test", models.RoleAdmin, s.alertChannelTest)
	t.GET("/alerts/log", models.RoleAdmin, s.alertLog)
}

// alertsView gathers /alerts with form and test as the form's state and
// the last test's answer.
func (s *Server) alertsView(c echo.Context, form views.AlertChannelForm, test *views.AlertTestResult) (views.AlertsPage, error) {
	chs, err := s.alerts.Store().Channels(c.Request().Context())
	if err != nil {
		return views.AlertsPage{}, err
	}
	p := views.AlertsPage{Form: form, Test: test}
	p.Form.Kinds = alerts.Kinds
	if p.Form.Kind == "" {
		p.Form.Kind = alerts.KindWebhook
	}
	for _, ch := range chs {
		cfg, _ := alerts.ParseConfig(ch)
		target := cfg.URL
		if ch.Kind == alerts.KindEmail {
			target = tr(c, "alerts.target_via", "To", strings.Join(cfg.To, ", "), "Host", cfg.Host)
		}
		p.Channels = append(p.Channels, views.AlertChannelRow{ID: ch.ID, Name: ch.Name, Kind: ch.Kind,
			Target: target, SecretMasked: alerts.MaskSecret(ch.Secret)})
	}
	return p, nil
}

func (s *Server) alertsPage(c echo.Context) error {
	p, err := s.alertsView(c, views.AlertChannelForm{Port: "587", Security: alerts.SMTPStartTLS}, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AlertsPageView(p), nil)
}

// alertChannel reads the :id channel, or a 404.
func (s *Server) alertChannel(c echo.Context) (models.AlertChannel, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return models.AlertChannel{}, echo.NewHTTPError(http.StatusNotFound, tr(c, "alerts.no_such"))
	}
	ch, err := s.alerts.Store().Channel(c.Request().Context(), id)
	if errors.Is(err, repo.ErrNotFound) {
		return ch, echo.NewHTTPError(http.StatusNotFound, tr(c, "alerts.no_such"))
	}
	return ch, err
}

func (s *Server) alertChannelEdit(c echo.Context) error {
	ch, err := s.alertChannel(c)
	if err != nil {
		return err
	}
	cfg, _ := alerts.ParseConfig(ch)
	var headers []string
	for k, v := range cfg.Headers {
		headers = append(headers, k+": "+v)
	}
	form := views.AlertChannelForm{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, URL: cfg.URL, Headers: strings.Join(headers, "\n"),
		Host: cfg.Host, Port: strconv.Itoa(cfg.Port), Security: cfg.Security, Username: cfg.Username, From: cfg.From,
		To: strings.Join(cfg.To, ", "), SecretMasked: alerts.MaskSecret(ch.Secret)}
	p, err := s.alertsView(c, form, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AlertsPageView(p), nil)
}

// alertChannelSave adds a channel (no :id) or changes one.
func (s *Server) alertChannelSave(c echo.Context) error {
	ctx := c.Request().Context()
	var form views.AlertChannelForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	ch := models.AlertChannel{}
	if c.Param("id") != "" {
		old, err := s.alertChannel(c)
		if err != nil {
			return err
		}
		ch, form.ID, form.SecretMasked = old, old.ID, alerts.MaskSecret(old.Secret)
	}
	cfg, errs := checkAlertForm(c, &form)
	secret := form.Secret
	if secret == "" {
		secret = ch.Secret
	}
	if len(errs) == 0 {
		if err := alerts.Validate(form.Kind, cfg, secret); err != nil {
			errs["kind"] = []string{trErr(c, err)}
		}
	}
	if len(errs) > 0 {
		form.Errors, form.Secret = errs, ""
		p, err := s.alertsView(c, form, nil)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, views.AlertsPageView(p), nil)
	}
	b, _ := json.Marshal(cfg)
	detail := "edit"
	if ch.ID == 0 {
		detail = "add"
	}
	ch.Name, ch.Kind, ch.Config, ch.Secret = form.Name, form.Kind, string(b), secret
	err := s.alerts.Store().SaveChannel(ctx, &ch)
	if err := s.auditAlert(c, models.AuditEntry{Target: ch.Name + " (#" + strconv.FormatInt(ch.ID, 10) + ")",
		Detail: detail + " channel: " + ch.Kind}, err); err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "alerts.saved", "Name", ch.Name))
	return s.redirect(c, s.url("/alerts"))
}

// checkAlertForm turns the form into a channel's settings, or says what is
// wrong with its fields in the request's language (Validate checks the
// rest).
func checkAlertForm(c echo.Context, f *views.AlertChannelForm) (alerts.Config, map[string][]string) {
	errs := map[string][]string{}
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 64 || !utf8.ValidString(f.Name) {
		errs["name"] = []string{tr(c, "alerts.err.name")}
	}
	cfg := alerts.Config{URL: strings.TrimSpace(f.URL)}
	if f.Kind != alerts.KindEmail {
		if err := alerts.ValidateURL(cfg.URL); err != nil {
			errs["url"] = []string{tr(c, "alerts.err.sentence", "Text", trErr(c, err))}
		}
	}
	for _, line := range strings.Split(f.Headers, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			errs["headers"] = []string{tr(c, "alerts.err.header_line")}
			break
		}
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if f.Kind == alerts.KindEmail {
		cfg.URL, cfg.Headers = "", nil
		cfg.Host, cfg.Security = strings.TrimSpace(f.Host), f.Security
		cfg.Username, cfg.From = strings.TrimSpace(f.Username), strings.TrimSpace(f.From)
		port, err := strconv.Atoi(strings.TrimSpace(f.Port))
		if err != nil {
			errs["port"] = []string{tr(c, "alerts.err.port_nan")}
		}
		cfg.Port = port
		for _, to := range strings.Split(f.To, ",") {
			if to = strings.TrimSpace(to); to != "" {
				cfg.To = append(cfg.To, to)
			}
		}
	}
	return cfg, errs
}

// auditAlert records a channel change (AuditAlertChange), failed when err
// is not nil, and returns err.
func (s *Server) auditAlert(c echo.Context, entry models.AuditEntry, err error) error {
	entry.Action = models.AuditAlertChange
	if err != nil {
		entry.Result = s.classify(err).Message
	}
	s.audit(c, entry)
	return err
}

func (s *Server) alertChannelDelete(c echo.Context) error {
	ch, err := s.alertChannel(c)
	if err != nil {
		return err
	}
	err = s.alerts.Store().DeleteChannel(c.Request().Context(), ch.ID)
	if err := s.auditAlert(c, models.AuditEntry{Target: ch.Name + " (#" + c.Param("id") + ")", Detail: "delete channel"}, err); err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "alerts.deleted", "Name", ch.Name))
	return s.redirect(c, s.url("/alerts"))
}

// alertChannelTest sends a test message now and shows the server's answer.
func (s *Server) alertChannelTest(c echo.Context) error {
	ch, err := s.alertChannel(c)
	if err != nil {
		return err
	}
	answer, err := s.alerts.SendTest(c.Request().Context(), ch)
	res := views.AlertTestResult{Channel: ch.Name, OK: err == nil, Status: answer.Status, Body: answer.Body}
	if len(res.Body) > maxAnswerShown {
		res.Body = strings.ToValidUTF8(res.Body[:maxAnswerShown], "") + "…"
	}
	entry := models.AuditEntry{Action: models.AuditAlertChange, Target: ch.Name + " (#" + c.Param("id") + ")", Detail: "test message"}
	if err != nil {
		res.Error = trErr(c, err)
		entry.Result = "failed: " + err.Error()
	}
	s.audit(c, entry)
	p, perr := s.alertsView(c, views.AlertChannelForm{Port: "587", Security: alerts.SMTPStartTLS}, &res)
	if perr != nil {
		return perr
	}
	return s.render(c, http.StatusOK, views.AlertsPageView(p), nil)
}

// alertLog is the delivery log; htmx asks for the next page's rows.
func (s *Server) alertLog(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	rows, err := s.alerts.Store().Deliveries(c.Request().Context(), max(before, 0), alertLogPage+1)
	if err != nil {
		return err
	}
	p := views.AlertLogPage{Rows: rows}
	if len(rows) > alertLogPage {
		p.Rows = rows[:alertLogPage]
		p.Next = p.Rows[alertLogPage-1].ID
	}
	return s.render(c, http.StatusOK, views.AlertLogView(p), views.AlertLogRows(p))
}
