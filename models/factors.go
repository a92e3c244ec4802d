package models

import "github.com/uptrace/bun"

// UserTOTP is a user's authenticator app (table user_totp): the TOTP secret,
// whether the user confirmed it with a code, and the last time step a code
// was accepted for (each code works once).
type UserTOTP struct {
	bun.BaseModel `bun:"table:user_totp"`
	UserID        int64  `bun:"user_id,pk"`
	Secret        string `bun:"secret,notnull"` // base32; shown only while unconfirmed
	Confirmed     bool   `bun:"confirmed,notnull"`
	LastStep      int64  `bun:"last_step,notnull"`    // unix time / 30 of the last accepted code
	CreatedAt     int64  `bun:"created_at,notnull"`   // unix seconds
	ConfirmedAt   int64  `bun:"confirmed_at,notnull"` // unix seconds, 0 while unconfirmed
}

// RecoveryCode is one of a user's one-time recovery codes (table
// user_recovery_codes), stored as its SHA-256.
type RecoveryCode struct {
	bun.BaseModel `bun:"table:user_recovery_codes"`
	ID            int64  `bun:"id,pk,autoincrement"`
	UserID        int64  `bun:"user_id,notnull"`
	CodeHash      string `bun:"code_hash,notnull"` // hex SHA-256 of the normalised code
	UsedAt        int64  `bun:"used_at,notnull"`   // unix seconds, 0 while unused
	CreatedAt     int64  `bun:"created_at,notnull"`
}
