package views

import (
	"context"
	"net/url"
	"time"

	"bangui/lang"
)

// fmtTime shows t in the panel's time zone and the request's language, or
// "—" for the zero time.
func fmtTime(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	loc := RequestFrom(ctx).Location
	if loc == nil {
		loc = time.UTC
	}
	return lang.From(ctx).DateTime(t.In(loc))
}

// isoTime is t for a <time datetime> attribute.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// fmtCount groups thousands as the request's language does: 12 345, 12.345.
func fmtCount[T ~int | ~int64](ctx context.Context, n T) string { return lang.Int(ctx, n) }

// fmtDuration writes d compactly in the request's language (see
// lang.Lang.Duration).
func fmtDuration(ctx context.Context, d time.Duration) string { return lang.Duration(ctx, d) }

// withQuery returns path with the query values set (empty values dropped).
func withQuery(path string, q url.Values) string {
	clean := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				clean.Add(k, v)
			}
		}
	}
	if len(clean) == 0 {
		return path
	}
	return path + "?" + clean.Encode()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func yesNo(ctx context.Context, b bool) string {
	if b {
		return lang.T(ctx, "common.yes")
	}
	return lang.T(ctx, "common.no")
}
