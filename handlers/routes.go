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
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "path", c.Request().URL.Path, "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(s.securityHeaders)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.readForm)
	e.Use(s.markLiveFrom)
	e.Use(s.limitPages()) // a few pages per core at once, before gzip (see limit.go)
	// Level 1 (fastest): at the default level gzip took 12–17% of the CPU
	// under the load script; HTML tables compress well either way.
	// Event streams are not compressed: gzip would hold their events back.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 1, MinLength: 1024,
		Skipper: func(c echo.Context) bool { return wantsStream(c.Request()) }}))

	g := e.Group(base)
	// Public: no session, no setup guard.
	g.GET("/assets/*", func(c echo.Context) error {
		s.assets.ServeHTTP(c.Response(), c.Request(), c.Param("*"))
		return nil
	})
	g.GET("/healthz", s.healthz)
	g.GET("/readyz", s.readyz)
	if base != "" {
		e.GET(base, func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, base+"/") })
	}

	// Pages: session → setup guard → auth → CSRF.
	open := []echo.MiddlewareFunc{s.loadSession, s.setupGuard, s.csrf}
	private := []echo.MiddlewareFunc{s.loadSession, s.setupGuard, s.require(models.RoleAdmin), s.requireKnownHost, s.csrf}

	g.GET("/setup", s.setupForm, open...)
	g.POST("/setup", s.setupSubmit, open...)
	g.POST("/setup/probe", s.setupProbe, open...)
	g.GET("/login", s.loginForm, open...)
	g.POST("/login", s.loginSubmit, open...)
	g.POST("/logout", s.logout, private...)

	g.GET("/", s.dashboard, private...)
	g.GET("/status", s.statusBar, private...)
	g.GET("/events", s.eventStream, private...)
	g.GET("/history", s.historyPage, private...)
	g.GET("/history.csv", s.historyCSV, private...)
	g.GET("/history/:ip", s.ipPage, private...)
	g.POST("/ignore", s.ignoreFromIPPage, private...)
	g.GET("/jails", s.jailsPage, private...)
	g.POST("/jails/ban", s.banSubmit, private...)
	g.POST("/jails/unban", s.unbanSubmit, private...)
	g.POST("/jails/unban-all", s.unbanAllSubmit, private...)
	g.POST("/jails/reload", s.reloadAllSubmit, private...)
	g.GET("/jails/:name", s.jailPage, private...)
	g.POST("/jails/:name/ignore", s.ignoreAdd, private...)
	g.POST("/jails/:name/ignore/delete", s.ignoreRemove, private...)
	g.POST("/jails/:name/ignoreself", s.ignoreSelfSubmit, private...)
	g.POST("/jails/:name/:action", s.jailAction, private...)
	s.blocklistRoutes(g, private)
	s.mapRoutes(g, private)
	s.configRoutes(g, private)
	s.hostRoutes(g, private)
	if buildTestRoutes != nil {
		buildTestRoutes(s, g)
	}
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
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
