package repo

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TestAllowStoreOnEveryDialect saves, replaces, expires, deletes and
// restores allow-list entries on SQLite and PostgreSQL alike.
func TestAllowStoreOnEveryDialect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := NewAllowStore(db)
		in := []models.AllowEntry{
			{Host: "local", Address: "192.0.2.1", Note: "office <b>", CreatedBy: "ann", CreatedAt: 100},
			{Host: "local", Address: "198.51.100.0/24", Jails: "sshd web", CreatedAt: 100, ExpiresAt: 500},
			{Host: "edge", Address: "monitor.example", CreatedAt: 100, ExpiresAt: 400},
		}
		if err := s.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
		if in[0].ID == 0 || in[1].ID == 0 || in[0].ID == in[1].ID {
			t.Fatalf("ids not set: %+v", in)
		}
		// The same address again replaces its row.
		again := []models.AllowEntry{{Host: "local", Address: "192.0.2.1", Jails: "sshd", Note: "moved", CreatedBy: "bob", CreatedAt: 200}}
		if err := s.Save(ctx, again); err != nil {
			t.Fatal(err)
		}
		got, err := s.List(ctx, "local")
		if err != nil || len(got) != 2 || got[0].Address != "192.0.2.1" || got[0].Note != "moved" || got[0].CreatedBy != "bob" ||
			got[0].ID != in[0].ID || !got[0].Covers("sshd") || got[0].Covers("web") || !got[1].Covers("web") {
			t.Fatalf("List = %+v, %v", got, err)
		}
		hosts, err := s.Expired(ctx, 450)
		if err != nil || len(hosts) != 1 || hosts[0] != "edge" {
			t.Fatalf("Expired(450) = %v, %v", hosts, err)
		}
		if hosts, _ := s.Expired(ctx, 500); len(hosts) != 2 {
			t.Fatalf("Expired(500) = %v", hosts)
		}
		n, err := s.Delete(ctx, "local", []int64{got[1].ID, in[2].ID})
		if err != nil || n != 1 {
			t.Fatalf("Delete = %d, %v (an id of another host must stay)", n, err)
		}
		if err := s.Restore(ctx, "local", got); err != nil {
			t.Fatal(err)
		}
		back, _ := s.List(ctx, "local")
		if len(back) != 2 || back[1] != got[1] {
			t.Fatalf("after Restore = %+v, want %+v", back, got)
		}
		if edge, _ := s.List(ctx, "edge"); len(edge) != 1 {
			t.Fatalf("edge entries = %+v", edge)
		}
	})
}
