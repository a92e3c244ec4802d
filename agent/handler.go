package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"bangui/hosts"
	"bangui/hosts/wire"
)

// Handler is the agent's API: enrolment, revocation, info and the calls
// of the host, and nothing else.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+wire.PathEnroll, a.enroll)
	mux.Handle("POST "+wire.PathRevoke, a.auth(http.HandlerFunc(a.revoke)))
	mux.Handle("GET "+wire.PathInfo, a.auth(http.HandlerFunc(a.info)))
	mux.Handle("POST "+wire.PathCall+"{method}", a.auth(http.HandlerFunc(a.call)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.Error{Code: wire.CodeUnknownMethod, Message: "the agent has nothing at " + r.Method + " " + r.URL.Path})
	})
	return secureHeaders(mux)
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// Messages of refused requests.
const (
	msgNotEnrolled = "this agent is not enrolled: add it on the panel's Hosts page with the one-time token from the agent's log; until then it answers nothing else"
	msgNoCred      = "the request carries no credential (Authorization: Bearer …)"
	msgBadCred     = "the credential is wrong or was revoked"
	msgRateLimited = "too many failed attempts from this address; wait a minute"
)

// auth lets through requests with the enrolled panel's credential.
func (a *Agent) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if !a.limiter.allow(ip) {
			writeError(w, http.StatusTooManyRequests, wire.Error{Code: wire.CodeRateLimited, Message: msgRateLimited})
			return
		}
		cred, hasCred := bearer(r)
		enrolled, ok := a.authorized(cred)
		switch {
		case !enrolled:
			writeError(w, http.StatusForbidden, wire.Error{Code: wire.CodeNotEnrolled, Message: msgNotEnrolled})
		case !hasCred:
			a.limiter.fail(ip)
			writeError(w, http.StatusUnauthorized, wire.Error{Code: wire.CodeUnauthorized, Message: msgNoCred})
		case !ok:
			a.limiter.fail(ip)
			a.log.Warn("refused a request with a wrong credential", "remote", ip, "path", r.URL.Path)
			writeError(w, http.StatusUnauthorized, wire.Error{Code: wire.CodeUnauthorized, Message: msgBadCred})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return "", false
	}
	return strings.TrimSpace(cred), true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// enroll exchanges the one-time token for a new credential.
func (a *Agent) enroll(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if !a.limiter.allow(ip) {
		writeError(w, http.StatusTooManyRequests, wire.Error{Code: wire.CodeRateLimited, Message: msgRateLimited})
		return
	}
	var req wire.EnrollRequest
	if werr := decodeBody(w, r, &req); werr != nil {
		a.limiter.fail(ip)
		writeError(w, statusOf(werr.Code), *werr)
		return
	}
	refuse := func(msg string) {
		a.limiter.fail(ip)
		a.log.Warn("refused an enrolment", "remote", ip, "reason", msg)
		writeError(w, http.StatusUnauthorized, wire.Error{Code: wire.CodeBadToken, Message: msg})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.credHash != nil:
		refuse("this agent is enrolled already; its token was used. To enrol a panel again, remove the host from the panel (or run the agent with --new-token)")
		return
	case a.token == nil:
		refuse("this agent has no enrolment token; restart it (or run it with --new-token) to get one")
		return
	case !a.token.matches(req.Token):
		refuse("the enrolment token is wrong")
		return
	case !a.opts.Now().Before(a.token.Expires):
		refuse("the enrolment token expired at " + a.token.Expires.Format(time.RFC3339) + "; restart the agent (or run it with --new-token) for a new one")
		return
	}
	cred, hash, err := newCredential()
	if err == nil {
		err = writeSecret(a.path(CredentialFile), []byte(hexString(hash)+"\n"))
	}
	if err == nil {
		err = removeFile(a.path(TokenFile))
	}
	if err != nil {
		a.log.Error("enrolment failed", "err", err)
		writeError(w, http.StatusInternalServerError, wire.Error{Code: wire.CodeError, Message: "the agent could not store the credential: " + err.Error()})
		return
	}
	a.credHash, a.token = hash, nil
	a.log.Info("a panel enrolled; the token no longer works", "remote", ip)
	writeJSON(w, wire.EnrollResponse{Credential: cred, Version: a.opts.Version})
}

// revoke forgets the credential: the agent refuses everything until it is
// restarted (or run with --new-token) and enrolled again.
func (a *Agent) revoke(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	err := removeFile(a.path(CredentialFile))
	if err == nil {
		a.credHash = nil
	}
	a.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.Error{Code: wire.CodeError, Message: err.Error()})
		return
	}
	a.held.releaseAll()
	a.log.Warn("the panel revoked its credential; restart the agent for a new enrolment token", "remote", clientIP(r))
	writeJSON(w, struct{}{})
}

func (a *Agent) info(w http.ResponseWriter, r *http.Request) {
	l := a.opts.Host
	writeJSON(w, wire.Info{Version: a.opts.Version, ConfigDir: l.ConfigDir(), LogDirs: l.LogDirs()})
}

// call runs one method of the host.
func (a *Agent) call(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	m, ok := methods[name]
	if !ok {
		writeError(w, http.StatusNotFound, wire.Error{Code: wire.CodeUnknownMethod, Message: "the agent knows no call " + quote(name)})
		return
	}
	body, werr := readBody(w, r)
	if werr != nil {
		writeError(w, statusOf(werr.Code), *werr)
		return
	}
	a.log.Debug("call", "method", name, "remote", clientIP(r))
	res, err := m(r.Context(), a, body)
	if err != nil {
		var bad *badRequest
		if errors.As(err, &bad) {
			writeError(w, http.StatusBadRequest, wire.Error{Code: wire.CodeBadRequest, Message: bad.msg})
			return
		}
		var held *heldError
		if errors.As(err, &held) {
			writeError(w, http.StatusConflict, wire.Error{Code: wire.CodeLockExpired, Message: held.msg})
			return
		}
		we := hosts.EncodeError(err)
		status := http.StatusUnprocessableEntity
		if we.Code == wire.CodeError {
			status = http.StatusInternalServerError
			a.log.Error("call failed", "method", name, "err", err)
		}
		writeError(w, status, we)
		return
	}
	writeJSON(w, wire.Result[any]{Result: res})
}

// readBody reads at most wire.MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *wire.Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &wire.Error{Code: wire.CodeTooLarge, Message: "the request is larger than the agent accepts (1 MB)"}
		}
		return nil, &wire.Error{Code: wire.CodeBadRequest, Message: "the request body could not be read"}
	}
	return b, nil
}

// decodeBody reads and decodes a JSON body strictly into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *wire.Error {
	b, werr := readBody(w, r)
	if werr != nil {
		return werr
	}
	if err := decodeStrict(b, v); err != nil {
		return &wire.Error{Code: wire.CodeBadRequest, Message: err.Error()}
	}
	return nil
}

// decodeStrict decodes exactly one JSON value without unknown fields; an
// empty body is the zero value.
func decodeStrict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badRequest{msg: "the request is not valid JSON for this call: " + clip(err.Error(), 200)}
	}
	if dec.More() {
		return &badRequest{msg: "the request holds more than one JSON value"}
	}
	return nil
}

func statusOf(code string) int {
	switch code {
	case wire.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case wire.CodeBadRequest:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, e wire.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.Failure{Error: e})
}
