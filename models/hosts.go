package models

import (
	"github.com/uptrace/bun"

	"bangui/lang"
)

// RemoteHost is one enrolled agent (`bangui agent`) in the hosts table.
// Credential is what the panel presents to the agent; it is kept only in
// the panel's database and never shown again after enrolment, so views get
// a HostInfo instead.
type RemoteHost struct {
	bun.BaseModel `bun:"table:hosts"`
	ID            string `bun:"id,pk"`               // slug, [a-z0-9-]{1,32}, never "local"
	Name          string `bun:"name,notnull"`        // display name
	URL           string `bun:"url,notnull"`         // the agent's base URL, https://host:port
	Fingerprint   string `bun:"fingerprint,notnull"` // pinned SHA-256 of the agent's certificate
	Credential    string `bun:"credential,notnull"`  // the long-lived credential from enrolment
	Enabled       bool   `bun:"enabled,notnull"`     // disabled hosts stay stored but are not asked
	CreatedAt     int64  `bun:"created_at,notnull"`  // unix seconds
	UpdatedAt     int64  `bun:"updated_at,notnull"`  // unix seconds
}

// HostInfo is one row of the Hosts page: a host as the admin sees it,
// without its credential.
type HostInfo struct {
	ID          string
	Name        string
	URL         string // "" for the local host
	Fingerprint string // pinned fingerprint; "" for the local host
	Local       bool
	Enabled     bool
	// Problem says why the panel could not set the host up at start (it
	// is then not asked); zero when it could.
	Problem lang.Message
	// Status is the status probe's last word on the host (zero when the
	// host is disabled or has a Problem).
	Status ServerStatus
}

// FingerprintChanged reports whether the agent now presents another
// certificate than the pinned one, and which.
func (h HostInfo) FingerprintChanged() (string, bool) {
	return h.Status.NewFingerprint, h.Status.NewFingerprint != ""
}
