package models

import (
	"time"

	"bangui/lang"
)

// AllowRequest asks that one address never be banned: written to the
// fail2ban configuration and applied to the live jails (ignoreip).
type AllowRequest struct {
	Address string    // IP, CIDR range or DNS name, as fail2ban accepts in ignoreip
	Jails   []string  // the jails it holds in; empty: every jail ([DEFAULT])
	Note    string    // why, as the user wrote it (plain text)
	Expires time.Time // when the entry ends; zero: never
}

// TimedBanRequest asks that one address be banned for a chosen time rather
// than its jail's ban time.
type TimedBanRequest struct {
	Address  string
	Jail     string        // the jail the ban shows in
	Duration time.Duration // how long; 0: permanent
	Note     string
}

// AddressResult says what an action on many addresses did to one of them.
// Message is not yet in a language: the handler that shows it puts it in
// the request's (lang.Message.In); its Error is the English text.
type AddressResult struct {
	Address string
	OK      bool
	Message lang.Message // what happened, or why it did not
}
