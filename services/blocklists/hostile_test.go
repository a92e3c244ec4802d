package blocklists

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"bangui/lang"
	"bangui/models"
)

// hostileList is a blocklist as a broken or hostile server might send it:
// a byte order mark, CRLF and bare CR, NUL bytes, bytes that are not UTF-8,
// UTF-16 text, HTML, and a long line of two-byte characters.
const hostileList = "\xef\xbb\xbf192.0.2.1\r\n" + // BOM, CRLF: valid
	"192.0.2.2\r\n" + // valid
	"192.0.2.3\x00\n" + // NUL after an address
	"\x00\x00\x00\n" + // NULs only
	"\xff\xfe1\x009\x002\x00.\x000\x00.\x002\x00.\x009\x00\n" + // UTF-16LE
	"192.0.2.\xff\n" + // an invalid byte inside an address
	"# comment with \xc3\x28 invalid UTF-8\n" + // a comment stays a comment
	"192.0.2.5\r192.0.2.6\n" + // a bare CR does not end a line
	"<html><body>\xe9t\xe9</body></html>\n" + // Latin-1 HTML
	"2001:db8::\xc0\xaf\n" + // overlong encoding
	"\xe2\x80\xae192.0.2.7\n" // right-to-left override before an address

func TestHostileBlocklistBytesAreSkippedAndCounted(t *testing.T) {
	// A final comment of 300 two-byte characters, cut in the preview.
	list := hostileList + "#" + strings.Repeat("\u00e9", 300) + "\n192.0.2.4"
	got, err := Parse(strings.NewReader(list), nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.1", "192.0.2.2", "192.0.2.4"}; !slices.Equal(got.Targets, want) {
		t.Errorf("targets %q, want %q", got.Targets, want)
	}
	want := models.BlocklistCounts{Lines: 13, IPv4: 3, Comments: 2, Invalid: 8}
	if got.Counts != want {
		t.Errorf("counts %+v\nwant   %+v", got.Counts, want)
	}
	// Comments are not entries, so not skipped ones.
	if got.Counts.Skipped() != 8 {
		t.Errorf("skipped %d, want 8", got.Counts.Skipped())
	}
	if len(got.Sample) != 13 {
		t.Fatalf("%d sample lines", len(got.Sample))
	}
	for i, s := range got.Sample {
		if !utf8.ValidString(s) {
			t.Errorf("sample line %d is not UTF-8: %q", i+1, s)
		}
	}
	if s := got.Sample[5]; s != "192.0.2.\uFFFD" {
		t.Errorf("the invalid byte is not shown as U+FFFD: %q", s)
	}
	if s := got.Sample[11]; !strings.HasSuffix(s, "\u00e9…") || len(s) > 210 {
		t.Errorf("the long line is not cut on a character: %q", s)
	}
	if d := countsMessage(got.Counts).Error(); !strings.Contains(d, "8 invalid") {
		t.Errorf("description %q", d)
	}
	// The import result says why entries were skipped.
	if why := got.Counts.SkipReasons().Error(); why != "8 invalid" {
		t.Errorf("skip reasons %q", why)
	}
	c := models.BlocklistCounts{Invalid: 1, Duplicates: 2, Ignored: 1, Reserved: 3, Comments: 4}
	if why := c.SkipReasons().Error(); why != "1 invalid, 2 duplicates, 1 on an ignore list, 3 reserved addresses" {
		t.Errorf("skip reasons %q", why)
	}
	if why := c.SkipReasons().In(lang.Get("de")); why != "1 ungültig, 2 doppelt, 1 auf einer Ignorierliste, 3 reservierte Adressen" {
		t.Errorf("skip reasons in German %q", why)
	}
}
