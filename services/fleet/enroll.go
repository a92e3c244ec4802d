package fleet

import (
	"bangui/lang"
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"bangui/hosts"
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
		return in, fieldError("url", "The panel could not reach an agent at "+in.URL+": "+describeAgentError(err))
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
		verr.Add("fingerprint", lang.Raw("Compare the agent's certificate fingerprint first."))
	}
	if verr != nil {
		return models.HostInfo{}, verr
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	cred, err := hosts.Enroll(cctx, in.URL, in.Fingerprint, in.Token)
	cancel()
	switch {
	case errors.Is(err, hosts.ErrAgentRefused):
		return models.HostInfo{}, fieldError("token", "The agent refused this enrolment token: it is wrong, used already or expired. Take the token the agent printed last, or have the agent make a new one.")
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return models.HostInfo{}, fieldError("url", "The agent's certificate is no longer the one you compared. Start again and compare the new fingerprint.")
	case err != nil:
		return models.HostInfo{}, fieldError("url", "The panel could not enrol the agent at "+in.URL+": "+describeAgentError(err))
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
			return models.HostInfo{}, fieldError("id", "A host with the id "+in.ID+" exists already.")
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
			v.Add("fingerprint", lang.Raw("This is not a certificate fingerprint: compare the agent's again."))
		}
		in.Fingerprint = norm
	}
	if in.ID == "" {
		in.ID = Slug(in.Name)
	}
	switch {
	case in.ID == "":
		v.Add("id", lang.Raw("Give the host a name or an id."))
	case !idPattern.MatchString(in.ID):
		v.Add("id", lang.Raw("An id is 1 to 32 lower-case letters, digits and dashes, such as web-1."))
	case in.ID == models.LocalHost:
		v.Add("id", lang.Raw("The id local is the panel's own machine; choose another."))
	default:
		if _, err := s.store.Get(ctx, in.ID); err == nil {
			v.Add("id", lang.Raw("A host with the id "+in.ID+" exists already."))
		} else if !errors.Is(err, repo.ErrNotFound) {
			v.Add("id", lang.Raw("The panel could not check the id: "+err.Error()))
		}
	}
	var msg string
	if in.Name, msg = checkName(in.Name, in.ID); msg != "" {
		v.Add("name", lang.Raw(msg))
	}
	u, msg := checkURL(in.URL)
	if msg != "" {
		v.Add("url", lang.Raw(msg))
	} else {
		in.URL = u
		if other := s.enrolledAt(ctx, u); other != "" {
			v.Add("url", lang.Raw("The agent at this address is enrolled already, as the host "+other+". To enrol it again, remove that host first."))
		}
	}
	switch {
	case in.Token == "":
		v.Add("token", lang.Raw("Enter the enrolment token the agent printed when it started."))
	case len(in.Token) > maxTokenLen || strings.IndexFunc(in.Token, func(r rune) bool { return r < ' ' || r == utf8.RuneError || r > unicode.MaxASCII }) >= 0:
		v.Add("token", lang.Raw("This is not an enrolment token: copy the token the agent printed (letters, digits and dashes)."))
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
// string says what is wrong, "" when nothing is.
func checkName(name, id string) (string, string) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return id, ""
	case utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name):
		return name, "A name has at most 64 characters."
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return name, "A name cannot hold control characters."
	}
	return name, ""
}

// checkURL cleans an agent's address to https://host[:port]. The second
// string says what is wrong, "" when nothing is.
func checkURL(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "Enter the agent's address, such as https://web-1.example.org:9443."
	}
	if len(raw) > maxURLLen {
		return "", "This address is too long."
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", "This is not an address: write it as https://host:port."
	case u.Scheme != "https":
		return "", "The agent serves only HTTPS: the address must start with https://."
	case u.User != nil:
		return "", "The address cannot hold a user name or password; the panel authenticates with the enrolment token."
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return "", "Give only the agent's address, https://host:port, without a path."
	case u.Hostname() == "":
		return "", "The address names no host."
	}
	if p := u.Port(); p != "" && !isPort(p) {
		return "", "The port must be a number from 1 to 65535."
	}
	return "https://" + strings.ToLower(u.Host), ""
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
