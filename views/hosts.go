package views

import (
	"context"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// HostsPage is /hosts: every host with its state, and the add-host form.
type HostsPage struct {
	Hosts []models.HostInfo // the local host first
	Add   HostForm
	Error string // the list could not be read
}

// HostForm is the add-host form, shown again with its errors.
type HostForm struct {
	Name, ID, URL, Token string
	Errors               map[string][]string
}

// HostConfirmPage is the second step of adding a host: the agent's
// certificate fingerprint to compare before enrolling.
type HostConfirmPage struct {
	Form        HostForm // as cleaned by the first step
	Fingerprint string
}

// hostPagePath is the Hosts page's address of one host.
func hostPagePath(id string) string { return "/hosts/" + id }

// remoteHosts counts the hosts that are not the local one.
func remoteHosts(hs []models.HostInfo) int {
	n := 0
	for _, h := range hs {
		if !h.Local {
			n++
		}
	}
	return n
}

// changedCertificates are the hosts whose agent presents a new certificate.
func changedCertificates(hs []models.HostInfo) []models.HostInfo {
	var out []models.HostInfo
	for _, h := range hs {
		if _, ok := h.FingerprintChanged(); ok && h.Enabled && !h.Local {
			out = append(out, h)
		}
	}
	return out
}

// hostState is a host's state badge: its text and modifier.
func hostState(ctx context.Context, h models.HostInfo) (string, string) {
	switch {
	case !h.Enabled:
		return lang.T(ctx, "hosts.state.disabled"), "muted"
	case !h.Problem.IsZero():
		return lang.T(ctx, "hosts.state.not_set_up"), "bad"
	case h.Status.NewFingerprint != "":
		return lang.T(ctx, "hosts.state.cert"), "warn"
	case h.Status.Online:
		return lang.T(ctx, "status.online"), "ok"
	case h.Status.CheckedAt.IsZero():
		return lang.T(ctx, "hosts.state.unchecked"), "muted"
	}
	return lang.T(ctx, "status.offline"), "bad"
}

// hostProblem is why the last call to a host failed, "" when it did not.
func hostProblem(ctx context.Context, h models.HostInfo) string {
	switch {
	case !h.Enabled:
		return lang.T(ctx, "hosts.disabled_note")
	case !h.Problem.IsZero():
		return lang.Text(ctx, h.Problem)
	case h.Status.Online || h.Status.CheckedAt.IsZero():
		return ""
	}
	return lang.Text(ctx, h.Status.Error)
}

// fingerprintHalves splits a long fingerprint after its middle colon, as
// the agent prints it whole; rest is "" for a short one.
func fingerprintHalves(fp string) (first, rest string) {
	parts := strings.Split(fp, ":")
	if len(parts) < 8 {
		return fp, ""
	}
	h := len(parts) / 2
	return strings.Join(parts[:h], ":") + ":", strings.Join(parts[h:], ":")
}
