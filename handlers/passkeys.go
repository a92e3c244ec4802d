package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/views"
)

// Passkeys (WebAuthn). The relying party is the panel's host name: the host
// of --public-url when it is set, else the host the request came to (its
// Host header, or X-Forwarded-Host from a trusted proxy) with the scheme
// Echo trusts (X-Forwarded-Proto from a trusted proxy). Each ceremony's
// challenge waits in the session for passkeyTimeout and is used once.

// passkeyTimeout is how long a browser may take for one passkey ceremony.
const passkeyTimeout = 5 * time.Minute

// passkeyNameMax is the longest passkey name, in characters.
const passkeyNameMax = 64

// sessPasskeyCeremony is the session key of the ceremony under way.
const sessPasskeyCeremony = "passkey_ceremony"

// Purposes of a passkey ceremony.
const (
	ceremonyRegister     = "register"
	ceremonyLogin        = "login"         // usernameless: the passkey is the whole login
	ceremonySecondFactor = "second-factor" // after the password
)

// passkeyRoutes registers the passkey routes: the account's list (any
// logged-in role manages its own passkeys) and the login ceremonies.
func (s *Server) passkeyRoutes(t routeTable) {
	none, viewer := models.RoleNone, models.RoleViewer
	t.GET("/account/passkeys", viewer, s.passkeysPage)
	t.POST("/account/passkeys/begin", viewer, s.passkeyRegisterBegin)
	t.POST("/account/passkeys/finish", viewer, s.passkeyRegisterFinish)
	t.POST("/account/passkeys/:id/delete", viewer, s.passkeyDelete)
	t.POST("/login/passkey/begin", none, s.passkeyLoginBegin)
	t.POST("/login/passkey/finish", none, s.passkeyLoginFinish)
	t.POST("/login/second-factor/passkey/begin", none, s.passkeySecondFactorBegin)
	t.POST("/login/second-factor/passkey/finish", none, s.passkeySecondFactorFinish)
}

// errPasskeyHost says why this request cannot run a passkey ceremony.
var errPasskeyHost = lang.M("acct.passkey_host")

// passkeyOrigin is the origin passkeys are bound to: that of --public-url,
// else the request's own.
func (s *Server) passkeyOrigin(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return normalOrigin(strings.TrimSuffix(s.cfg.PublicURL, s.cfg.BasePath))
	}
	return s.requestOrigin(c)
}

// requestOrigin is scheme://host[:port] as the browser sent the request.
func (s *Server) requestOrigin(c echo.Context) string {
	r := c.Request()
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && s.fromTrustedProxy(r) {
		host, _, _ = strings.Cut(fh, ",")
	}
	return normalOrigin(c.Scheme() + "://" + strings.TrimSpace(host))
}

// normalOrigin lower-cases an origin and drops its scheme's default port.
func normalOrigin(o string) string {
	o = strings.ToLower(o)
	if h, ok := strings.CutPrefix(o, "https://"); ok {
		return "https://" + strings.TrimSuffix(h, ":443")
	}
	if h, ok := strings.CutPrefix(o, "http://"); ok {
		return "http://" + strings.TrimSuffix(h, ":80")
	}
	return o
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// passkeyOffer says whether this page can run a passkey ceremony, and if
// not, where it can.
func (s *Server) passkeyOffer(c echo.Context) views.PasskeyOffer {
	origin := s.passkeyOrigin(c)
	if _, err := rpIDOf(origin); err != nil {
		return views.PasskeyOffer{Reason: tr(c, "passkey.need_host")}
	}
	if !s.atPasskeyHost(c, origin) {
		return views.PasskeyOffer{At: s.cfg.PublicURL + "/"}
	}
	return views.PasskeyOffer{Here: true}
}

// atPasskeyHost reports whether the request came to the host name of the
// passkey origin. Only the name counts: a proxy that sends "Host $host"
// drops the port. (The browser's answer is checked against the whole
// origin.)
func (s *Server) atPasskeyHost(c echo.Context, origin string) bool {
	want, err1 := url.Parse(origin)
	got, err2 := url.Parse(s.requestOrigin(c))
	return err1 == nil && err2 == nil && want.Hostname() == got.Hostname()
}

// rpIDOf returns the relying party id (host name) of an origin; an IP
// address cannot be one.
func rpIDOf(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "", errPasskeyHost
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return "", errPasskeyHost
	}
	return u.Hostname(), nil
}

