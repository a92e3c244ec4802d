package fail2ban

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"bangui/lang"
)

// Field names used in ValidationError.Field.
const (
	FieldIP    = "ip"    // an address or range
	FieldJail  = "jail"  // a jail name
	FieldValue = "value" // a setting's value
	FieldPath  = "path"  // a file path
)

// ValidationError reports input that was refused before anything was sent
// to fail2ban. Message is meant for the user as is.
type ValidationError struct {
	Field   string // which input was wrong, one of the Field* constants
	Message lang.Message
}

// Error returns the user-facing message in English; handlers show
// Message in the request's language.
func (e *ValidationError) Error() string { return e.Message.Error() }

// As lets lang.Of find the message.
func (e *ValidationError) As(target any) bool { return lang.As(target, e.Message) }

// invalid refuses the input of field with the message id and its fields.
func invalid(field, id string, kv ...any) *ValidationError {
	return &ValidationError{Field: field, Message: lang.M(id, kv...)}
}

// quoteInput quotes user input for an error message, shortened so a huge
// paste does not end up in the page.
func quoteInput(s string) string { return strconv.Quote(clip(s, 80)) }

// ParseTarget parses one IPv4 or IPv6 address or CIDR range, ignoring
// surrounding spaces. A single address becomes a /32 or /128 prefix; a range
// is reduced to its network address (192.0.2.7/24 → 192.0.2.0/24). Zones
// (fe80::1%eth0) and other forms netip does not accept, such as leading
// zeros, are refused. An IPv4-mapped IPv6 address becomes the IPv4 address,
// as fail2ban does itself. A range of every address (/0) is refused.
// Errors are *ValidationError.
func ParseTarget(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return netip.Prefix{}, invalid(FieldIP, "f2b.enter_target")
	}
	bad := func() (netip.Prefix, error) {
		return netip.Prefix{}, invalid(FieldIP, "f2b.not_target", "Input", quoteInput(t))
	}
	if strings.Contains(t, "%") {
		return netip.Prefix{}, invalid(FieldIP, "f2b.target_zone", "Input", quoteInput(t))
	}
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return bad()
		}
		if p.Bits() == 0 {
			// fail2ban would take 0.0.0.0/0 for the address 0.0.0.0, and
			// a range of every address is never what anyone means.
			return netip.Prefix{}, invalid(FieldIP, "f2b.target_everything", "Input", quoteInput(t))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return bad()
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// targetString is the canonical text of a parsed target: the bare address
// for single hosts, the CIDR notation for ranges.
func targetString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// NormalizeTargets validates a list of addresses and ranges and returns them
// in canonical form ("192.0.2.1", "2001:db8::1", "192.0.2.0/24"; a full-length
// prefix such as 192.0.2.1/32 becomes the bare address), without duplicates
// and in input order. Blank entries are skipped; if nothing is left, or an
// entry is invalid, the *ValidationError names the first offending input.
func NormalizeTargets(inputs []string) ([]string, error) {
	out := make([]string, 0, len(inputs))
	seen := make(map[netip.Prefix]bool, len(inputs))
	for _, in := range inputs {
		if strings.TrimSpace(in) == "" {
			continue
		}
		p, err := ParseTarget(in)
		if err != nil {
			return nil, err
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, targetString(p))
	}
	if len(out) == 0 {
		return nil, invalid(FieldIP, "f2b.enter_targets")
	}
	return out, nil
}

// MaxJailNameLen is the longest jail name ValidJailName accepts.
const MaxJailNameLen = 64

// reservedJailName reports names that fail2ban's "get"/"set" commands read
// as server options instead of jails: "set dbfile idle on" would move the
// database to a file called "idle".
func reservedJailName(name string) bool {
	switch strings.ToLower(name) {
	case "loglevel", "logtarget", "syslogsocket", "allowipv6", "thread",
		"dbfile", "dbpurgeage", "dbmaxmatches":
		return true
	}
	return false
}

// itemNameRE is the name of a filter or action (a file name without .conf).
var itemNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+\-]{0,63}$`)

// ValidItemName reports whether name is one BanGUI reads and writes as a
// filter or action: filter.d/<name>.conf, action.d/<name>.conf.
func ValidItemName(name string) bool {
	return itemNameRE.MatchString(name) && !strings.Contains(name, "..") &&
		!strings.HasSuffix(name, ".conf") && !strings.HasSuffix(name, ".local")
}

// ValidJailName checks the syntax of a jail name: 1 to 64 characters out of
// letters, digits and . _ @ + -, not starting with - or . (which would turn
// it into an option such as --all). Names of server options (loglevel,
// dbfile, ...) are refused too, because fail2ban would apply jail commands
// to the server setting instead. Errors are *ValidationError.
func ValidJailName(name string) error {
	if name == "" {
		return invalid(FieldJail, "f2b.enter_jail")
	}
	bad := func() error {
		return invalid(FieldJail, "f2b.bad_jail_name", "Input", quoteInput(name), "Max", MaxJailNameLen)
	}
	if len(name) > MaxJailNameLen || name[0] == '-' || name[0] == '.' {
		return bad()
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '@', c == '+', c == '-':
		default:
			return bad()
		}
	}
	if reservedJailName(name) {
		return invalid(FieldJail, "f2b.reserved_jail_name", "Name", strconv.Quote(name))
	}
	return nil
}

// maxJailArgLen bounds a jail name sent to fail2ban; configuration section
// names are never near it.
const maxJailArgLen = 1024

// checkJailArg checks a jail name that goes to fail2ban as a command
// argument. ValidJailName is for names BanGUI creates; fail2ban runs jails
// named by any configuration section ("my jail", "<x>"), and those must stay
// reachable. So only what would change a command's meaning is refused: an
// empty name, a leading - (an option to fail2ban-client), control
// characters, server setting names and absurd lengths. Errors are
// *ValidationError.
func checkJailArg(name string) error {
	if name == "" {
		return invalid(FieldJail, "f2b.enter_jail")
	}
	if len(name) > maxJailArgLen || name[0] == '-' || strings.ContainsFunc(name, unicode.IsControl) || !utf8.ValidString(name) {
		return invalid(FieldJail, "f2b.impossible_jail_name", "Input", quoteInput(name))
	}
	if reservedJailName(name) {
		return invalid(FieldJail, "f2b.reserved_jail_name", "Name", strconv.Quote(name))
	}
	return nil
}

// RequireJail checks the name with checkJailArg and then that fail2ban
// runs a jail of that name. A valid name that is not running yields an error
// matching ErrUnknownJail.
func (c *Client) RequireJail(ctx context.Context, name string) error {
	if err := checkJailArg(name); err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(st.Jails, name) {
		return fmt.Errorf("%w: %q is not running", ErrUnknownJail, name)
	}
	return nil
}

// Time units fail2ban understands in time values ("10m", "1h 30m", "2w"),
// in seconds. A month is a twelfth and a year 365.25 days, as in fail2ban.
const (
	secondsPerMonth = (365*3 + 366) * 24 * 60 * 60 / 4 / 12
	secondsPerYear  = (365*3 + 366) * 24 * 60 * 60 / 4
)

func unitSeconds(unit string) (int64, bool) {
	switch strings.ToLower(unit) {
	case "", "s", "ss", "se", "sec", "second", "seconds":
		return 1, true
	case "m", "mm", "mi", "min", "minute", "minutes":
		return 60, true
	case "h", "hh", "ho", "hou", "hour", "hours":
		return 60 * 60, true
	case "d", "dd", "da", "day", "days":
		return 24 * 60 * 60, true
	case "w", "ww", "we", "wee", "week", "weeks":
		return 7 * 24 * 60 * 60, true
	case "mo", "mon", "month", "months":
		return secondsPerMonth, true
	case "y", "yy", "ye", "yea", "year", "years":
		return secondsPerYear, true
	}
	return 0, false
}

// ParseTimeSpec parses a time value in fail2ban's notation: a number of
// seconds ("3600"), or numbers with units, optionally separated by spaces
// ("10m", "1h30m", "2 days"). Units are s, m, h, d, w, mo and y and their
// long forms. "-1" means permanent and yields -1s. Anything else, notably
// arithmetic, is refused: fail2ban evaluates time values as Python
// expressions, so only the computed number of seconds is ever sent.
// Errors are *ValidationError.
func ParseTimeSpec(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	bad := func() (time.Duration, error) {
		return 0, invalid(FieldValue, "f2b.not_time", "Input", quoteInput(t))
	}
	if t == "" {
		return 0, invalid(FieldValue, "f2b.enter_time")
	}
	if t == "-1" {
		return -time.Second, nil
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	var total int64
	groups := 0
	for i := 0; i < len(t); {
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i == len(t) {
			break
		}
		start := i
		for i < len(t) && '0' <= t[i] && t[i] <= '9' {
			i++
		}
		if i == start || i-start > 12 {
			return bad()
		}
		n, _ := strconv.ParseInt(t[start:i], 10, 64)
		for i < len(t) && t[i] == ' ' {
			i++
		}
		ustart := i
		for i < len(t) && ('a' <= t[i]|0x20 && t[i]|0x20 <= 'z') {
			i++
		}
		mul, ok := unitSeconds(t[ustart:i])
		if !ok {
			return bad()
		}
		if n > (maxSeconds-total)/mul {
			return 0, invalid(FieldValue, "f2b.time_too_long", "Input", quoteInput(t))
		}
		total += n * mul
		groups++
	}
	if groups == 0 {
		return bad()
	}
	return time.Duration(total) * time.Second, nil
}

// secondsArg formats a duration as whole seconds for a command argument.
func secondsArg(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// validLogLevel accepts fail2ban's log level names.
func validLogLevel(v string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(v))
	switch u {
	case "CRITICAL", "ERROR", "WARNING", "WARN", "NOTICE", "INFO", "DEBUG", "TRACEDEBUG", "HEAVYDEBUG", "MSG":
		return u, nil
	}
	return "", invalid(FieldValue, "f2b.not_log_level", "Input", quoteInput(v))
}

// validLogTarget accepts the special targets or an absolute file path.
func validLogTarget(v string) (string, error) {
	t := strings.TrimSpace(v)
	switch u := strings.ToUpper(t); u {
	case "STDOUT", "STDERR", "SYSLOG", "SYSOUT", "SYSTEMD-JOURNAL":
		return u, nil
	}
	if err := validPath(t); err != nil {
		return "", invalid(FieldValue, "f2b.not_log_target", "Input", quoteInput(v))
	}
	return t, nil
}

// validPath accepts clean-enough absolute paths without control characters.
func validPath(p string) error {
	if p == "" {
		return invalid(FieldPath, "f2b.enter_path")
	}
	if len(p) > 4096 || !utf8.ValidString(p) || !filepath.IsAbs(p) || strings.ContainsFunc(p, unicode.IsControl) {
		return invalid(FieldPath, "f2b.not_absolute_path", "Input", quoteInput(p))
	}
	return nil
}

// validHostName accepts DNS names as they may appear in ignore lists.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ParseIgnoreEntry checks one entry of an ignore list as fail2ban accepts
// it in ignoreip and addignoreip: an IPv4 or IPv6 address or CIDR range
// (returned in ParseTarget's canonical form) or a DNS name (returned in
// lower case, without a final dot). Errors are *ValidationError.
func ParseIgnoreEntry(s string) (string, error) {
	t := strings.TrimSpace(s)
	p, err := ParseTarget(t)
	if err == nil {
		return targetString(p), nil
	}
	if t == "" || strings.ContainsAny(t, ":/%") || looksNumeric(t) {
		return "", err // meant as an address: say what is wrong with it
	}
	if !validHostName(t) {
		return "", invalid(FieldIP, "f2b.not_ignore_entry", "Input", quoteInput(t))
	}
	return strings.ToLower(strings.TrimSuffix(t, ".")), nil
}

// looksNumeric reports a name whose last label is all digits: a mistyped
// IPv4 address (192.0.2.300, 10.1.1), never a DNS name.
func looksNumeric(s string) bool {
	s = strings.TrimSuffix(s, ".")
	last := s[strings.LastIndexByte(s, '.')+1:]
	return last != "" && strings.Trim(last, "0123456789") == ""
}
