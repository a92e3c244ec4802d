package fleet

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// Limits of the enrolment form.
const (
	MaxIDLen    = 32
	MaxNameLen  = 64
	maxURLLen   = 2048
	maxTokenLen = 512
)

// idPattern is a host id: lower-case letters, digits and dashes.
var idPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// EnrollInput is the add-host form. ID may be empty: it is then made from
// the name. Fingerprint is the one Probe returned and the admin compared.
type EnrollInput struct {
	ID, Name, URL, Token, Fingerprint string
}

// Probe checks the form and connects to the agent at its URL, returning the
// input as it will be stored (id made, URL cleaned) and the fingerprint of
// the agent's certificate, for the admin to compare with the one the agent
// printed. It trusts nothing yet and sends no token.
func (s *Service) Probe(ctx context.Context, in EnrollInput) (EnrollInput, error) {
	in, verr := s.check(ctx, in)
	if verr != nil {
		return in, verr
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	fp, err := hosts.FetchFingerprint(cctx, in.URL)
	if err != nil {
		return in, services.Invalid("url", lang.M("fleet.enroll.unreachable", "URL", in.URL, "Cause", describeAgentError(err)))
	}
	in.Fingerprint = fp
	return in, nil
}

// Enroll trades the enrolment token for the agent's credential, talking
// only to the agent whose certificate has the fingerprint the admin
// compared, stores the host and starts asking it.
func (s *Service) Enroll(ctx context.Context, in EnrollInput) (models.HostInfo, error) {
	in, verr := s.check(ctx, in)
	if in.Fingerprint == "" {
		if verr == nil {
			verr = &services.ValidationError{}
		}
		verr.Add("fingerprint", lang.M("fleet.enroll.compare_first"))
	}
	if verr != nil {
		return models.HostInfo{}, verr
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	cred, err := hosts.Enroll(cctx, in.URL, in.Fingerprint, in.Token)
	cancel()
	switch {
	case errors.Is(err, hosts.ErrAgentRefused):
		return models.HostInfo{}, services.Invalid("token", lang.M("fleet.enroll.token_refused"))
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return models.HostInfo{}, services.Invalid("url", lang.M("fleet.enroll.cert_changed"))
	case err != nil:
		return models.HostInfo{}, services.Invalid("url", lang.M("fleet.enroll.failed", "URL", in.URL, "Cause", describeAgentError(err)))
	}
	h := models.RemoteHost{ID: in.ID, Name: in.Name, URL: in.URL, Fingerprint: in.Fingerprint, Credential: cred, Enabled: true}
	s.mu.Lock()
	err = s.store.Create(ctx, h)
	if err == nil {
		s.register(h)
	}
	s.mu.Unlock()
	if err != nil {
		// The agent holds a credential nobody has: have it forget it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		if rerr := hosts.Revoke(rctx, remoteOptions(h)); rerr != nil {
			s.log.Warn("revoke the credential of a host not stored", "host", h.ID, "err", rerr)
		}
		cancel()
		if errors.Is(err, repo.ErrDuplicate) {
			return models.HostInfo{}, services.Invalid("id", lang.M("fleet.enroll.id_taken", "ID", in.ID))
		}
		return models.HostInfo{}, err
	}
	s.status.RefreshHost(ctx, h.ID)
	return s.Get(ctx, h.ID)
}

// check cleans the form and says what is wrong with it: the id (made from
// the name when empty) must be a free slug, the URL an https address of an
// agent not enrolled yet, the token present.
func (s *Service) check(ctx context.Context, in EnrollInput) (EnrollInput, *services.ValidationError) {
	v := &services.ValidationError{}
	in.ID = strings.TrimSpace(in.ID)
	in.Name = strings.TrimSpace(in.Name)
	in.Token = strings.Join(strings.Fields(in.Token), "") // copied in groups, or across lines
	if fp := strings.TrimSpace(in.Fingerprint); fp != "" {
		// Stored as the agent prints it, whatever form it came in.
		norm, err := hosts.NormalizeFingerprint(fp)
		if err != nil {
			v.Add("fingerprint", lang.M("fleet.enroll.not_fingerprint"))
		}
		in.Fingerprint = norm
	}
	if in.ID == "" {
		in.ID = Slug(in.Name)
	}
	switch {
	case in.ID == "":
		v.Add("id", lang.M("fleet.enroll.id_missing"))
	case !idPattern.MatchString(in.ID):
		v.Add("id", lang.M("fleet.enroll.id_invalid", "Max", MaxIDLen))
	case in.ID == models.LocalHost:
		v.Add("id", lang.M("fleet.enroll.id_local", "ID", models.LocalHost))
	default:
		if _, err := s.store.Get(ctx, in.ID); err == nil {
			v.Add("id", lang.M("fleet.enroll.id_taken", "ID", in.ID))
		} else if !errors.Is(err, repo.ErrNotFound) {
			v.Add("id", lang.M("fleet.enroll.id_unchecked", "Cause", err))
		}
	}
	var msg lang.Message
	if in.Name, msg = checkName(in.Name, in.ID); !msg.IsZero() {
		v.Add("name", msg)
	}
	u, msg := checkURL(in.URL)
	if !msg.IsZero() {
		v.Add("url", msg)
	} else {
		in.URL = u
		if other := s.enrolledAt(ctx, u); other != "" {
			v.Add("url", lang.M("fleet.enroll.url_enrolled", "ID", other))
		}
	}
	switch {
	case in.Token == "":
		v.Add("token", lang.M("fleet.enroll.token_missing"))
	case len(in.Token) > maxTokenLen || strings.IndexFunc(in.Token, func(r rune) bool { return r < ' ' || r == utf8.RuneError || r > unicode.MaxASCII }) >= 0:
		v.Add("token", lang.M("fleet.enroll.token_invalid"))
	}
	if v.Empty() {
		return in, nil
	}
	return in, v
}

// enrolledAt returns the id of a stored host with this URL, or "".
func (s *Service) enrolledAt(ctx context.Context, u string) string {
	list, err := s.store.List(ctx)
	if err != nil {
		return ""
	}
	for _, h := range list {
		if h.URL == u {
			return h.ID
		}
	}
	return ""
}

// checkName cleans a display name; an empty one becomes the id. The
// message says what is wrong, zero when nothing is.
func checkName(name, id string) (string, lang.Message) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return id, lang.Message{}
	case utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name):
		return name, lang.M("fleet.name.too_long", "Max", MaxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return name, lang.M("fleet.name.control")
	}
	return name, lang.Message{}
}

// checkURL cleans an agent's address to https://host[:port]. The message
// says what is wrong, zero when nothing is.
func checkURL(raw string) (string, lang.Message) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", lang.M("fleet.url.missing")
	}
	if len(raw) > maxURLLen {
		return "", lang.M("fleet.url.too_long")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", lang.M("fleet.url.invalid")
	case u.Scheme != "https":
		return "", lang.M("fleet.url.not_https")
	case u.User != nil:
		return "", lang.M("fleet.url.user")
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return "", lang.M("fleet.url.path")
	case u.Hostname() == "":
		return "", lang.M("fleet.url.no_host")
	}
	if p := u.Port(); p != "" && !isPort(p) {
		return "", lang.M("fleet.url.port")
	}
	return "https://" + strings.ToLower(u.Host), lang.Message{}
}

func isPort(p string) bool {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return false
		}
	}
	return n >= 1
}

// Slug makes a host id from a name: lower-case ASCII letters and digits,
// other runs of characters as one dash, at most MaxIDLen long.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= MaxIDLen {
			break
		}
	}
	return strings.Trim(b.String()[:min(b.Len(), MaxIDLen)], "-")
}
