package textfmt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration writes d the way admins say it in a table or a message:
// "45 s", "10 min", "1 h 30 min", "2 d 4 h". Below a second it keeps Go's
// notation ("300ms"); negative durations mean permanent.
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		return "permanent"
	case d > 0 && d < time.Second:
		return d.String()
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	mins := int(d / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%d d", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%d h", hours))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%d min", mins))
	}
	if len(parts) == 0 {
		return "0 min"
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
