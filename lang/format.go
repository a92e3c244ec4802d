package lang

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"bangui/textfmt"
)

// The layouts of each language are messages of its catalogue, so a
// language is one file: format.group (the thousands separator; English
// keeps the thin space the panel always showed), format.decimal, format.date and
// format.datetime (Go time layouts).

// Int formats n with the language's thousands separator: 12 345, 12.345.
func (l *Lang) Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := l.T("format.group")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Decimal formats v with places decimals and the language's decimal mark:
// 1.5 or 1,5.
func (l *Lang) Decimal(v float64, places int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', places, 64), ".", l.T("format.decimal"), 1)
}

// Seconds writes a short wait in seconds, with one decimal when it has a
// fraction: "2 s", "1.5 s", "1,5 s".
func (l *Lang) Seconds(d time.Duration) string {
	v := d.Seconds()
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + l.T("unit.s")
	}
	return l.Decimal(v, 1) + " " + l.T("unit.s")
}

// DateTime formats t, already in the panel's time zone, as a date and time.
func (l *Lang) DateTime(t time.Time) string { return t.Format(l.T("format.datetime")) }

// Date formats t, already in the panel's time zone, as a date.
func (l *Lang) Date(t time.Time) string { return t.Format(l.T("format.date")) }

// ShortDate writes the day and month of t, already in the panel's time
// zone, as chart labels do: "Dec 7", "7. Dez.".
func (l *Lang) ShortDate(t time.Time) string {
	return l.T("live.date_short", "Day", t.Day(), "Month", l.shortMonth(t.Month()))
}

// ShortDateHour writes the day, month and hour of t, already in the
// panel's time zone: "Dec 7 15h", "7. Dez. 15 Uhr".
func (l *Lang) ShortDateHour(t time.Time) string {
	return l.T("live.date_short_hour", "Day", t.Day(), "Month", l.shortMonth(t.Month()), "Hour", fmt.Sprintf("%02d", t.Hour()))
}

// shortMonth is the language's abbreviation of m; its catalogue lists the
// twelve, separated by spaces.
func (l *Lang) shortMonth(m time.Month) string {
	names := strings.Fields(l.T("live.months_short"))
	if int(m) > len(names) {
		return m.String()[:3]
	}
	return names[m-1]
}

// Duration writes d compactly in the language: "1 h 30 min",
// "1 Std. 30 Min." (see textfmt.Duration); negative means permanent.
func (l *Lang) Duration(d time.Duration) string {
	return textfmt.DurationIn(d, textfmt.Units{Permanent: l.T("unit.permanent"), Seconds: l.T("unit.s"),
		Minutes: l.T("unit.min"), Hours: l.T("unit.h"), Days: l.T("unit.d")})
}

// Int formats n in ctx's language; see Lang.Int.
func Int[T ~int | ~int64](ctx context.Context, n T) string { return From(ctx).Int(int64(n)) }

// Duration says d in ctx's language; see Lang.Duration.
func Duration(ctx context.Context, d time.Duration) string { return From(ctx).Duration(d) }

// countryNames are the country names of the languages besides English,
// from CLDR (see countries_de.go).
var countryNames = map[string]map[string]string{"de": germanCountries}

// Country names the ISO 3166-1 alpha-2 code in ctx's language: english
// (the panel's own table) in English, CLDR's name in the other languages,
// english when there is none.
func Country(ctx context.Context, code, english string) string {
	if n, ok := countryNames[From(ctx).Code()][code]; ok {
		return n
	}
	return english
}

// Bytes writes a size in the language: "1 byte", "12 bytes", "1.5 KB",
// "1,5 KB" (see textfmt.Bytes for the rounding).
func (l *Lang) Bytes(n int64) string {
	if n < 1<<10 {
		return l.N("unit.bytes", int(n))
	}
	return strings.Replace(textfmt.Bytes(n), ".", l.T("format.decimal"), 1)
}

// Bytes writes a size in ctx's language; see Lang.Bytes.
func Bytes(ctx context.Context, n int64) string { return From(ctx).Bytes(n) }
