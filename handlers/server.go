// Package handlers is BanGUI's HTTP layer: Echo routes, middleware and the
// handlers that call services and render views.
package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"bangui/assets"
	"bangui/config"
	"bangui/hosts"
	"bangui/repo"
	"bangui/services"
	"bangui/services/blocklists"
	"bangui/services/configuration"
	"bangui/services/setup"
)

// Deps are what the HTTP layer needs; main.go builds them.
type Deps struct {
	Config        config.Config
	DB            *bun.DB
	Sessions      repo.Sessions
	Hosts         *hosts.Registry // the fail2ban hosts
	Status        *services.StatusProbe
	Jails         *services.Jails
	History       *services.History
	Blocklists    *blocklists.Service    // blocklist sources, imports and schedule
	Geo           *services.Geo          // countries; nil shows every country as unknown
	Configuration *configuration.Service // the configuration pages (nil: built from Hosts with defaults)
	Assets        *assets.Set
	Logger        *slog.Logger
	Version       string
}

// Server carries the handlers' dependencies and per-process state.
type Server struct {
	cfg           config.Config
	db            *bun.DB
	settings      *repo.SettingsStore
	setup         *setup.Service
	sm            *scs.SessionManager
	hosts         *hosts.Registry
	status        *services.StatusProbe
	jails         *services.Jails
	history       *services.History
	blocklists    *blocklists.Service
	geo           *services.Geo
	configuration *configuration.Service
	assets        *assets.Set
	log           *slog.Logger
	version       string
	throttle      *services.LoginThrottle
	now           func() time.Time
	visitorKey    []byte // HMAC key of the CSRF tokens of visitors without a stored session

	setupDone atomic.Bool                         // cached once true
	panel     atomic.Pointer[setup.PanelSettings] // settings chosen at setup
}

// Session keys.
const (
	sessLegacyAuth = "auth" // a session logged in before identities existed
	sessCSRF       = "csrf"
	sessFlash      = "flash"
	cookieName     = "bangui_session"
)

// MaxHeaderBytes is the most request-line and header bytes the HTTP server
// reads (main.go sets it); a larger request is refused with 431 before any
// handler runs.
const MaxHeaderBytes = 64 << 10

// anonymousLifetime bounds sessions that never logged in (they only carry a CSRF token).
const anonymousLifetime = 12 * time.Hour

// New builds the Echo instance with every route and middleware.
func New(ctx context.Context, d Deps) (*echo.Echo, *Server, error) {
	settings := repo.NewSettingsStore(d.DB)
	s := &Server{
		cfg:           d.Config,
		db:            d.DB,
		settings:      settings,
		setup:         setup.New(settings),
		hosts:         d.Hosts,
		status:        d.Status,
		jails:         d.Jails,
		history:       d.History,
		blocklists:    d.Blocklists,
		geo:           d.Geo,
		configuration: d.Configuration,
		assets:        d.Assets,
		log:           d.Logger,
		version:       d.Version,
		throttle:      services.NewLoginThrottle(),
		now:           time.Now,
		visitorKey:    make([]byte, 32),
	}
	rand.Read(s.visitorKey)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.configuration == nil && d.Hosts != nil {
		s.configuration = defaultConfiguration(d)
	}
	sm := scs.New()
	sm.Store = d.Sessions.(scs.Store)
	sm.Lifetime = anonymousLifetime
	sm.Cookie.Name = cookieName
	s.sm = sm

	done, err := s.setup.Done(ctx)
	if err != nil {
		return nil, nil, err
	}
	if done {
		s.setupDone.Store(true)
		ps, err := setup.LoadPanelSettings(ctx, s.settings)
		if err != nil {
			return nil, nil, err
		}
		s.panel.Store(&ps)
	} else {
		code, err := setup.LoadCode(s.cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		s.setup.RequireCode(code)
		s.log.Warn("setup is not done: open the panel and enter this setup code", "code", code.String(), "file", code.Path())
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s.configureProxyTrust(e)
	e.HTTPErrorHandler = s.handleError
	s.routes(e)
	return e, s, nil
}

// configureProxyTrust makes RealIP and Scheme believe forwarded headers only
// from the configured proxy ranges.
func (s *Server) configureProxyTrust(e *echo.Echo) {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range s.cfg.TrustedProxies {
		n := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		opts = append(opts, echo.TrustIPRange(n))
	}
	e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	e.SchemeExtractor = echo.ExtractSchemeFromHeaders(opts...)
}

// panelSettings returns the settings chosen at setup (defaults before setup).
func (s *Server) panelSettings() setup.PanelSettings {
	if p := s.panel.Load(); p != nil {
		return *p
	}
	return setup.PanelSettings{Socket: s.cfg.Socket, ConfigDir: s.cfg.ConfigDir, Location: time.UTC, SessionDuration: time.Hour}
}

// isHTMX reports whether the request came from htmx (boosted or not).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }
