package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
)

// Session keys of the identity a session is logged in as.
const (
	sessUser   = "user"              // the identity's name
	sessUserID = repo.SessionUserKey // its users row, which the session store files the session under
	sessRole   = "role_name"         // its models.Role's String
	// sessOldAdminRole held the role as an int when admin was 1, the only
	// role; such a session is the master-password admin.
	sessOldAdminRole = "role"
)

type identityKey struct{}

// identityOf returns who made the request: the identity loadSession found in
// its session, or the zero (not logged in) identity. Handlers, middleware
// and views read it from here and nowhere else.
func identityOf(ctx context.Context) models.Identity {
	id, _ := ctx.Value(identityKey{}).(models.Identity)
	return id
}

// withIdentity returns ctx carrying id.
func withIdentity(ctx context.Context, id models.Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// sessionIdentity reads the identity stored in the loaded session. A
// session stored before identities existed (the key "auth" set) is the
// master-password admin, so upgrading logs nobody out.
func (s *Server) sessionIdentity(ctx context.Context) models.Identity {
	if role, err := models.ParseRole(s.sm.GetString(ctx, sessRole)); err == nil {
		return models.Identity{UserID: s.sm.GetInt64(ctx, sessUserID), Name: s.sm.GetString(ctx, sessUser), Role: role}
	}
	if s.sm.GetBool(ctx, sessLegacyAuth) || s.sm.GetInt(ctx, sessOldAdminRole) == 1 {
		return models.MasterAdmin
	}
	return models.Identity{}
}

// currentIdentity is who the loaded session is logged in as, read afresh
// from the users table on every request: a disabled or removed account is
// logged out at once, and a changed role takes effect at once, with a new
// session token. A session stored before accounts (the master password)
// becomes the session of the account admin. language is the account's
// language setting ("" to follow the browser).
func (s *Server) currentIdentity(ctx context.Context) (id models.Identity, language string, err error) {
	stored := s.sessionIdentity(ctx)
	if !stored.LoggedIn() {
		return stored, "", nil
	}
	var u models.User
	if stored.UserID != 0 {
		u, err = s.users.Get(ctx, stored.UserID)
	} else {
		u, err = s.users.ByName(ctx, repo.MasterAdminName)
	}
	switch {
	case errors.Is(err, repo.ErrNotFound):
		u = models.User{}
	case err != nil:
		return models.Identity{}, "", fmt.Errorf("read the session's account: %w", err)
	}
	id = u.Identity()
	if u.Disabled || !id.LoggedIn() {
		s.logOut(ctx)
		return models.Identity{}, "", nil
	}
	if id != stored {
		if id.Role != stored.Role {
			if err := s.sm.RenewToken(ctx); err != nil {
				return models.Identity{}, "", fmt.Errorf("renew the session: %w", err)
			}
		}
		s.logIn(ctx, id)
	}
	return id, u.Language, nil
}

// stillAllowed reports whether the account of a long-lived request (an
// event stream) may still read pages: it was not disabled, removed or
// demoted below viewer since the request began. A passing database error
// does not end the stream.
func (s *Server) stillAllowed(ctx context.Context) bool {
	id := identityOf(ctx)
	if id.UserID == 0 {
		return id.LoggedIn()
	}
	u, err := s.users.Get(ctx, id.UserID)
	if errors.Is(err, repo.ErrNotFound) {
		return false
	}
	return err != nil || (!u.Disabled && u.RoleOf().Allows(models.RoleViewer))
}

// currentAccount returns the users row of the request's identity (every
// logged-in identity is an account's, see currentIdentity).
func (s *Server) currentAccount(ctx context.Context) (models.User, error) {
	return s.users.Get(ctx, identityOf(ctx).UserID)
}

// logIn stores id in the session (whose token the caller has renewed).
func (s *Server) logIn(ctx context.Context, id models.Identity) {
	s.sm.Remove(ctx, sessLegacyAuth)
	s.sm.Remove(ctx, sessOldAdminRole)
	s.sm.Put(ctx, sessUserID, id.UserID)
	s.sm.Put(ctx, sessUser, id.Name)
	s.sm.Put(ctx, sessRole, id.Role.String())
}

// logOut removes the identity from the session.
func (s *Server) logOut(ctx context.Context) {
	for _, k := range []string{sessLegacyAuth, sessOldAdminRole, sessUserID, sessUser, sessRole} {
		s.sm.Remove(ctx, k)
	}
}

// require lets through only requests whose identity has at least role
// need. Anyone not logged in is sent to the login page (htmx: HX-Redirect),
// coming back to the page asked for; a logged-in identity without the role
// gets 403. The route table names the role of every private route.
func (s *Server) require(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := identityOf(c.Request().Context())
			if id.Role.Allows(need) && id.LoggedIn() {
				return next(c)
			}
			if id.LoggedIn() {
				return echo.NewHTTPError(http.StatusForbidden, tr(c, "error.not_allowed"))
			}
			target := c.Request().URL.RequestURI()
			if isHTMX(c.Request()) {
				if cur, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil && cur.Path != "" {
					target = cur.RequestURI()
				}
			}
			return s.redirect(c, s.url("/login")+"?next="+url.QueryEscape(target))
		}
	}
}
