package repo

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

// Chosen ban times are stored, replaced by a new choice for the same
// address and jail, read by address and deleted by jail or everywhere, on
// SQLite and on PostgreSQL; a batch larger than one statement is written
// whole.
func TestTimedBansStore(t *testing.T) {
	forEachDialect(t, testTimedBansStore)
}

func testTimedBansStore(t *testing.T, db *bun.DB) {
	ctx := context.Background()
	s := NewTimedBans(db)
	ban := func(host, jail, ip string, ends int64, by string) models.TimedBan {
		return models.TimedBan{Host: host, Jail: jail, IP: ip, EndsAt: ends, Seconds: 60, SetBy: by, Note: "<b>scanner</b>", CreatedAt: 1_800_000_000}
	}
	if err := s.Put(ctx, []models.TimedBan{
		ban("local", "sshd", "203.0.113.7", 1_800_000_600, "alice"),
		ban("local", "nginx", "203.0.113.7", 0, "alice"),
		ban("web2", "sshd", "203.0.113.7", 1_800_000_600, "bob"),
	}); err != nil {
		t.Fatal(err)
	}
	// A new choice for the same address and jail replaces the old one.
	if err := s.Put(ctx, []models.TimedBan{ban("local", "sshd", "203.0.113.7", 1_800_003_600, "carol")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.OfIPs(ctx, "local", []string{"203.0.113.7", "198.51.100.1"})
	if err != nil || len(got) != 2 {
		t.Fatalf("OfIPs = %+v, %v; want the nginx and sshd bans of local", got, err)
	}
	if got[0].Jail != "nginx" || !got[0].Permanent() || got[1].EndsAt != 1_800_003_600 || got[1].SetBy != "carol" || got[1].Note != "<b>scanner</b>" {
		t.Fatalf("OfIPs = %+v; want nginx permanent, sshd replaced by carol's choice", got)
	}
	if n, err := s.Delete(ctx, "local", "sshd", []string{"203.0.113.7"}); err != nil || n != 1 {
		t.Fatalf("Delete one jail = %d, %v; want 1", n, err)
	}
	if n, err := s.Delete(ctx, "local", "", nil); err != nil || n != 1 {
		t.Fatalf("Delete every jail = %d, %v; want 1 (nginx)", n, err)
	}
	all, err := s.All(ctx)
	if err != nil || len(all) != 1 || all[0].Host != "web2" {
		t.Fatalf("All = %+v, %v; want only web2's ban left", all, err)
	}

	// 1,200 rows: more than one statement, written and deleted whole.
	many := make([]models.TimedBan, 1200)
	ips := make([]string, len(many))
	for i := range many {
		ips[i] = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		many[i] = ban("local", "sshd", ips[i], 1_800_000_600, "alice")
	}
	if err := s.Put(ctx, many); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OfIPs(ctx, "local", ips); err != nil || len(got) != len(many) {
		t.Fatalf("OfIPs of 1,200 = %d, %v", len(got), err)
	}
	if n, err := s.Delete(ctx, "local", "sshd", ips); err != nil || n != int64(len(many)) {
		t.Fatalf("Delete of 1,200 = %d, %v", n, err)
	}
}
