package repo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

func TestTokenStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		users := NewUserStore(db)
		alice, err := users.Create(ctx, models.User{Name: "alice", PasswordHash: "h", Role: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := users.Create(ctx, models.User{Name: "bob", PasswordHash: "h", Role: "viewer"})
		if err != nil {
			t.Fatal(err)
		}
		st := NewTokenStore(db)
		clock := time.Unix(1_800_000_000, 0)
		st.now = func() time.Time { return clock }
		exp := clock.Add(30 * 24 * time.Hour).Unix()
		a1, err := st.Create(ctx, models.APIToken{UserID: alice, Name: "cron", Scope: models.ScopeAdmin, Hash: "h-a1", ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
		b1, err := st.Create(ctx, models.APIToken{UserID: bob, Name: "grafana", Scope: models.ScopeRead, Hash: "h-b1"})
		if err != nil || b1 == a1 {
			t.Fatalf("second token: %d (first %d), %v", b1, a1, err)
		}
		if _, err := st.Create(ctx, models.APIToken{UserID: bob, Name: "dup", Scope: models.ScopeRead, Hash: "h-b1"}); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("same hash twice: %v, want ErrDuplicate", err)
		}

		o, err := st.ByHash(ctx, "h-a1")
		if err != nil {
			t.Fatal(err)
		}
		if o.Token.ID != a1 || o.UserName != "alice" || o.UserRole != models.RoleOperator || o.Disabled ||
			o.Token.ExpiresAt == nil || *o.Token.ExpiresAt != exp || o.Token.CreatedAt != 1_800_000_000 {
			t.Fatalf("by hash: %+v", o)
		}
		// An admin-scoped token of an operator acts as an operator.
		if id := o.Identity(); id.Role != models.RoleOperator || id.TokenID != a1 || id.UserID != alice || id.Name != "alice" {
			t.Fatalf("identity: %+v", id)
		}
		if _, err := st.ByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}

		if err := st.MarkUsed(ctx, b1, 1_800_000_100); err != nil {
			t.Fatal(err)
		}
		mine, err := st.List(ctx, bob)
		if err != nil || len(mine) != 1 || mine[0].ID != b1 || mine[0].UserName != "bob" ||
			mine[0].LastUsedAt == nil || *mine[0].LastUsedAt != 1_800_000_100 || mine[0].ExpiresAt != nil {
			t.Fatalf("bob's tokens: %+v, %v", mine, err)
		}
		all, err := st.List(ctx, 0)
		if err != nil || len(all) != 2 || all[0].ID != b1 || all[1].ID != a1 {
			t.Fatalf("every token, newest first: %+v, %v", all, err)
		}

		// Bob cannot revoke Alice's token; anyone (userID 0: an admin) can.
		if _, err := st.Revoke(ctx, a1, bob); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke someone else's token: %v", err)
		}
		clock = clock.Add(time.Minute)
		tok, err := st.Revoke(ctx, a1, 0)
		if err != nil || tok.RevokedAt == nil || *tok.RevokedAt != clock.Unix() {
			t.Fatalf("revoke: %+v, %v", tok, err)
		}
		clock = clock.Add(time.Minute)
		if tok, err := st.Revoke(ctx, a1, alice); err != nil || *tok.RevokedAt != clock.Add(-time.Minute).Unix() {
			t.Fatalf("revoke again keeps the first time: %+v, %v", tok, err)
		}
		if o, _ := st.ByHash(ctx, "h-a1"); !o.Token.Revoked() || o.Token.Usable(clock.Unix()) {
			t.Fatalf("revoked token still usable: %+v", o.Token)
		}
		if o, _ := st.ByHash(ctx, "h-b1"); !o.Token.Usable(clock.Unix()) {
			t.Fatalf("bob's token not usable: %+v", o.Token)
		}

		// Deleting a user deletes their tokens.
		if err := users.Delete(ctx, bob); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ByHash(ctx, "h-b1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token of a deleted user: %v", err)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	exp := int64(1000)
	tok := models.APIToken{ExpiresAt: &exp}
	if tok.Expired(999) || !tok.Expired(1000) || tok.Usable(1000) {
		t.Fatalf("expiry at 1000: expired(999)=%v expired(1000)=%v", tok.Expired(999), tok.Expired(1000))
	}
	if (models.APIToken{}).Expired(1 << 40) {
		t.Fatal("a token without expiry expired")
	}
}
