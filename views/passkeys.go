package views

import "time"

// PasskeyOffer says whether the current page can use passkeys: Here when
// it is at the address passkeys are bound to; else At is that address, or
// Reason says why there is none.
type PasskeyOffer struct {
	Here   bool
	At     string
	Reason string
}

// PasskeyItem is one passkey in an account's list.
type PasskeyItem struct {
	ID       int64
	Name     string
	For      string // the host name it was made for
	Here     bool   // For is this panel's passkey host
	Synced   bool   // the authenticator backs it up (a synced passkey)
	Created  time.Time
	LastUsed time.Time // zero: never
}

// PasskeysSection is the Passkeys part of the account page.
type PasskeysSection struct {
	Keys        []PasskeyItem
	Offer       PasskeyOffer
	Unavailable string // why this session cannot manage passkeys; "" normally
}
