package handlers

import (
	"context"
	"testing"
	"time"

	"bangui/lang"
	"bangui/services"
)

// TestGermanTrendChartLabels: the trend chart's buckets are labelled with
// the language's month names; English keeps Go's "Jan 2" and "Jan 2 15h".
func TestGermanTrendChartLabels(t *testing.T) {
	end := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		bucket      time.Duration
		code, first string
		last        string
	}{
		{24 * time.Hour, "de", "6. Dez.", "7. Dez."},
		{24 * time.Hour, "en", "Dec 6", "Dec 7"},
		{12 * time.Hour, "de", "7. Dez. 00 Uhr", "7. Dez. 12 Uhr"},
		{12 * time.Hour, "en", "Dec 7 00h", "Dec 7 12h"},
		{time.Hour, "de", "22:00", "23:00"},
	} {
		ctx := lang.With(context.Background(), lang.Get(c.code))
		ch := trendChart(ctx, services.Dashboard{Trend: []int64{1, 2}, Bucket: c.bucket, TrendEnd: end}, time.UTC)
		if got := [2]string{ch.Bars[0].Label, ch.Bars[1].Label}; got != [2]string{c.first, c.last} {
			t.Errorf("%s, buckets of %s: labels %q, want %q and %q", c.code, c.bucket, got, c.first, c.last)
		}
	}
}
