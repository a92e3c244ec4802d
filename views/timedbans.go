package views

import (
	"context"
	"time"

	"bangui/lang"
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
	value string
	d     time.Duration
}{
	{"1h", time.Hour},
	{"24h", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
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
func banDurationOptions(ctx context.Context) []Option {
	label := map[string]string{"1h": lang.T(ctx, "timed.d_1h"), "24h": lang.T(ctx, "timed.d_24h"),
		"7d": lang.T(ctx, "timed.d_7d"), "30d": lang.T(ctx, "timed.d_30d")}
	out := make([]Option, 0, len(banDurations)+2)
	for _, c := range banDurations {
		out = append(out, Option{Value: c.value, Label: label[c.value]})
	}
	return append(out, Option{Value: BanForPermanent, Label: lang.T(ctx, "timed.permanent")},
		Option{Value: BanForCustom, Label: lang.T(ctx, "timed.custom_below")})
}

// jailBanTimeLabel is the first choice: the jail's ban time, named when
// the form knows it (on a jail's page).
func jailBanTimeLabel(ctx context.Context, known string) string {
	if known == "" {
		return lang.T(ctx, "timed.jail_time")
	}
	return lang.T(ctx, "timed.jail_time_known", "Time", known)
}

// banHow says how a ban's end was set: by the jail's ban time or chosen,
// and by whom.
func banHow(ctx context.Context, b models.ActiveBan) string {
	switch {
	case !b.Chosen:
		return lang.T(ctx, "timed.how_jail")
	case b.ChosenBy == "":
		return lang.T(ctx, "timed.how_chosen")
	}
	return lang.T(ctx, "timed.how_chosen_by", "Name", b.ChosenBy)
}
