// Package handlers is BanGUI's HTTP layer: Echo routes, middleware and the
// handlers that call services and render views.
package handlers

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"bangui/app"
	"bangui/assets"
	"bangui/config"
	"bangui/hosts"
	"bangui/metrics"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/alerts"
	"bangui/services/alerts/rules"
	"bangui/services/allowlist"
	"bangui/services/blocklists"
	"bangui/services/bulk"
	"bangui/services/configuration"
	"bangui/services/fleet"
	"bangui/services/setup"
)

// Server carries the handlers' dependencies and per-process state.
type Server struct {
	cfg           config.Config
	pingDB        func(context.Context) error // readiness: the panel's database answers
	settings      repo.Settings
	setup         *setup.Service
	sm            *scs.SessionManager
	hosts         *hosts.Registry
	status        *services.StatusProbe
	jails         *services.Jails
	timedBans     *services.TimedBans
	history       *services.History
	blocklists    *blocklists.Service
	bulk          *bulk.Service // nil: no bulk actions
	geo           *services.Geo
	configuration *configuration.Service
	fleet         *fleet.Service
	users         *repo.UserStore
	accounts      *services.Accounts
	tokens        *repo.TokenStore
	alerts        *alerts.Delivery
	api           *apiState // the API's per-token rate limits and last-use stamps
	factors       *services.SecondFactors
	passkeys      *repo.PasskeyStore
	alertRules    *rules.Service // nil: no rules page
	allowList     *allowlist.AllowList
	assets        *assets.Set
	log           *slog.Logger
	version       string
	throttle      *services.LoginThrottle // failed logins per client address
	// accountThrottle slows failed logins per account name.
	accountThrottle *services.LoginThrottle
	now             func() time.Time
	visitorKey      []byte // HMAC key of the CSRF tokens of visitors without a stored session
	live            *liveHub
	auditLog        AuditRecorder // nil: nothing is recorded
	audits          repo.AuditLog // the audit page's reading and retention; nil: no audit page
	// routeRoles is the role each route needs ("METHOD /full/path"), as
	// the route table declared it.
	routeRoles map[string]models.Role
	// accountSections are the sections other features add to /account.
	accountSections []accountSection

	metrics *metrics.Metrics // nil: metrics are off

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

// anonymousLifetime bounds sessions that never logged in (they only carry a CSRF token).
const anonymousLifetime = 12 * time.Hour

// New builds the Echo instance with every route and middleware on the
// services of a (see package app, the one wiring).
func New(ctx context.Context, a *app.App) (*echo.Echo, *Server, error) {
	set, err := assets.New()
	if err != nil {
		return nil, nil, fmt.Errorf("assets: %w", err)
	}
	s := &Server{
		cfg:             a.Config,
		pingDB:          a.DB.PingContext,
		settings:        a.Settings,
		setup:           a.Setup,
		hosts:           a.Hosts,
		status:          a.Status,
		jails:           a.Jails,
		timedBans:       a.TimedBans,
		history:         a.History,
		blocklists:      a.Blocklists,
		bulk:            a.Bulk,
		geo:             a.Geo,
		configuration:   a.Configuration,
		fleet:           a.Fleet,
		users:           a.Users,
		accounts:        a.Accounts,
		metrics:         a.Metrics,
		tokens:          a.Tokens,
		alerts:          a.Alerts,
		api:             newAPIState(),
		factors:         a.SecondFactors,
		passkeys:        a.Passkeys,
		alertRules:      rules.NewService(repo.NewAlertRuleStore(a.DB)),
		allowList:       a.AllowList,
		routeRoles:      map[string]models.Role{},
		assets:          set,
		log:             a.Log,
		version:         a.Version,
		throttle:        services.NewLoginThrottle(),
		accountThrottle: services.NewAccountThrottle(),
		now:             time.Now,
		visitorKey:      make([]byte, 32),
	}
	rand.Read(s.visitorKey)
	s.accountSections = []accountSection{s.totpAccountSection, s.passkeysAccountSection, s.tokensAccountSection}
	if a.Audit != nil {
		s.auditLog, s.audits = a.Audit, a.Audit
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	sm := scs.New()
	sm.Store = a.Sessions
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
	s.live = s.newLiveHub(a.StreamContext(), a.Events, a.Config.MaxStreams)
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
