package lang

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCataloguesAreComplete fails on any message one catalogue has and
// the other lacks, on a message without the plural forms its language
// needs, and on a message used in the code that no catalogue has.
func TestCataloguesAreComplete(t *testing.T) {
	en, de := Catalogue("en"), Catalogue("de")
	if len(en) < 10 {
		t.Fatalf("the English catalogue has %d messages", len(en))
	}
	for id, forms := range en {
		deForms, ok := de[id]
		if !ok {
			t.Errorf("%s: missing from the German catalogue", id)
			continue
		}
		// English and German have the same plural categories: one, other.
		if _, plural := forms["one"]; plural {
			for _, f := range []string{"one", "other"} {
				if deForms[f] == "" || forms[f] == "" {
					t.Errorf("%s: a plural message without its %q form", id, f)
				}
			}
		}
	}
	for id := range de {
		if _, ok := en[id]; !ok {
			t.Errorf("%s: missing from the English catalogue", id)
		}
	}
	used := usedMessages(t)
	if len(used) < 10 {
		t.Fatalf("found %d messages in the code: the scan is broken", len(used))
	}
	for id, where := range used {
		if _, ok := en[id]; !ok {
			t.Errorf("%s (used in %s): missing from the catalogues", id, where)
		}
	}
	for id := range en {
		if _, ok := used[id]; !ok && !strings.HasPrefix(id, "format.") && !strings.HasPrefix(id, "unit.") {
			t.Errorf("%s: in the catalogues but used nowhere", id)
		}
	}
}

// callRE finds the message ids of the code's calls of T and N (lang.T, views' col,
// lang.N, l.T…), of fail2ban's invalid and of the Messages it makes (lang.M,
// lang.MN); a message id is always a literal, so this finds them all.
var callRE = regexp.MustCompile(`(?:\b(?:lang\.[TN]|tr|trN|col|invalid)\(\s*(?:[^,()"]|\([^()]*\))+,\s*|(?:\bl|\))\.[TN]\(\s*|\blang\.MN?\(\s*)"([a-z0-9_.-]+)"`)

// usedMessages scans the panel's Go and templ sources (not the generated
// ones, not tests) for message ids.
func usedMessages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := ".."
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "e2e" || n == "testdata" || strings.HasPrefix(n, ".") && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".templ")) || strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "_templ.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range callRE.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCatalogueFiles: each file of one language has its twin in the other
// (setup.en.json and setup.de.json) with the same ids, and no id is in two
// files of a language (go-i18n would keep one of them without a word).
func TestCatalogueFiles(t *testing.T) {
	ids := map[string]string{}
	files := catalogueFiles("en")
	if len(files) == 0 {
		t.Fatal("no English catalogue files")
	}
	for _, f := range files {
		twin := strings.TrimSuffix(f, "en.json") + "de.json"
		en, de := catalogueFile(f), catalogueFile(twin)
		if len(en) == 0 {
			t.Errorf("%s: empty or unreadable", f)
		}
		for id := range en {
			if _, ok := de[id]; !ok {
				t.Errorf("%s: %s is missing from %s", f, id, twin)
			}
			if other, dup := ids[id]; dup {
				t.Errorf("%s is in both %s and %s", id, other, f)
			}
			ids[id] = f
		}
		for id := range de {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %s is missing from %s", twin, id, f)
			}
		}
	}
	if n, m := len(files), len(catalogueFiles("de")); n != m {
		t.Errorf("%d English catalogue files, %d German ones", n, m)
	}
}

// rawTextRE finds English written into the code as a Raw message, or as a
// refusal of package fail2ban without a catalogue id.
var rawTextRE = regexp.MustCompile(`\blang\.Raw\(\s*(?:"|fmt\.Sprintf)|\binvalidf\(`)

