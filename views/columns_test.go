package views

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"bangui/lang"
	"bangui/models"
)

// benchBans are n bans as the dashboard's first page shows them.
func benchBans(n int) []models.BanRecord {
	bans := make([]models.BanRecord, n)
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i := range bans {
		bans[i] = models.BanRecord{Host: "local", Jail: "sshd", IP: fmt.Sprintf("198.51.100.%d", i%250), TimeOfBan: at.Add(-time.Duration(i) * time.Minute),
			BanCount: int64(i%5 + 1), Origin: models.OriginSelfblock, Matches: []string{"Failed password for root"}}
	}
	return bans
}

// TestColumnsInEveryLanguage: a cell's data-label is its heading in the
// request's language, data-col the English one, whichever language asked
// first.
func TestColumnsInEveryLanguage(t *testing.T) {
	for _, code := range []string{"de", "en", "de"} {
		ctx := lang.With(context.Background(), lang.Get(code))
		attrs := func(key string) map[string]any {
			m := map[string]any{}
			for _, kv := range col(ctx, key).Items() {
				m[kv.Key] = kv.Value
			}
			return m
		}
		a := attrs("bans.col_jail")
		if a["data-label"] != lang.Get(code).T("bans.col_jail") || a["data-col"] != "Jail" {
			t.Errorf("%s: %v", code, a)
		}
		a = attrs("bans.col_country")
		if want := map[string]string{"en": "Country", "de": "Land"}[code]; a["data-label"] != want || a["data-col"] != "Country" {
			t.Errorf("%s: %v, want data-label %q", code, a, want)
		}
	}
}

// BenchmarkBanTable renders the dashboard's table of 100 bans (8 cells a
// row, each with its column's headings) in English and in German.
func BenchmarkBanTable(b *testing.B) {
	t := BanTable{ID: "dash-bans", Bans: benchBans(100), Bulk: &BulkSelect{Form: "bulk-dash-bans"}}
	for _, code := range []string{"en", "de"} {
		b.Run(code, func(b *testing.B) {
			ctx := WithRequest(lang.With(context.Background(), lang.Get(code)), Request{BasePath: "", Location: time.UTC})
			var sb strings.Builder
			if err := BanEvents(t).Render(ctx, &sb); err != nil || strings.Count(sb.String(), "data-col=") < 800 {
				b.Fatalf("render: %v, %d cells", err, strings.Count(sb.String(), "data-col="))
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := BanEvents(t).Render(ctx, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