// relyingParty returns the WebAuthn relying party for this request. It
// refuses a request that did not come to the passkey origin.
func (s *Server) relyingParty(c echo.Context) (*webauthn.WebAuthn, error) {
	origin := s.passkeyOrigin(c)
	rpID, err := rpIDOf(origin)
	if err != nil {
		return nil, err
	}
	if !s.atPasskeyHost(c, origin) {
		return nil, lang.M("acct.passkey_only_at", "URL", s.cfg.PublicURL+"/")
	}
	timeouts := webauthn.TimeoutConfig{Enforce: true, Timeout: passkeyTimeout, TimeoutUVD: passkeyTimeout}
	rp, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: "BanGUI",
		RPOrigins:     []string{origin},
		// A passkey must be discoverable (usernameless login) and verify its
		// user (PIN, fingerprint): then it is a whole login by itself.
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
	})
	if err != nil {
		return nil, lang.M("acct.passkey_config", "Reason", lang.Raw(err.Error()))
	}
	return rp, nil
}

// passkeyAccount is an account with its passkeys, as the WebAuthn library
// sees a user.
type passkeyAccount struct {
	user   models.User
	handle []byte
	keys   []models.Passkey
}

// WebAuthnID is the account's user handle.
func (a *passkeyAccount) WebAuthnID() []byte { return a.handle }

// WebAuthnName is the account's name.
func (a *passkeyAccount) WebAuthnName() string { return a.user.Name }

// WebAuthnDisplayName is the account's name.
func (a *passkeyAccount) WebAuthnDisplayName() string { return a.user.Name }

// WebAuthnCredentials are the account's passkeys.
func (a *passkeyAccount) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(a.keys))
	for _, k := range a.keys {
		var transports []protocol.AuthenticatorTransport
		for _, t := range strings.Split(k.Transports, ",") {
			if t != "" {
				transports = append(transports, protocol.AuthenticatorTransport(t))
			}
		}
		out = append(out, webauthn.Credential{
			ID: k.CredentialID, PublicKey: k.PublicKey,
			AttestationType: k.AttestationType, AttestationFormat: k.AttestationFormat,
			Transport: transports,
			Flags:     webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(k.Flags)),
			Authenticator: webauthn.Authenticator{
				AAGUID: k.AAGUID, SignCount: uint32(k.SignCount), CloneWarning: k.CloneWarning,
			},
		})
	}
	return out
}

// keyOf returns the stored passkey with the credential id.
func (a *passkeyAccount) keyOf(credentialID []byte) (models.Passkey, bool) {
	for _, k := range a.keys {
		if string(k.CredentialID) == string(credentialID) {
			return k, true
		}
	}
	return models.Passkey{}, false
}

