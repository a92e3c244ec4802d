package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"bangui/models"
)

// routes registers every route. This function is the table of contents of
// the HTTP interface.
func (s *Server) routes(e *echo.Echo) {
	base := s.cfg.BasePath
	s.useMetrics(e) // first: it counts every request, panics and errors included
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "path", c.Request().URL.Path, "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(s.securityHeaders)
	e.Use(s.chooseLanguage)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.readForm)
	e.Use(s.markLiveFrom)
	e.Use(s.limitPages()) // a few pages per core at once, before gzip (see limit.go)
	// Level 1 (fastest): at the default level gzip took 12–17% of the CPU
	// under the load script; HTML tables compress well either way.
	// Event streams are not compressed: gzip would hold their events back.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 1, MinLength: 1024,
		Skipper: func(c echo.Context) bool { return wantsStream(c.Request()) }}))

	t := routeTable{s: s, g: e.Group(base)}
	// Public: no session, no setup guard.
	t.public(http.MethodGet, "/assets/*", func(c echo.Context) error {
		s.assets.ServeHTTP(c.Response(), c.Request(), c.Param("*"))
		return nil
	})
	t.public(http.MethodGet, "/healthz", s.healthz)
	t.public(http.MethodGet, "/readyz", s.readyz)
	if base != "" {
		s.routeRoles[http.MethodGet+" "+base] = models.RoleNone
		e.GET(base, func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, base+"/") })
	}

	// Pages: session → setup guard → role → CSRF. Each route names the
	// least role that may use it: viewer for reads; operator for bans,
	// unbans, ignore lists and blocklist imports; admin for configuration,
	// hosts, users and jail control. RoleNone: anyone (setup, login).
	viewer, operator, admin := models.RoleViewer, models.RoleOperator, models.RoleAdmin
	t.GET("/setup", models.RoleNone, s.setupForm)
	t.POST("/setup", models.RoleNone, s.setupSubmit)
	t.POST("/setup/probe", models.RoleNone, s.setupProbe)
	t.GET("/login", models.RoleNone, s.loginForm)
	t.POST("/login", models.RoleNone, s.loginSubmit)
	t.POST("/logout", viewer, s.logout)

	t.GET("/", viewer, s.dashboard)
	t.GET("/status", viewer, s.statusBar)
	t.GET("/events", viewer, s.eventStream)
	t.GET("/history", viewer, s.historyPage)
	t.GET("/history.csv", viewer, s.historyCSV)
	t.GET("/history/:ip", viewer, s.ipPage)
	t.POST("/ignore", operator, s.ignoreFromIPPage)
	t.GET("/jails", viewer, s.jailsPage)
	t.POST("/jails/ban", operator, s.banSubmit)
	t.POST("/jails/unban", operator, s.unbanSubmit)
	t.POST("/jails/unban-all", operator, s.unbanAllSubmit)
	t.POST("/jails/reload", admin, s.reloadAllSubmit)
	t.GET("/jails/:name", viewer, s.jailPage)
	t.POST("/jails/:name/ignore", operator, s.ignoreAdd)
	t.POST("/jails/:name/ignore/delete", operator, s.ignoreRemove)
	t.POST("/jails/:name/ignoreself", operator, s.ignoreSelfSubmit)
	t.POST("/jails/:name/:action", admin, s.jailAction) // start, stop, idle, reload
	s.blocklistRoutes(t)
	s.bulkRoutes(t)
	s.mapRoutes(t)
	s.configRoutes(t)
	s.hostRoutes(t)
	s.userRoutes(t)
	s.accountRoutes(t)
	s.auditRoutes(t)
	s.secondFactorRoutes(t)
	s.apiRoutes(t)
	s.passkeyRoutes(t)
	s.alertRoutes(t)
	s.alertRuleRoutes(t)
	s.allowRoutes(t)
	if buildTestRoutes != nil {
		buildTestRoutes(t)
	}
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// routeTable registers the routes under the base path and declares the
// role each one needs: the one place where roles are given, enforced by
// s.require in the route's own middleware. Server.routeRoles keeps the
// declarations ("METHOD /full/path" → role) for the role matrix test.
type routeTable struct {
	s *Server
	g *echo.Group
}

// GET registers a page (or fragment) that needs the role need.
func (t routeTable) GET(path string, need models.Role, h echo.HandlerFunc) {
	t.add(http.MethodGet, path, need, h)
}

// POST registers a form target that needs the role need.
func (t routeTable) POST(path string, need models.Role, h echo.HandlerFunc) {
	t.add(http.MethodPost, path, need, h)
}

// add registers a route with a session: session → setup guard → (for a
// role above RoleNone) the role and a known host → CSRF.
func (t routeTable) add(method, path string, need models.Role, h echo.HandlerFunc) {
	s := t.s
	mw := []echo.MiddlewareFunc{s.loadSession, s.setupGuard, s.csrf}
	if need > models.RoleNone {
		mw = []echo.MiddlewareFunc{s.loadSession, s.setupGuard, s.require(need), s.requireKnownHost, s.csrf}
	}
	s.routeRoles[method+" "+s.cfg.BasePath+path] = need
	t.g.Add(method, path, h, mw...)
}

// public registers a route without a session, open to anyone.
func (t routeTable) public(method, path string, h echo.HandlerFunc) {
	t.s.routeRoles[method+" "+t.s.cfg.BasePath+path] = models.RoleNone
	t.g.Add(method, path, h)
}

// stripBase returns the request path below the base path.
func (s *Server) stripBase(p string) string {
	p = strings.TrimPrefix(p, s.cfg.BasePath)
	if p == "" {
		return "/"
	}
	return p
}

// url returns the absolute path of an in-app path.
func (s *Server) url(p string) string { return s.cfg.BasePath + p }
