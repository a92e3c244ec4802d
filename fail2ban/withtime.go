package fail2ban

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// banTimeLayout is how fail2ban prints times in "banip --with-time" lines.
const banTimeLayout = "2006-01-02 15:04:05"

// ParseBanEntry parses one line of "get <jail> banip --with-time":
//
//	203.0.113.7 \t2026-11-28 10:51:44 + 600 = 2026-11-28 11:01:44
//
// that is the address, its ban start, the ban time in seconds and the ban
// end. fail2ban writes the times in its own local time without a zone; they
// are read in loc (time.Local when nil). Any run of spaces and tabs
// separates the parts. A negative ban time, or fail2ban's end-of-time marker
// 9999-12-31 23:59:59, makes a permanent entry with a zero End.
//
// The address is taken as fail2ban lists it and is not validated: fail2ban
// also lists whatever else it was told to ban.
func ParseBanEntry(line string, loc *time.Location) (BanEntry, error) {
	if loc == nil {
		loc = time.Local
	}
	bad := func(format string, args ...any) (BanEntry, error) {
		return BanEntry{}, &ProtocolError{Message: fmt.Sprintf("ban entry %q: %s", clip(line, 200), fmt.Sprintf(format, args...))}
	}
	// From the right: start date, start time, "+", seconds, "=", end date,
	// end time. Everything before is the address.
	f := strings.Fields(line)
	if len(f) < 8 {
		return bad("want \"IP START + SECONDS = END\"")
	}
	n := len(f)
	ip := strings.Join(f[:n-7], " ")
	startText, plus, secText, eq, endText := f[n-7]+" "+f[n-6], f[n-5], f[n-4], f[n-3], f[n-2]+" "+f[n-1]
	if plus != "+" || eq != "=" {
		return bad("want \"IP START + SECONDS = END\"")
	}
	start, err := parseBanTime(startText, loc)
	if err != nil {
		return bad("start time: %v", err)
	}
	secs, err := strconv.ParseInt(secText, 10, 64)
	if err != nil {
		return bad("ban time %q is not a whole number", secText)
	}
	e := BanEntry{IP: ip, Start: start}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	switch {
	case secs > maxSeconds:
		e.BanTime = time.Duration(math.MaxInt64)
	case secs < -maxSeconds:
		e.BanTime = time.Duration(math.MinInt64)
	default:
		e.BanTime = time.Duration(secs) * time.Second
	}
	if secs < 0 || endText == "9999-12-31 23:59:59" {
		// fail2ban prints this end for permanent bans and for ends beyond
		// year 9999; both never expire in practice.
		if _, err := parseBanTime(endText, loc); err != nil {
			return bad("end time: %v", err)
		}
		e.Permanent = true
		return e, nil
	}
	if e.End, err = parseBanTime(endText, loc); err != nil {
		return bad("end time: %v", err)
	}
	return e, nil
}

// parseBanTime reads a time as fail2ban prints it, in whole seconds. Go's
// parser would also take a fraction after the seconds (",1"), which
// fail2ban never prints: such text is refused, not half-read.
func parseBanTime(text string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(banTimeLayout, text, loc)
	if err == nil && t.Nanosecond() != 0 {
		err = fmt.Errorf("%q has a fraction of a second", text)
	}
	return t, err
}
