package textfmt

import (
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{1023, "1023 bytes"},
		{1024, "1 KB"},
		{1536, "1.5 KB"},
		{16 << 10, "16 KB"},
		{512<<10 + 1, "512.1 KB"}, // never smaller than it is
		{1<<20 - 1, "1024 KB"},
		{1 << 20, "1 MB"},
		{3 << 19, "1.5 MB"},
		{50 << 20, "50 MB"},
	} {
		if got := Bytes(c.n); got != c.want {
			t.Errorf("Bytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "permanent"},
		{0, "0 s"},
		{300 * time.Millisecond, "300ms"},
		{45 * time.Second, "45 s"},
		{2 * time.Minute, "2 min"},
		{90 * time.Minute, "1 h 30 min"},
		{52 * time.Hour, "2 d 4 h"},
		{48*time.Hour + 5*time.Minute, "2 d"},
	} {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestDurationInWords(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Minute, "1 hour"},
		{119 * time.Minute, "1 hour"},
		{5 * time.Hour, "5 hours"},
		{30 * time.Hour, "1 day"},
		{7 * 24 * time.Hour, "7 days"},
	} {
		if got := DurationInWords(c.d); got != c.want {
			t.Errorf("DurationInWords(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestClipUTF8(t *testing.T) {
	s := "aé€𝄞" // 1 + 2 + 3 + 4 bytes
	for max := 0; max <= len(s)+1; max++ {
		got := ClipUTF8(s, max)
		if len(got) > max || !utf8.ValidString(got) || got != s[:len(got)] {
			t.Errorf("ClipUTF8(%q, %d) = %q", s, max, got)
		}
	}
	if got := ClipUTF8(s, 6); got != "aé€" {
		t.Errorf("ClipUTF8 at a boundary = %q", got)
	}
	if got := ClipUTF8(s, 5); got != "aé" {
		t.Errorf("ClipUTF8 inside € = %q", got)
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten("Deutschland", 20); got != "Deutschland" {
		t.Errorf("short text changed: %q", got)
	}
	if got := Shorten("Äöü-Straße-Länge", 5); got != "Äöü-…" {
		t.Errorf("Shorten = %q", got)
	}
	if got := Shorten("abc", 0); got != "" {
		t.Errorf("Shorten to 0 = %q", got)
	}
}

func TestSplitLines(t *testing.T) {
	got := SplitLines("  /var/log/a.log \r\n\n\t\r/var/log/b.log\rlast  ")
	if want := []string{"/var/log/a.log", "/var/log/b.log", "last"}; !slices.Equal(got, want) {
		t.Errorf("SplitLines = %q, want %q", got, want)
	}
	if got := SplitLines(" \n \r\n"); got != nil {
		t.Errorf("blank text gave %q", got)
	}
}
