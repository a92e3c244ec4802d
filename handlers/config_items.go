package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// configItems is the Filters or Actions tab.
func (s *Server) configItems(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.renderConfigItems(c, kind, http.StatusOK, views.ConfigItemsPage{})
	}
}

// renderConfigItems renders the Filters or Actions tab with p's forms.
func (s *Server) renderConfigItems(c echo.Context, kind string, status int, p views.ConfigItemsPage) error {
	items, err := s.configuration.Items(c.Request().Context(), kind)
	if err != nil {
		return err
	}
	p.Kind, p.Items, p.Query = kind, items, queryText(c, "q", maxSearchLen)
	return s.render(c, status, views.ConfigItemsView(p), nil)
}

// itemFormsFrom reads the filter or action form.
func itemFormsFrom(c echo.Context, init []models.KeyValue) (models.FilterForm, models.ActionForm) {
	ff := models.FilterForm{
		FailRegex: c.FormValue(services.FieldFailRegex), IgnoreRegex: c.FormValue(services.FieldIgnoreRegex),
		DatePattern: c.FormValue(services.FieldDatePattern), PrefRegex: c.FormValue(services.FieldPrefRegex),
	}
	af := models.ActionForm{
		ActionStart: c.FormValue("actionstart"), ActionStop: c.FormValue("actionstop"),
		ActionCheck: c.FormValue("actioncheck"), ActionBan: c.FormValue("actionban"),
		ActionUnban: c.FormValue("actionunban"),
		NewKey:      c.FormValue(services.FieldNewKey), NewValue: c.FormValue(services.FieldNewValue),
	}
	for _, kv := range init {
		af.Init = append(af.Init, models.KeyValue{Key: kv.Key, Value: c.FormValue("init_" + kv.Key)})
	}
	return ff, af
}

// configItemCreate creates a filter or an action.
func (s *Server) configItemCreate(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ff, af := itemFormsFrom(c, nil)
		name := c.FormValue("name")
		res, err := s.configuration.CreateItem(c.Request().Context(), kind, name, ff, af)
		if fe := configErrors(err); fe != nil {
			return s.renderConfigItems(c, kind, http.StatusUnprocessableEntity,
				views.ConfigItemsPage{NewName: name, NewFilter: ff, NewAction: af, Errors: fe})
		}
		base := "/config/" + kind + "s"
		if err != nil {
			return s.configFail(c, err, base)
		}
		name = strings.TrimSpace(name)
		kindMsg, msg := applyFlash(res, fmt.Sprintf("Created the %s %s in %s; fail2ban's checks passed.", kind, name, res.File))
		s.flash(c, kindMsg, msg)
		if res.OK {
			return s.redirect(c, s.url(base+"/"+url.PathEscape(name)))
		}
		return s.redirect(c, s.url(base))
	}
}

// configItem is one filter's or action's page.
func (s *Server) configItem(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := s.configuration.Item(c.Request().Context(), kind, c.Param("name"))
		if err != nil {
			return s.configFail(c, err, "/config/"+kind+"s")
		}
		return s.render(c, http.StatusOK, views.ConfigItemView(views.ConfigItemPage{Item: d, Filter: d.Filter, Action: d.Action}), nil)
	}
}

// configItemSave saves and applies a filter or an action.
func (s *Server) configItemSave(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		name := c.Param("name")
		d, err := s.configuration.Item(ctx, kind, name)
		if err != nil {
			return s.configFail(c, err, "/config/"+kind+"s")
		}
		ff, af := itemFormsFrom(c, d.Action.Init)
		res, err := s.configuration.SaveItem(ctx, kind, name, ff, af)
		if fe := configErrors(err); fe != nil {
			return s.render(c, http.StatusUnprocessableEntity, views.ConfigItemView(views.ConfigItemPage{Item: d, Filter: ff, Action: af, Errors: fe}), nil)
		}
		back := "/config/" + kind + "s/" + url.PathEscape(name)
		if err != nil {
			return s.configFail(c, err, back)
		}
		ok := "Saved " + res.File + "; fail2ban's checks passed."
		if len(res.Reloaded) > 0 {
			ok += " Reloaded " + strings.Join(res.Reloaded, ", ") + "."
		}
		kindMsg, msg := applyFlash(res, ok)
		s.flash(c, kindMsg, msg)
		return s.redirect(c, s.url(back))
	}
}
