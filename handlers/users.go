package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/views"
)

// userRoutes registers /users, the admins' page of every account.
func (s *Server) userRoutes(t routeTable) {
	t.GET("/users", models.RoleAdmin, s.usersPage)
	t.POST("/users", models.RoleAdmin, s.userAdd)
	t.POST("/users/:id/role", models.RoleAdmin, s.userRole)
	t.POST("/users/:id/enabled", models.RoleAdmin, s.userEnabled)
	t.POST("/users/:id/password", models.RoleAdmin, s.userPassword)
	t.POST("/users/:id/delete", models.RoleAdmin, s.userDelete)
}

func (s *Server) usersPage(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, views.UsersPage{})
}

// renderUsers renders /users with p's forms and every account.
func (s *Server) renderUsers(c echo.Context, status int, p views.UsersPage) error {
	list, err := s.accounts.List(c.Request().Context())
	if err != nil {
		return err
	}
	p.Users = list
	return s.render(c, status, views.UsersPageView(p), nil)
}

// userInput is the add-user and reset-password form.
type userInput struct {
	Username string `form:"username"`
	Role     string `form:"role"`
	Password string `form:"password"`
	Confirm  string `form:"password_confirm"`
	Enabled  string `form:"enabled"`
}

func (s *Server) userAdd(c echo.Context) error {
	var in userInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	u, err := s.accounts.Add(c.Request().Context(), services.NewUser{Name: in.Username, Password: in.Password, Confirm: in.Confirm, Role: in.Role})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		return s.renderUsers(c, http.StatusUnprocessableEntity, views.UsersPage{Add: views.UserForm{Username: in.Username, Role: in.Role, Errors: verr.In(langOf(c))}})
	}
	if err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: u.Name, Detail: "add, role " + u.Role})
	s.flash(c, "success", tr(c, "users.added", "Name", u.Name, "Role", u.Role))
	return s.redirect(c, s.url("/users"))
}

func (s *Server) userRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	role, _ := models.ParseRole(c.FormValue("role"))
	before, after, err := s.accounts.SetRole(c.Request().Context(), id, role)
	if err := userError(c, err); err != nil {
		return err
	}
	if before.Role != after.Role {
		s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: after.Name, Detail: "role " + before.Role + " → " + after.Role})
	}
	s.flash(c, "success", tr(c, "users.role_changed", "Name", after.Name, "Role", after.Role))
	return s.redirect(c, s.url("/users"))
}

func (s *Server) userEnabled(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	disable := !ticked(c.FormValue("enabled"))
	u, err := s.accounts.SetDisabled(c.Request().Context(), id, disable)
	if err := userError(c, err); err != nil {
		return err
	}
	what, msg := "enable", tr(c, "users.enabled_msg", "Name", u.Name)
	if disable {
		what, msg = "disable", tr(c, "users.disabled_msg", "Name", u.Name)
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: u.Name, Detail: what})
	s.flash(c, "success", msg)
	return s.redirect(c, s.url("/users"))
}

func (s *Server) userPassword(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var in userInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	u, err := s.accounts.ResetPassword(c.Request().Context(), id, in.Password, in.Confirm)
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		return s.renderUsers(c, http.StatusUnprocessableEntity, views.UsersPage{FormUser: id, Form: views.UserForm{Errors: verr.In(langOf(c))}})
	}
	if err := userError(c, err); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: u.Name, Detail: "password reset"})
	s.flash(c, "success", tr(c, "users.password_set", "Name", u.Name))
	return s.redirect(c, s.url("/users"))
}

func (s *Server) userDelete(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := s.accounts.Remove(c.Request().Context(), id)
	if err := userError(c, err); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: u.Name, Detail: "delete"})
	s.flash(c, "success", tr(c, "users.deleted", "Name", u.Name))
	if id == identityOf(c.Request().Context()).UserID {
		return s.redirect(c, s.url("/login"))
	}
	return s.redirect(c, s.url("/users"))
}

// userID is the account named by the path's :id; 404 when malformed.
func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, tr(c, "users.no_such"))
	}
	return id, nil
}

// userError turns the refusals of an account change into answers.
func userError(c echo.Context, err error) error {
	var verr *services.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, services.ErrLastAdmin):
		return echo.NewHTTPError(http.StatusConflict, tr(c, "users.last_admin"))
	case errors.Is(err, repo.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "users.no_such_more"))
	case errors.As(err, &verr):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), verr.In(langOf(c))))
	}
	return err
}
