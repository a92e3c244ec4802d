package models

// Origin tells where a ban came from.
type Origin string

// Ban origins. OriginAll is the empty filter.
const (
	OriginAll       Origin = ""
	OriginBlocklist Origin = "blocklist"
	OriginSelfblock Origin = "selfblock"
	OriginManual    Origin = "manual"
)

// BlocklistJail is the jail that receives bans from imported blocklists.
const BlocklistJail = "blocklist-import"
