package blocklists

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/textfmt"
)

// LineKind says what one line of a blocklist holds.
type LineKind int

// Kinds of blocklist lines.
const (
	LineBlank   LineKind = iota // nothing but white space
	LineComment                 // starts with # or ;
	LineIPv4                    // one IPv4 address
	LineIPv6                    // one IPv6 address
	LineCIDR                    // one range of either family
	LineInvalid                 // anything else
)

// maxLineLen is the longest line looked at; longer lines are invalid.
const maxLineLen = 4096

// ParseLine parses one line of a blocklist: one address or CIDR
// range, optionally followed by a comment that starts with # or ;. Blank
// lines and comment lines hold nothing. Surrounding white space, a carriage
// return and a byte order mark are ignored; anything else next to the entry
// (a second word, a port, a zone) makes the line invalid. The prefix of an
// address covers just that address; a range is reduced to its network
// (192.0.2.7/24 → 192.0.2.0/24) and an IPv4-mapped IPv6 address becomes
// the IPv4 address, as fail2ban does.
func ParseLine(line string) (netip.Prefix, LineKind) {
	s := strings.TrimPrefix(line, "\ufeff")
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, LineBlank
	}
	if s[0] == '#' || s[0] == ';' {
		return netip.Prefix{}, LineComment
	}
	if i := strings.IndexAny(s, "#;"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 64 || strings.ContainsAny(s, " \t\v\f\r\n") {
		return netip.Prefix{}, LineInvalid
	}
	p, err := fail2ban.ParseTarget(s)
	if err != nil {
		return netip.Prefix{}, LineInvalid
	}
	switch {
	case !p.IsSingleIP():
		return p, LineCIDR
	case p.Addr().Is4():
		return p, LineIPv4
	default:
		return p, LineIPv6
	}
}

// TargetString is the text fail2ban is sent for a parsed entry: the bare
// address for single hosts, the CIDR notation for ranges.
func TargetString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// reservedRanges are never banned from a list: banning them would cut the
// host off from itself or ban nothing real. An entry overlapping one of
// them (such as 0.0.0.0/4) is skipped as reserved; a range of every
// address (/0) is invalid already (fail2ban.ParseTarget).
var reservedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

func overlapsAnyPrefix(p netip.Prefix, list []netip.Prefix) bool {
	for _, r := range list {
		if r.Overlaps(p) {
			return true
		}
	}
	return false
}

// ParsedList is a parsed list: what to ban, in list order, and counts.
type ParsedList struct {
	Targets []string
	Counts  models.BlocklistCounts
	Sample  []string // the first lines as they are, when asked for
	Bytes   int64    // bytes read
}

// parser parses a list line by line.
type parser struct {
	ignore  []netip.Prefix
	samples int
	seen    map[netip.Prefix]struct{}
	out     ParsedList
}

// Parse reads a whole list from r and returns the entries to ban:
// valid, not reserved, not listed before and not overlapping ignore (the
// ignore lists of fail2ban's jails). Every skipped line is counted by its
// reason. samples is the number of raw lines to keep for a preview. The only
// errors are r's.
func Parse(r io.Reader, ignore []netip.Prefix, samples int) (ParsedList, error) {
	p := &parser{ignore: ignore, samples: samples, seen: map[netip.Prefix]struct{}{}}
	err := p.read(r)
	return p.out, err
}

func (p *parser) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		p.out.Bytes += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxLineLen {
			// A line longer than anything valid: count it once, skip the rest.
			p.sample(line)
			p.out.Counts.Lines++
			p.out.Counts.Invalid++
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				p.out.Bytes += int64(len(line))
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(line) > 0 {
			p.line(line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) sample(line []byte) {
	if len(p.out.Sample) >= p.samples {
		return
	}
	s := strings.TrimRight(string(bytes.ToValidUTF8(line, []byte("\uFFFD"))), "\r\n")
	if len(s) > 200 {
		s = textfmt.ClipUTF8(s, 200) + "…"
	}
	p.out.Sample = append(p.out.Sample, s)
}

func (p *parser) line(raw []byte) {
	p.sample(raw)
	c := &p.out.Counts
	c.Lines++
	prefix, kind := ParseLine(string(raw))
	switch kind {
	case LineBlank:
		c.Blank++
		return
	case LineComment:
		c.Comments++
		return
	case LineInvalid:
		c.Invalid++
		return
	case LineIPv4:
		c.IPv4++
	case LineIPv6:
		c.IPv6++
	case LineCIDR:
		c.CIDR++
	}
	if overlapsAnyPrefix(prefix, reservedRanges) {
		c.Reserved++
		return
	}
	if _, dup := p.seen[prefix]; dup {
		c.Duplicates++
		return
	}
	p.seen[prefix] = struct{}{}
	if overlapsAnyPrefix(prefix, p.ignore) {
		c.Ignored++
		return
	}
	p.out.Targets = append(p.out.Targets, TargetString(prefix))
}

// IgnorePrefixes turns fail2ban ignore list entries into prefixes; host
// names and other entries that are not addresses or ranges are left out.
func IgnorePrefixes(entries []string) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range entries {
		if p, err := fail2ban.ParseTarget(e); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// countsMessage says every count of a list, for messages.
func countsMessage(c models.BlocklistCounts) lang.Message {
	return lang.M("blk.counts", "IPv4", c.IPv4, "IPv6", c.IPv6, "CIDR", c.CIDR, "Comments", c.Comments,
		"Invalid", c.Invalid, "Duplicates", c.Duplicates, "Ignored", c.Ignored, "Reserved", c.Reserved)
}
