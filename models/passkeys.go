package models

import "github.com/uptrace/bun"

// Passkey is one WebAuthn credential of an account (table passkeys): what
// the panel keeps to check the credential's signatures at login.
type Passkey struct {
	bun.BaseModel     `bun:"table:passkeys"`
	ID                int64  `bun:"id,pk,autoincrement"`
	UserID            int64  `bun:"user_id,notnull"`
	RPID              string `bun:"rp_id,notnull"`         // the relying party (host name) it was made for
	CredentialID      []byte `bun:"credential_id,notnull"` // chosen by the authenticator, unique
	PublicKey         []byte `bun:"public_key,notnull"`    // COSE key
	SignCount         int64  `bun:"sign_count,notnull"`
	AAGUID            []byte `bun:"aaguid,notnull"`     // the authenticator model
	Transports        string `bun:"transports,notnull"` // comma-separated: usb, nfc, ble, internal, hybrid
	Flags             int64  `bun:"flags,notnull"`      // authenticator-data flag byte of the last ceremony
	AttestationType   string `bun:"attestation_type,notnull"`
	AttestationFormat string `bun:"attestation_format,notnull"`
	CloneWarning      bool   `bun:"clone_warning,notnull"` // a sign count went backwards once
	Name              string `bun:"name,notnull"`          // chosen by the user
	CreatedAt         int64  `bun:"created_at,notnull"`    // unix seconds
	LastUsedAt        int64  `bun:"last_used_at,notnull"`  // unix seconds, 0 = never
}

// PasskeyUser is an account's WebAuthn user handle (table passkey_users):
// random bytes, the same for all its passkeys, that a discoverable
// credential returns at a usernameless login.
type PasskeyUser struct {
	bun.BaseModel `bun:"table:passkey_users"`
	UserID        int64  `bun:"user_id,pk"`
	Handle        []byte `bun:"handle,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"`
}