// loadPasskeyAccount returns an account with its user handle and its
// passkeys for the relying party rpID.
func (s *Server) loadPasskeyAccount(ctx context.Context, u models.User, rpID string) (*passkeyAccount, error) {
	handle, err := s.passkeys.UserHandle(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	all, err := s.passkeys.List(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	a := &passkeyAccount{user: u, handle: handle}
	for _, k := range all {
		if k.RPID == rpID {
			a.keys = append(a.keys, k)
		}
	}
	return a, nil
}

// passkeyCeremony is a ceremony under way, kept in the session between its
// two requests.
type passkeyCeremony struct {
	Purpose string
	UserID  int64  // register and second-factor: the account
	Name    string // register: the new passkey's name
	Data    webauthn.SessionData
}

// startCeremony stores a ceremony in the session, replacing any other.
func (s *Server) startCeremony(ctx context.Context, pc passkeyCeremony) error {
	b, err := json.Marshal(pc)
	if err != nil {
		return err
	}
	s.sm.Put(ctx, sessPasskeyCeremony, b)
	return nil
}

// msgNoCeremony answers a finish without its begin, a second finish, or
// one after the timeout.
var msgNoCeremony = lang.M("acct.passkey_no_ceremony")

// takeCeremony removes the ceremony of purpose from the session and returns
// it: each challenge can be answered once.
func (s *Server) takeCeremony(ctx context.Context, purpose string) (passkeyCeremony, bool) {
	var pc passkeyCeremony
	b := s.sm.PopBytes(ctx, sessPasskeyCeremony)
	if len(b) == 0 || json.Unmarshal(b, &pc) != nil || pc.Purpose != purpose ||
		(!pc.Data.Expires.IsZero() && s.now().After(pc.Data.Expires)) {
		return passkeyCeremony{}, false
	}
	return pc, true
}

// ceremonyFinish is what the finish request of a ceremony works with.
type ceremonyFinish struct {
	rp   *webauthn.WebAuthn
	data webauthn.SessionData
	name string // register: the new passkey's name
	acct *passkeyAccount
}

// finishCeremony takes the session's ceremony of purpose, which must have
// been begun for the account u, and loads u's passkeys at this request's
// relying party. refused is what to tell the user when it cannot go on
// (in the request's language); err is a fault of the panel.
func (s *Server) finishCeremony(c echo.Context, purpose string, u models.User) (f ceremonyFinish, refused string, err error) {
	ctx := c.Request().Context()
	pc, ok := s.takeCeremony(ctx, purpose)
	if !ok || pc.UserID != u.ID {
		return f, msgNoCeremony.In(langOf(c)), nil
	}
	if f.rp, err = s.relyingParty(c); err != nil {
		return f, trErr(c, err), nil
	}
	f.data, f.name = pc.Data, pc.Name
	f.acct, err = s.loadPasskeyAccount(ctx, u, f.rp.Config.RPID)
	return f, "", err
}

// passkeyJSON answers a ceremony request: status and a JSON body.
func passkeyJSON(c echo.Context, status int, body any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, body)
}

// passkeyError answers a ceremony request that failed with msg.
func passkeyError(c echo.Context, status int, msg string) error {
	return passkeyJSON(c, status, map[string]string{"error": msg})
}

// passkeysPage is the account's Passkeys section on a page of its own.
func (s *Server) passkeysPage(c echo.Context) error {
	ctx := c.Request().Context()
	var sec views.PasskeysSection
	u, err := s.currentAccount(ctx)
	switch {
	case err == nil:
		sec = s.passkeysSection(c, u)
	case errors.Is(err, repo.ErrNotFound):
		sec.Unavailable = tr(c, "passkey.no_account")
	default:
		return err
	}
	return s.render(c, http.StatusOK, views.PasskeysPage(sec), views.PasskeysCard(sec))
}

// passkeysAccountSection is the Passkeys section of the account page of u
// (the account page's accountSection).
func (s *Server) passkeysAccountSection(c echo.Context, u models.User) (templ.Component, error) {
	return views.PasskeysCard(s.passkeysSection(c, u)), nil
}

// passkeysSection is the view of u's passkeys.
func (s *Server) passkeysSection(c echo.Context, u models.User) views.PasskeysSection {
	sec := views.PasskeysSection{Offer: s.passkeyOffer(c)}
	keys, err := s.passkeys.List(c.Request().Context(), u.ID)
	if err != nil {
		s.log.Error("passkeys: list", "err", err, "request_id", requestID(c))
		sec.Unavailable = tr(c, "passkey.unreadable")
		return sec
	}
	rpID, _ := rpIDOf(s.passkeyOrigin(c))
	for _, k := range keys {
		sec.Keys = append(sec.Keys, views.PasskeyItem{
			ID: k.ID, Name: k.Name, For: k.RPID, Here: k.RPID == rpID,
			Synced:   protocol.AuthenticatorFlags(k.Flags).HasBackupState(),
			Created:  time.Unix(k.CreatedAt, 0),
			LastUsed: unixOrZero(k.LastUsedAt),
		})
	}
	return sec
}

func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// passkeyRegisterBegin starts adding a passkey: it answers the options for
// navigator.credentials.create.
func (s *Server) passkeyRegisterBegin(c echo.Context) error {
	ctx := c.Request().Context()
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 4096)).Decode(&in); err != nil {
		return passkeyError(c, http.StatusBadRequest, tr(c, "error.form_unreadable"))
	}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return passkeyError(c, http.StatusUnprocessableEntity, tr(c, "passkey.name_missing"))
	case utf8.RuneCountInString(name) > passkeyNameMax:
		return passkeyError(c, http.StatusUnprocessableEntity, tr(c, "passkey.name_long", "Max", passkeyNameMax))
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return passkeyError(c, http.StatusUnprocessableEntity, tr(c, "passkey.name_line"))
	}
	rp, err := s.relyingParty(c)
	if err != nil {
		return passkeyError(c, http.StatusConflict, trErr(c, err))
	}
	u, err := s.currentAccount(ctx)
	if err != nil {
		return passkeyError(c, http.StatusConflict, tr(c, "passkey.no_account_short"))
	}
	acct, err := s.loadPasskeyAccount(ctx, u, rp.Config.RPID)
	if err != nil {
		return err
	}
	var exclude []protocol.CredentialDescriptor
	for _, cred := range acct.WebAuthnCredentials() {
		exclude = append(exclude, cred.Descriptor())
	}
	creation, data, err := rp.BeginRegistration(acct, webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return fmt.Errorf("passkeys: begin registration: %w", err)
	}
	if err := s.startCeremony(ctx, passkeyCeremony{Purpose: ceremonyRegister, UserID: u.ID, Name: name, Data: *data}); err != nil {
		return err
	}
	return passkeyJSON(c, http.StatusOK, creation)
}

