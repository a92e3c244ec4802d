package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"bangui/models"
	"bangui/repo"
)

// apiPrefix is where the API lives below the base path.
const apiPrefix = "/api/v1"

// apiBodyLimit bounds a request body of the API: its largest (a ban) is a
// few hundred bytes.
const apiBodyLimit = "64K"

// The per-token rate limit: a token bucket of apiBurst requests, refilled
// with apiRate requests a second.
const (
	apiRate  = rate.Limit(5)
	apiBurst = 30
)

// apiLastUseEvery is how often, at most, a token's last use is written.
const apiLastUseEvery = time.Minute

// apiRoute is one route of the API: the scope a token needs for it is
// declared here and nowhere else (the OpenAPI document repeats it as
// x-bangui-scope, and a test holds the two together).
type apiRoute struct {
	Method  string
	Path    string // below /api/v1, in Echo's syntax (:name)
	Scope   models.TokenScope
	Handler echo.HandlerFunc
}

// apiRouteTable is every route of the API.
func (s *Server) apiRouteTable() []apiRoute {
	const read, operate = models.ScopeRead, models.ScopeOperate
	return []apiRoute{
		{http.MethodGet, "/openapi.json", read, s.apiOpenAPI},
		{http.MethodGet, "/status", read, s.apiStatus},
		{http.MethodGet, "/jails", read, s.apiJails},
		{http.MethodGet, "/jails/:name", read, s.apiJail},
		{http.MethodGet, "/jails/:name/ignore", read, s.apiIgnoreList},
		{http.MethodPost, "/jails/:name/ignore", operate, s.apiIgnoreAdd},
		{http.MethodPost, "/jails/:name/ignore/remove", operate, s.apiIgnoreRemove},
		{http.MethodGet, "/bans", read, s.apiBans},
		{http.MethodPost, "/ban", operate, s.apiBan},
		{http.MethodPost, "/unban", operate, s.apiUnban},
		{http.MethodGet, "/history", read, s.apiHistory},
		{http.MethodGet, "/history/:ip", read, s.apiIPReport},
		{http.MethodGet, "/blocklists/import", read, s.apiImportResult},
		{http.MethodPost, "/blocklists/import", operate, s.apiImportStart},
	}
}

// apiRoutes registers the API under /api/v1 and the token pages of the
// account (/account/tokens), which make its credentials.
//
// An API request carries a token (Authorization: Bearer) and never a
// session: the API does not read cookies, so it needs no CSRF token, and a
// request with a cookie but no token is refused like any other without
// one. Each route then checks its scope, and a POST's body is JSON.
func (s *Server) apiRoutes(t routeTable) {
	// The middleware is the routes' own, not the group's: an unknown path
	// below /api/v1 is answered 404 (as JSON) with or without a token.
	bodyLimit := middleware.BodyLimit(apiBodyLimit)
	for _, r := range s.apiRouteTable() {
		t.g.Add(r.Method, apiPrefix+r.Path, r.Handler, s.apiAuth, s.apiRateLimit, bodyLimit, s.apiScope(r.Scope), s.requireKnownHost)
		s.routeRoles[r.Method+" "+s.cfg.BasePath+apiPrefix+r.Path] = r.Scope.Role()
	}
	s.tokenRoutes(t)
}

// apiState is the API's per-process state: the rate limiters of the tokens
// and when each token's last use was written.
type apiState struct {
	mu       sync.Mutex
	limiters map[int64]*rate.Limiter
	written  map[int64]time.Time
	rate     rate.Limit
	burst    int
}

func newAPIState() *apiState {
	return &apiState{limiters: map[int64]*rate.Limiter{}, written: map[int64]time.Time{}, rate: apiRate, burst: apiBurst}
}

// reserve takes one request from the token's bucket at now; when the bucket
// is empty it takes nothing and says how long until a request may come.
func (st *apiState) reserve(token int64, now time.Time) time.Duration {
	st.mu.Lock()
	l := st.limiters[token]
	if l == nil {
		l = rate.NewLimiter(st.rate, st.burst)
		st.limiters[token] = l
	}
	st.mu.Unlock()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// dueForLastUse reports whether the token's last use should be written at
// now (at most once per apiLastUseEvery), and notes it as written.
func (st *apiState) dueForLastUse(token int64, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if last, ok := st.written[token]; ok && now.Sub(last) < apiLastUseEvery {
		return false
	}
	st.written[token] = now
	return true
}

// tokenPrefix starts every token, so that a leaked one is recognisable
// (secret scanners, logs).
const tokenPrefix = "bgu_"

// tokenHash is what the database keeps of a token: the hex SHA-256 of its
// text. The secret has 256 random bits, so a plain hash suffices.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// bearerToken returns the token of an Authorization: Bearer header, or "".
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// apiAuth lets through requests with a usable token, as the identity of its
// user with the lower of the token's scope and the user's role. It never
// looks at cookies. A missing, unknown, revoked or expired token, or one of
// a disabled user, is refused with 401 at once: the token and its user are
// read on every request.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		tok := bearerToken(c.Request())
		if tok == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="bangui"`)
			return apiErr(http.StatusUnauthorized, "token_missing", "This API needs a token: send it as Authorization: Bearer <token>. Tokens are made on your account page.")
		}
		if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 100 {
			return apiErr(http.StatusUnauthorized, "token_invalid", "The token is not valid.")
		}
		ctx := c.Request().Context()
		owner, err := s.tokens.ByHash(ctx, tokenHash(tok))
		if errors.Is(err, repo.ErrNotFound) {
			return apiErr(http.StatusUnauthorized, "token_invalid", "The token is not valid.")
		}
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case owner.Token.Revoked():
			return apiErr(http.StatusUnauthorized, "token_revoked", "The token was revoked.")
		case owner.Token.Expired(now.Unix()):
			return apiErr(http.StatusUnauthorized, "token_expired", "The token has expired.")
		case owner.Disabled || !owner.Identity().LoggedIn():
			return apiErr(http.StatusUnauthorized, "user_disabled", "The token's account is disabled.")
		}
		if s.api.dueForLastUse(owner.Token.ID, now) {
			if err := s.tokens.MarkUsed(ctx, owner.Token.ID, now.Unix()); err != nil {
				s.log.Warn("api: note the token's last use", "err", err, "token", owner.Token.ID)
			}
		}
		c.SetRequest(c.Request().WithContext(withIdentity(ctx, owner.Identity())))
		return next(c)
	}
}

// apiRateLimit answers 429 with Retry-After when a token sends more than
// its bucket allows.
func (s *Server) apiRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := identityOf(c.Request().Context())
		if wait := s.api.reserve(id.TokenID, s.now()); wait > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			return apiErr(http.StatusTooManyRequests, "rate_limited", "Too many requests with this token; wait as long as Retry-After says.")
		}
		return next(c)
	}
}

// apiScope refuses a request whose token may not do what scope allows.
func (s *Server) apiScope(scope models.TokenScope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !identityOf(c.Request().Context()).Role.Allows(scope.Role()) {
				return apiErr(http.StatusForbidden, "forbidden",
					"This needs a token with the "+string(scope)+" scope, of an account whose role allows it.")
			}
			return next(c)
		}
	}
}

// isAPIPath reports whether a request is one of the API's.
func (s *Server) isAPIPath(r *http.Request) bool {
	p := s.stripBase(r.URL.Path)
	return p == apiPrefix || strings.HasPrefix(p, apiPrefix+"/")
}
