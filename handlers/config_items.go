package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/models"
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
	items, err := s.configuration.Items(c.Request().Context(), s.hostID(c), kind)
	if err != nil {
		return err
	}
	p.Kind, p.Items, p.Query = kind, items, queryText(c, "q", maxSearchLen)
	return s.render(c, status, views.ConfigItemsView(p), nil)
}

// itemInput is the form of a filter or an action (only the part of its
// kind is shown); Name is a new item's name.
type itemInput struct {
	Name   string `form:"name"`
	Filter filterInput
	Action actionInput
}

// filterInput is a filter's [Definition] values, as models.FilterForm.
type filterInput struct {
	FailRegex   string `form:"failregex"`
	IgnoreRegex string `form:"ignoreregex"`
	DatePattern string `form:"datepattern"`
	PrefRegex   string `form:"prefregex"`
}

// actionInput is an action's commands and a new [Init] value. Its existing
// [Init] values are fields named init_<key>.
type actionInput struct {
	ActionStart string `form:"actionstart"`
	ActionStop  string `form:"actionstop"`
	ActionCheck string `form:"actioncheck"`
	ActionBan   string `form:"actionban"`
	ActionUnban string `form:"actionunban"`
	NewKey      string `form:"new_key"`
	NewValue    string `form:"new_value"`
}

// readItemForm binds the filter or action form; init are the action's
// [Init] values, whose edited values the form carries as init_<key>.
func readItemForm(c echo.Context, init []models.KeyValue) (string, models.FilterForm, models.ActionForm, error) {
	var in itemInput
	if err := bindForm(c, &in); err != nil {
		return "", models.FilterForm{}, models.ActionForm{}, err
	}
	a := in.Action
	af := models.ActionForm{ActionStart: a.ActionStart, ActionStop: a.ActionStop, ActionCheck: a.ActionCheck,
		ActionBan: a.ActionBan, ActionUnban: a.ActionUnban, NewKey: a.NewKey, NewValue: a.NewValue}
	for _, kv := range init {
		af.Init = append(af.Init, models.KeyValue{Key: kv.Key, Value: c.FormValue("init_" + kv.Key)})
	}
	return in.Name, models.FilterForm(in.Filter), af, nil
}

// configItemCreate creates a filter or an action.
func (s *Server) configItemCreate(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		name, ff, af, err := readItemForm(c, nil)
		if err != nil {
			return err
		}
		res, err := s.configuration.CreateItem(c.Request().Context(), s.hostID(c), kind, name, ff, af)
		s.auditApply(c, models.AuditEntry{Target: strings.TrimSpace(name), Detail: "create " + kind}, res, err)
		if fe := configErrors(langOf(c), err); fe != nil {
			return s.renderConfigItems(c, kind, http.StatusUnprocessableEntity,
				views.ConfigItemsPage{NewName: name, NewFilter: ff, NewAction: af, Errors: fe})
		}
		base := "/config/" + kind + "s"
		if err != nil {
			return s.configFail(c, err, base)
		}
		name = strings.TrimSpace(name)
		created := tr(c, "cfg.filter_created", "Name", name, "File", res.File)
		if kind == "action" {
			created = tr(c, "cfg.action_created", "Name", name, "File", res.File)
		}
		s.flashApply(c, res, created)
		if res.OK {
			return s.redirect(c, s.hostURL(c, base+"/"+url.PathEscape(name)))
		}
		return s.redirect(c, s.hostURL(c, base))
	}
}

// configItem is one filter's or action's page.
func (s *Server) configItem(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := s.configuration.Item(c.Request().Context(), s.hostID(c), kind, c.Param("name"))
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
		d, err := s.configuration.Item(ctx, s.hostID(c), kind, name)
		if err != nil {
			return s.configFail(c, err, "/config/"+kind+"s")
		}
		_, ff, af, err := readItemForm(c, d.Action.Init)
		if err != nil {
			return err
		}
		res, err := s.configuration.SaveItem(ctx, s.hostID(c), kind, name, ff, af)
		s.auditApply(c, models.AuditEntry{Target: name, Detail: "edit " + kind}, res, err)
		if fe := configErrors(langOf(c), err); fe != nil {
			return s.render(c, http.StatusUnprocessableEntity, views.ConfigItemView(views.ConfigItemPage{Item: d, Filter: ff, Action: af, Errors: fe}), nil)
		}
		back := "/config/" + kind + "s/" + url.PathEscape(name)
		if err != nil {
			return s.configFail(c, err, back)
		}
		ok := tr(c, "cfg.item_saved", "File", res.File)
		if len(res.Reloaded) > 0 {
			ok = tr(c, "cfg.item_saved_reloaded", "File", res.File, "Jails", strings.Join(res.Reloaded, ", "))
		}
		s.flashApply(c, res, ok)
		return s.redirect(c, s.hostURL(c, back))
	}
}