// passkeyRegisterFinish checks the new credential (the form field
// credential, which passkeys.js fills) and stores it.
func (s *Server) passkeyRegisterFinish(c echo.Context) error {
	ctx := c.Request().Context()
	back := s.url("/account/passkeys")
	fail := func(msg string) error {
		s.flash(c, "error", msg)
		return s.redirect(c, back)
	}
	u, err := s.currentAccount(ctx)
	if err != nil {
		return fail(msgNoCeremony.In(langOf(c)))
	}
	f, refused, err := s.finishCeremony(c, ceremonyRegister, u)
	if err != nil {
		return err
	}
	if refused != "" {
		return fail(refused)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		return fail(tr(c, "acct.passkey_unreadable", "Reason", ceremonyDetail(err)))
	}
	cred, err := f.rp.CreateCredential(f.acct, f.data, parsed)
	if err != nil {
		s.log.Info("passkey registration refused", "user", u.Name, "err", err, "request_id", requestID(c))
		return fail(tr(c, "acct.passkey_not_accepted", "Reason", ceremonyDetail(err)))
	}
	var transports []string
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	id, err := s.passkeys.Add(ctx, models.Passkey{
		UserID: u.ID, RPID: f.rp.Config.RPID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: int64(cred.Authenticator.SignCount), AAGUID: cred.Authenticator.AAGUID,
		Transports: strings.Join(transports, ","), Flags: int64(cred.Flags.ProtocolValue()),
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat, Name: f.name,
	})
	if errors.Is(err, repo.ErrDuplicate) {
		return fail(tr(c, "passkey.registered"))
	}
	if err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: u.Name,
		Detail: "passkey added: " + f.name + " (#" + strconv.FormatInt(id, 10) + ")"})
	s.flash(c, "success", tr(c, "passkey.added", "Name", f.name))
	return s.redirect(c, back)
}

// passkeyDelete removes one of the account's passkeys (a plain form).
func (s *Server) passkeyDelete(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "passkey.no_such"))
	}
	u, err := s.currentAccount(ctx)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "passkey.no_such"))
	}
	// The admin may require a second factor: the last one stays.
	f, err := s.secondFactorsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	required, err := s.factors.Required(ctx)
	if err != nil {
		return err
	}
	if required && !f.TOTP && f.Passkeys <= 1 {
		s.flash(c, "error", tr(c, "passkey.keep_one"))
		return s.redirect(c, s.url("/account/passkeys"))
	}
	name, err := s.passkeys.Delete(ctx, u.ID, id)
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "passkey.no_such_more"))
	}
	if err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: u.Name,
		Detail: "passkey removed: " + name + " (#" + strconv.FormatInt(id, 10) + ")"})
	s.flash(c, "success", tr(c, "passkey.removed", "Name", name))
	return s.redirect(c, s.url("/account/passkeys"))
}

// ceremonyDetail is what a user is told about a refused ceremony: the
// library's short reason (its own words), never its debug information.
func ceremonyDetail(err error) lang.Message {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return lang.Raw(pe.Details)
	}
	return lang.M("acct.passkey_mismatch")
}
