package models

import (
	"time"

	"github.com/uptrace/bun"
)

// TimedBan is a ban whose end a user chose instead of the jail's ban time
// (see services.TimedBans): one address in one jail of one host. The panel
// keeps fail2ban's ban alive until EndsAt and lifts it then.
type TimedBan struct {
	bun.BaseModel `bun:"table:timed_bans,alias:timed_bans"`
	Host          string `bun:"host,pk"`
	Jail          string `bun:"jail,pk"`
	IP            string `bun:"ip,pk"`
	EndsAt        int64  `bun:"ends_at,notnull"` // unix seconds; 0: permanent
	Seconds       int64  `bun:"seconds,notnull"` // the chosen length; 0: permanent
	SetBy         string `bun:"set_by,notnull"`  // who chose it; empty when not known
	Note          string `bun:"note,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"` // unix seconds
}

// Permanent reports whether the ban never ends by itself.
func (b TimedBan) Permanent() bool { return b.EndsAt == 0 }

// End is when the ban ends; zero when permanent.
func (b TimedBan) End() time.Time {
	if b.Permanent() {
		return time.Time{}
	}
	return time.Unix(b.EndsAt, 0)
}
