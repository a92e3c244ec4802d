package textfmt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Units are the words of a compact duration in one language.
type Units struct {
	Permanent, Seconds, Minutes, Hours, Days string // "permanent", "s", "min", "h", "d"
}

// English are the units of Duration.
var English = Units{Permanent: "permanent", Seconds: "s", Minutes: "min", Hours: "h", Days: "d"}

// Duration writes d the way admins say it in a table or a message:
// "45 s", "10 min", "1 h 30 min", "2 d 4 h". Below a second it keeps Go's
// notation ("300ms"); negative durations mean permanent.
func Duration(d time.Duration) string { return DurationIn(d, English) }

// DurationIn is Duration with the units of a language.
func DurationIn(d time.Duration, u Units) string {
	switch {
	case d < 0:
		return u.Permanent
	case d > 0 && d < time.Second:
		return d.String()
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " " + u.Seconds
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	mins := int(d / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", days, u.Days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", hours, u.Hours))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%d %s", mins, u.Minutes))
	}
	if len(parts) == 0 {
		return "0 " + u.Minutes
	}
	return strings.Join(parts, " ")
}

// DurationInWords writes a long span in whole days or hours, as a sentence
// says it: "7 days", "1 day", "5 hours", "1 hour" (never less).
func DurationInWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 24*time.Hour:
		return "1 day"
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	default:
		return "1 hour"
	}
}
