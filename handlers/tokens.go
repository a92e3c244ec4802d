package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/views"
)

// maxTokenName bounds a token's name.
const maxTokenName = 64

// tokenRoutes registers the API token part of the account: every logged-in
// user manages their own tokens there; an admin sees and may revoke
// everyone's.
func (s *Server) tokenRoutes(t routeTable) {
	t.GET("/account/tokens", models.RoleViewer, s.tokensPage)
	t.POST("/account/tokens", models.RoleViewer, s.tokenCreate)
	t.POST("/account/tokens/:id/revoke", models.RoleViewer, s.tokenRevoke)
}

// tokensSection gathers the token section of the account page for the
// request's user, with form as the form's state.
func (s *Server) tokensSection(c echo.Context, form views.TokenForm) (views.TokensSection, error) {
	ctx := c.Request().Context()
	id := identityOf(ctx)
	p := views.TokensSection{Form: form, AllUsers: id.Role.Allows(models.RoleAdmin)}
	p.Form.Scopes = scopesUpTo(id.Role)
	if p.Form.Scope == "" {
		p.Form.Scope = string(models.ScopeRead)
	}
	if p.Form.Expiry == "" {
		p.Form.Expiry = views.TokenExpiries[1]
	}
	owner := id.UserID
	if p.AllUsers {
		owner = 0
	}
	var err error
	p.Tokens, err = s.tokens.List(ctx, owner)
	return p, err
}

// scopesUpTo lists the scopes a user of role r may give a token.
func scopesUpTo(r models.Role) []models.TokenScope {
	var out []models.TokenScope
	for _, sc := range models.TokenScopes {
		if r.Allows(sc.Role()) {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Server) tokensPage(c echo.Context) error {
	p, err := s.tokensSection(c, views.TokenForm{})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.TokensPageView(p), nil)
}

// tokenCreate makes a token for the request's user and shows it, this
// once, on the page it answers with.
func (s *Server) tokenCreate(c echo.Context) error {
	ctx := c.Request().Context()
	var form views.TokenForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	user, err := s.currentAccount(ctx)
	if err != nil {
		return err
	}
	tok, errs := s.checkTokenForm(c, &form, user.RoleOf())
	if len(errs) > 0 {
		form.Errors = errs
		p, err := s.tokensSection(c, form)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, views.TokensPageView(p), nil)
	}
	secret := newTokenSecret()
	tok.UserID, tok.Hash = user.ID, tokenHash(secret)
	tok.ID, err = s.tokens.Create(ctx, tok)
	entry := models.AuditEntry{Action: models.AuditTokenChange, Target: tok.Name,
		Detail: "create: scope " + string(tok.Scope) + ", expires " + tokenExpiryWords(form.Expiry)}
	if err != nil {
		entry.Result = s.classify(err).Message
		s.audit(c, entry)
		return err
	}
	entry.Target += " (#" + strconv.FormatInt(tok.ID, 10) + ")"
	s.audit(c, entry)
	p, err := s.tokensSection(c, views.TokenForm{})
	if err != nil {
		return err
	}
	p.NewToken, p.NewName = secret, tok.Name
	return s.render(c, http.StatusOK, views.TokensPageView(p), nil)
}

// newTokenSecret returns the text of a new token: tokenPrefix and 256
// random bits, base64url-encoded.
func newTokenSecret() string { return tokenPrefix + randomToken() }

// checkTokenForm turns the form into a token to store, or says what is
// wrong with it. A scope above role is refused.
func (s *Server) checkTokenForm(c echo.Context, form *views.TokenForm, role models.Role) (models.APIToken, map[string][]string) {
	errs := map[string][]string{}
	form.Name = strings.TrimSpace(form.Name)
	switch {
	case form.Name == "":
		errs["name"] = []string{tr(c, "tokens.name_missing")}
	case !utf8.ValidString(form.Name) || utf8.RuneCountInString(form.Name) > maxTokenName:
		errs["name"] = []string{tr(c, "acct.token_name_long", "Max", maxTokenName)}
	}
	scope, err := models.ParseTokenScope(form.Scope)
	switch {
	case err != nil:
		errs["scope"] = []string{tr(c, "tokens.scope_invalid")}
	case !role.Allows(scope.Role()):
		errs["scope"] = []string{tr(c, "acct.token_scope_above_role", "Role", views.RoleLabel(c.Request().Context(), role), "Scope", string(scope))}
	}
	tok := models.APIToken{Name: form.Name, Scope: scope}
	switch days, err := strconv.Atoi(form.Expiry); {
	case form.Expiry == "never":
	case err == nil && slices.Contains(views.TokenExpiries, form.Expiry):
		exp := s.now().Add(time.Duration(days) * 24 * time.Hour).Unix()
		tok.ExpiresAt = &exp
	default:
		errs["expiry"] = []string{tr(c, "tokens.expiry_invalid")}
	}
	return tok, errs
}

// tokenExpiryWords words an expiry choice for the audit log.
func tokenExpiryWords(choice string) string {
	if choice == "never" {
		return "never"
	}
	return "after " + choice + " days"
}

// tokenRevoke ends one of the user's tokens (an admin's: anyone's) and goes
// back to where the form was.
func (s *Server) tokenRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	id := identityOf(ctx)
	tokID, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || tokID <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "tokens.no_such"))
	}
	owner := id.UserID
	if id.Role.Allows(models.RoleAdmin) {
		owner = 0
	} else if owner == 0 {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "tokens.no_such"))
	}
	tok, err := s.tokens.Revoke(ctx, tokID, owner)
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "tokens.no_such"))
	}
	entry := models.AuditEntry{Action: models.AuditTokenChange, Target: tok.Name + " (#" + c.Param("id") + ")", Detail: "revoke"}
	if err != nil {
		entry.Result = s.classify(err).Message
		s.audit(c, entry)
		return err
	}
	s.audit(c, entry)
	s.flash(c, "success", tr(c, "tokens.revoked", "Name", tok.Name))
	return s.redirect(c, s.url(s.backPath(c, "/account/tokens")))
}

// tokensAccountSection is the API token section of /account.
func (s *Server) tokensAccountSection(c echo.Context, _ models.User) (templ.Component, error) {
	p, err := s.tokensSection(c, views.TokenForm{})
	if err != nil {
		return nil, err
	}
	return views.TokensCard(p), nil
}
