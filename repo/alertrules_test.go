package repo

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TestAlertRuleStoreAndQueriesOnEveryDialect stores, changes and deletes
// a rule, and asks the evaluator's archive and audit questions, on SQLite
// and PostgreSQL alike.
func TestAlertRuleStoreAndQueriesOnEveryDialect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := NewAlertRuleStore(db)
		r := AlertRule{Name: "storm", Kind: "spike", Params: `{"bans":2}`, WaitSeconds: 60, Enabled: true}
		r.SetChannels([]int64{3, 4})
		id, err := s.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetEnabled(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, id)
		if err != nil || got.Enabled || !slices.Equal(got.Channels(), []int64{3, 4}) || got.Params != `{"bans":2}` {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		got.Name = "renamed"
		if err := s.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		if err := s.SetEnabled(ctx, id+100, true); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetEnabled of a missing rule = %v", err)
		}

		for i, b := range []struct {
			host, jail, ip, country string
			at                      int64
		}{
			{"local", "sshd", "192.0.2.1", "DE", 100},
			{"local", "sshd", "192.0.2.2", "FR", 1000},
			{"local", "sshd", "192.0.2.3", "FR", 1001},
			{"local", "web", "192.0.2.4", "FR", 1002},
			{"edge", "sshd", "192.0.2.1", "DE", 1003},
		} {
			if _, err := db.ExecContext(ctx, "INSERT INTO history_archive (jail, ip, timeofban, action, origin, country_code, host) VALUES (?, ?, ?, 'ban', 'selfblock', ?, ?)",
				b.jail, b.ip, b.at, b.country, b.host); err != nil {
				t.Fatal(i, err)
			}
		}
		counts, err := s.BanCountsSince(ctx, 1000, 1, "jail")
		if err != nil || len(counts) != 1 || counts[0] != (BanGroupCount{Host: "local", Jail: "sshd", N: 2}) {
			t.Fatalf("per jail = %+v, %v", counts, err)
		}
		counts, err = s.BanCountsSince(ctx, 1000, 3, "all")
		if err != nil || len(counts) != 1 || counts[0].N != 4 {
			t.Fatalf("in all = %+v, %v", counts, err)
		}
		news, err := s.NewCountriesSince(ctx, 1000, 0)
		if err != nil || len(news) != 1 || news[0].Country != "FR" || news[0].Bans != 3 {
			t.Fatalf("new countries = %+v, %v", news, err)
		}
		banned, err := s.BannedSince(ctx, 1002, 10)
		if err != nil || len(banned) != 2 {
			t.Fatalf("banned since = %+v, %v", banned, err)
		}
		d, err := s.Digest(ctx, 1000, 2000, 5)
		if err != nil || d.Bans != 4 || d.NewOffenders != 3 || d.TopCountries[0] != (BanGroupCount{Host: "FR", N: 3}) || d.TopJails[0].Jail != "sshd" {
			t.Fatalf("digest = %+v, %v", d, err)
		}

		audit := NewAuditStore(db)
		for _, a := range []models.AuditAction{models.AuditConfigSave, models.AuditBan, models.AuditConfigUndo} {
			if err := audit.Record(ctx, models.AuditEntry{At: 1, Actor: "a", Action: a, Result: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		last, err := s.LastAuditID(ctx)
		if err != nil || last == 0 {
			t.Fatalf("last audit id %d, %v", last, err)
		}
		entries, err := s.AuditAfter(ctx, 0, []models.AuditAction{models.AuditConfigSave, models.AuditConfigUndo}, 10)
		if err != nil || len(entries) != 2 || entries[1].Action != models.AuditConfigUndo {
			t.Fatalf("audit after = %+v, %v", entries, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
}