// TestNoRawText fails on a text for people written in the code instead of
// the catalogues: lang.Raw is for words from outside the panel (fail2ban's
// output, an operating system's error), never a literal.
func TestNoRawText(t *testing.T) {
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "e2e" || n == "testdata" || strings.HasPrefix(n, ".") && p != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "_templ.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if rawTextRE.MatchString(line) && !strings.Contains(line, "func invalidf(") {
				t.Errorf("%s:%d: English in the code, not in the catalogues: %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMessage(t *testing.T) {
	de := Get("de")
	m := MN("tokens.days", 3)
	if got := m.In(de); got != "3 Tage" {
		t.Errorf("MN in German = %q", got)
	}
	if got := m.Error(); got != "3 days" {
		t.Errorf("MN as an error = %q", got)
	}
	wrapped := fmt.Errorf("context for the log: %w", M("status.no_answer", "Host", "web-1"))
	if got := Text(With(context.Background(), de), wrapped); got != "web-1 hat nicht geantwortet:" {
		t.Errorf("Text of a wrapped Message = %q", got)
	}
	if got := Text(With(context.Background(), de), errors.New("fail2ban: no such jail")); got != "fail2ban: no such jail" {
		t.Errorf("Text of a plain error = %q", got)
	}
	nested := M("status.no_answer", "Host", MN("tokens.days", 1))
	if got := nested.In(de); got != "1 Tag hat nicht geantwortet:" {
		t.Errorf("a Message as a field's value = %q", got)
	}
	if !Raw("").IsZero() || M("x").IsZero() || Of(nil).IsZero() != true {
		t.Error("IsZero")
	}
}

func TestChoose(t *testing.T) {
	for _, c := range []struct{ setting, accept, want string }{
		{"", "", "en"},
		{"", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "de-AT", "de"},
		{"", "fr-FR,fr;q=0.9", "en"},
		{"", "fr-FR,de;q=0.5", "de"},
		{"", "en-GB,de;q=0.1", "en"},
		{"de", "en", "de"},
		{"en", "de", "en"},
		{"xx", "de", "de"},
		{"", "garbage;;q=", "en"},
	} {
		if got := Choose(c.setting, c.accept).Code(); got != c.want {
			t.Errorf("Choose(%q, %q) = %s, want %s", c.setting, c.accept, got, c.want)
		}
	}
	if !slices.Equal(Codes(), []string{"en", "de"}) {
		t.Errorf("Codes() = %v", Codes())
	}
	for code, want := range map[string]bool{"": true, "en": true, "de": true, "fr": false} {
		if Valid(code) != want {
			t.Errorf("Valid(%q) = %v", code, !want)
		}
	}
}

func TestFormats(t *testing.T) {
	en, de := With(context.Background(), Get("en")), With(context.Background(), Get("de"))
	if got := Int(en, 1234567); got != "1\u202f234\u202f567" {
		t.Errorf("en Int = %q", got)
	}
	if got := Int(de, -1234567); got != "-1.234.567" {
		t.Errorf("de Int = %q", got)
	}
	if got := Int(de, 999); got != "999" {
		t.Errorf("de Int = %q", got)
	}
	at := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
	if got := From(de).DateTime(at); got != "07.12.2026 03:04:05" {
		t.Errorf("de DateTime = %q", got)
	}
	if got := From(en).DateTime(at); got != "2026-12-07 03:04:05" {
		t.Errorf("en DateTime = %q", got)
	}
	if got := From(de).Date(at); got != "07.12.2026" {
		t.Errorf("de Date = %q", got)
	}
	for d, want := range map[time.Duration][2]string{
		90 * time.Minute: {"1 h 30 min", "1 Std. 30 Min."},
		-1:               {"permanent", "dauerhaft"},
		50 * time.Hour:   {"2 d 2 h", "2 T. 2 Std."},
		45 * time.Second: {"45 s", "45 s"},
		0:                {"0 s", "0 s"},
	} {
		if got := Duration(en, d); got != want[0] {
			t.Errorf("en Duration(%v) = %q, want %q", d, got, want[0])
		}
		if got := Duration(de, d); got != want[1] {
			t.Errorf("de Duration(%v) = %q, want %q", d, got, want[1])
		}
	}
	for _, c := range []struct {
		ctx  context.Context
		n    int
		want string
	}{
		{en, 1, "1 day"}, {en, 30, "30 days"}, {de, 1, "1 Tag"}, {de, 0, "0 Tage"}, {de, 1234, "1.234 Tage"},
	} {
		if got := N(c.ctx, "tokens.days", c.n); got != c.want {
			t.Errorf("N(%s, tokens.days, %d) = %q, want %q", From(c.ctx).Code(), c.n, got, c.want)
		}
	}
	if got := T(de, "status.no_answer", "Host", "web-1"); got != "web-1 hat nicht geantwortet:" {
		t.Errorf("a message with a field: %q", got)
	}
	for n, want := range map[int64][2]string{1: {"1 byte", "1 Byte"}, 12: {"12 bytes", "12 Byte"}, 1536: {"1.5 KB", "1,5 KB"}, 3 << 20: {"3 MB", "3 MB"}} {
		if got := From(en).Bytes(n); got != want[0] {
			t.Errorf("en Bytes(%d) = %q, want %q", n, got, want[0])
		}
		if got := Bytes(de, n); got != want[1] {
			t.Errorf("de Bytes(%d) = %q, want %q", n, got, want[1])
		}
	}
	if got := From(de).Seconds(1500 * time.Millisecond); got != "1,5 s" {
		t.Errorf("de Seconds = %q", got)
	}
	if got := T(context.Background(), "common.yes"); got != "yes" {
		t.Errorf("T without a language = %q, want English", got)
	}
	if got := T(de, "no.such.message"); got != "no.such.message" {
		t.Errorf("a missing message shows %q, want its id", got)
	}
}

func TestCountry(t *testing.T) {
	en, de := With(context.Background(), Get("en")), With(context.Background(), Get("de"))
	if got := Country(en, "DE", "Germany"); got != "Germany" {
		t.Errorf("en DE = %q", got)
	}
	for code, want := range map[string]string{"DE": "Deutschland", "US": "Vereinigte Staaten", "AX": "Ålandinseln"} {
		if got := Country(de, code, "x"); got != want {
			t.Errorf("de %s = %q, want %q", code, got, want)
		}
	}
	if got := Country(de, "unknown", "unknown"); got != "unknown" {
		t.Errorf("de unknown = %q", got)
	}
}

func TestShortDates(t *testing.T) {
	en, de := Get("en"), Get("de")
	for _, c := range []struct {
		at            time.Time
		enDay, enHour string
		deDay, deHour string
	}{
		{time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC), "Dec 7", "Dec 7 15h", "7. Dez.", "7. Dez. 15 Uhr"},
		{time.Date(2027, 3, 21, 5, 0, 0, 0, time.UTC), "Mar 21", "Mar 21 05h", "21. März", "21. März 05 Uhr"},
		{time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), "May 1", "May 1 00h", "1. Mai", "1. Mai 00 Uhr"},
	} {
		// English keeps what Go's layouts "Jan 2" and "Jan 2 15h" wrote.
		if got := en.ShortDate(c.at); got != c.enDay || got != c.at.Format("Jan 2") {
			t.Errorf("en ShortDate(%v) = %q, want %q", c.at, got, c.enDay)
		}
		if got := en.ShortDateHour(c.at); got != c.enHour || got != c.at.Format("Jan 2 15h") {
			t.Errorf("en ShortDateHour(%v) = %q, want %q", c.at, got, c.enHour)
		}
		if got := de.ShortDate(c.at); got != c.deDay {
			t.Errorf("de ShortDate(%v) = %q, want %q", c.at, got, c.deDay)
		}
		if got := de.ShortDateHour(c.at); got != c.deHour {
			t.Errorf("de ShortDateHour(%v) = %q, want %q", c.at, got, c.deHour)
		}
	}
	for _, l := range []*Lang{en, de} {
		if n := len(strings.Fields(l.T("live.months_short"))); n != 12 {
			t.Errorf("%s: %d month names, want 12", l.Code(), n)
		}
	}
}

// TestFixedTexts: a message asked for without values is worked out once
// and kept, per language; an id outside the catalogues shows itself and is
// not kept (ids built from input cannot fill the memory).
func TestFixedTexts(t *testing.T) {
	de := Get("de")
	if a, b := de.T("unit.permanent"), de.T("unit.permanent"); a != "dauerhaft" || b != a {
		t.Errorf("de unit.permanent = %q, then %q", a, b)
	}
	if got := Get("en").T("unit.permanent"); got != "permanent" {
		t.Errorf("en unit.permanent = %q after the German one was kept", got)
	}
	if got := de.T("no.such.id.x1"); got != "no.such.id.x1" {
		t.Errorf("missing id = %q", got)
	}
	if _, kept := de.fixed.Load("no.such.id.x1"); kept {
		t.Error("a missing id was kept")
	}
	if got := de.T("live.date_short", "Day", 7, "Month", "Dez."); got != "7. Dez." {
		t.Errorf("with values: %q", got)
	}
}
