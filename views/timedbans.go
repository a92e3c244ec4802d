package views

import (
	"time"

	"bangui/models"
)

// Values of a ban form's "duration" besides the fixed lengths; "" keeps
// the jail's own ban time.
const (
	BanForPermanent = "permanent"
	BanForCustom    = "custom" // the time typed in the "custom" field
)

// banDurations are the fixed lengths the ban forms offer.
var banDurations = []struct {
	value, label string
	d            time.Duration
}{
	{"1h", "1 hour", time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
}

// BanDurationOf is the length of a fixed choice of a ban form, 0 for
// BanForPermanent; ok is false for any other value.
func BanDurationOf(value string) (d time.Duration, ok bool) {
	if value == BanForPermanent {
		return 0, true
	}
	for _, c := range banDurations {
		if c.value == value {
			return c.d, true
		}
	}
	return 0, false
}

// banDurationOptions are the choices after the jail's own ban time.
func banDurationOptions() []Option {
	out := make([]Option, 0, len(banDurations)+2)
	for _, c := range banDurations {
		out = append(out, Option{Value: c.value, Label: c.label})
	}
	return append(out, Option{Value: BanForPermanent, Label: "Permanent"}, Option{Value: BanForCustom, Label: "Custom time (below)"})
}

// jailBanTimeLabel is the first choice: the jail's ban time, named when
// the form knows it (on a jail's page).
func jailBanTimeLabel(known string) string {
	if known == "" {
		return "The jail's ban time"
	}
	return "The jail's ban time (" + known + ")"
}

// banHow says how a ban's end was set: by the jail's ban time or chosen,
// and by whom.
func banHow(b models.ActiveBan) string {
	switch {
	case !b.Chosen:
		return "jail's ban time"
	case b.ChosenBy == "":
		return "time chosen in BanGUI"
	}
	return "time chosen by " + b.ChosenBy
}
