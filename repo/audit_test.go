package repo

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

func TestAuditStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewAuditStore(db)
		entries := []models.AuditEntry{
			{At: 100, Actor: "Alice", UserID: 1, Role: models.RoleAdmin, Client: "192.0.2.1", Action: models.AuditBan,
				Host: "local", Jail: "sshd", Target: "203.0.113.7, 198.51.100.0/24", Result: "ok"},
			{At: 200, Actor: "bob", UserID: 2, Token: 9, Role: models.RoleOperator, Client: "192.0.2.2", Action: models.AuditUnban,
				Host: "web1", Jail: "sshd", Target: "203.0.113.70", Result: "fail2ban is not answering"},
			{At: 300, Actor: "alice", UserID: 1, Role: models.RoleAdmin, Client: "192.0.2.1", Action: models.AuditConfigSave,
				Host: "local", File: "jail.d/sshd.local", Detail: "jail sshd", Result: "ok"},
			{At: 300, Actor: "carol", UserID: 3, Role: models.RoleViewer, Action: models.AuditLogout, Result: "ok"},
			{At: 50, Actor: "dave", UserID: 4, Role: models.RoleOperator, Action: models.AuditUnbanAll, Host: "local,web2", Result: "ok"},
		}
		for _, e := range entries {
			if err := st.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		all, total, err := st.List(ctx, models.AuditFilter{}, models.Page{Number: 1, Size: 10})
		if err != nil || total != 5 || len(all) != 5 {
			t.Fatalf("list: %d of %d, %v", len(all), total, err)
		}
		// Newest first; equal times by id, the later written first.
		if all[0].Actor != "carol" || all[1].Action != models.AuditConfigSave || all[3].Actor != "Alice" || all[4].Actor != "dave" {
			t.Fatalf("order: %+v", all)
		}
		got := all[2]
		want := entries[1]
		want.ID = got.ID
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}

		cases := []struct {
			name string
			f    models.AuditFilter
			want []string // actors, newest first
		}{
			{"actor ignores case", models.AuditFilter{Actor: "ALICE"}, []string{"alice", "Alice"}},
			{"user id", models.AuditFilter{UserID: 2}, []string{"bob"}},
			{"action", models.AuditFilter{Action: models.AuditBan}, []string{"Alice"}},
			{"host", models.AuditFilter{Host: "web1"}, []string{"bob"}},
			{"one of the hosts", models.AuditFilter{Host: "web2"}, []string{"dave"}},
			{"jail", models.AuditFilter{Jail: "sshd"}, []string{"bob", "Alice"}},
			{"file", models.AuditFilter{File: "jail.d/sshd.local"}, []string{"alice"}},
			{"one of the targets", models.AuditFilter{Target: "198.51.100.0/24"}, []string{"Alice"}},
			{"a target exactly, not a prefix", models.AuditFilter{Target: "203.0.113.7"}, []string{"Alice"}},
			{"wildcards are literal", models.AuditFilter{Target: "203.0.113.7_"}, nil},
			{"time range", models.AuditFilter{From: 200, To: 300}, []string{"bob"}},
			{"from", models.AuditFilter{From: 300}, []string{"carol", "alice"}},
			{"combined", models.AuditFilter{Actor: "alice", Host: "local", To: 200}, []string{"Alice"}},
		}
		for _, c := range cases {
			list, n, err := st.List(ctx, c.f, models.Page{Number: 1, Size: 10})
			var actors []string
			for _, e := range list {
				actors = append(actors, e.Actor)
			}
			if err != nil || !reflect.DeepEqual(actors, c.want) || n != int64(len(c.want)) {
				t.Errorf("%s: %v (total %d), %v; want %v", c.name, actors, n, err, c.want)
			}
			if cnt, err := st.Count(ctx, c.f); err != nil || cnt != int64(len(c.want)) {
				t.Errorf("%s: count %d, %v", c.name, cnt, err)
			}
		}

		page2, total, err := st.List(ctx, models.AuditFilter{}, models.Page{Number: 2, Size: 3})
		if err != nil || total != 5 || len(page2) != 2 || page2[0].Actor != "Alice" {
			t.Fatalf("page 2: %+v of %d, %v", page2, total, err)
		}

		// The table refuses updates, whoever sends them.
		if _, err := db.NewUpdate().Model((*auditRow)(nil)).Set("result = ?", "forged").Where("1 = 1").Exec(ctx); err == nil {
			t.Fatal("an UPDATE of the audit log succeeded")
		}
		if n, _ := st.Count(ctx, models.AuditFilter{}); n != 5 {
			t.Fatalf("after the refused update: %d entries", n)
		}

		// Text a request sent is stored whatever its bytes, and found again.
		odd := "192.0.2.1\x00\xff"
		if err := st.Record(ctx, models.AuditEntry{At: 400, Actor: "eve\x00", Action: models.AuditBan, Target: odd, Result: "ok"}); err != nil {
			t.Fatalf("entry with NUL and bad UTF-8: %v", err)
		}
		if l, _, err := st.List(ctx, models.AuditFilter{Target: odd, Actor: "eve\x00"}, models.Page{Number: 1, Size: 5}); err != nil || len(l) != 1 ||
			l[0].Target != "192.0.2.1\uFFFD\uFFFD" {
			t.Fatalf("found again: %+v, %v", l, err)
		}
		if _, err := db.NewDelete().Model((*auditRow)(nil)).Where("at = 400").Exec(ctx); err != nil {
			t.Fatal(err)
		}

		n, err := st.DeleteOlderThan(ctx, 200)
		if err != nil || n != 2 {
			t.Fatalf("retention: %d, %v", n, err)
		}
		if n, _ := st.Count(ctx, models.AuditFilter{}); n != 3 {
			t.Fatalf("after retention: %d entries", n)
		}
	})
}

// TestAuditStoreEachReadsInBatches exports more entries than one batch,
// with equal times across the batch boundary, each exactly once.
func TestAuditStoreEachReadsInBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewAuditStore(db)
		const n = auditBatch*2 + 7
		rows := make([]auditRow, n)
		for i := range rows {
			rows[i] = rowOfEntry(models.AuditEntry{At: int64(1000 + i/3), Actor: "a", Action: models.AuditBan, Result: "ok"})
		}
		if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		var prev models.AuditEntry
		err := st.Each(ctx, models.AuditFilter{Actor: "a"}, func(e models.AuditEntry) error {
			if seen[e.ID] {
				t.Fatalf("entry %d twice", e.ID)
			}
			if prev.ID != 0 && (e.At > prev.At || e.At == prev.At && e.ID > prev.ID) {
				t.Fatalf("entry %d after %d: not newest first", e.ID, prev.ID)
			}
			seen[e.ID], prev = true, e
			return nil
		})
		if err != nil || len(seen) != n {
			t.Fatalf("each: %d entries, %v", len(seen), err)
		}
		stop := errors.New("stop")
		calls := 0
		if err := st.Each(ctx, models.AuditFilter{}, func(models.AuditEntry) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("each stops at the first error: %v after %d calls", err, calls)
		}
	})
}
