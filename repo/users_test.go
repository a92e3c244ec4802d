package repo

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

func TestUserStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewUserStore(db)
		alice, err := st.Create(ctx, models.User{Name: "Alice", PasswordHash: "h1", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := st.Create(ctx, models.User{Name: "bob", PasswordHash: "h2", Role: "viewer"})
		if err != nil || bob == alice {
			t.Fatalf("second user: id %d (alice %d), %v", bob, alice, err)
		}
		var de *DuplicateError
		if _, err := st.Create(ctx, models.User{Name: "ALICE", PasswordHash: "x", Role: "viewer"}); !errors.As(err, &de) || de.Column != "name" {
			t.Fatalf("name taken in other case: %v, want a duplicate name", err)
		}
		u, err := st.ByName(ctx, "alice")
		if err != nil || u.ID != alice || u.Identity().Role != models.RoleAdmin || u.Name != "Alice" {
			t.Fatalf("by name: %+v, %v", u, err)
		}
		if n, err := st.CountActiveAdmins(ctx); n != 1 || err != nil {
			t.Fatalf("admins: %d, %v", n, err)
		}
		if err := st.SetRole(ctx, bob, models.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := st.SetDisabled(ctx, alice, true); err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountActiveAdmins(ctx); n != 1 || err != nil {
			t.Fatalf("admins after disabling alice and promoting bob: %d, %v", n, err)
		}
		if err := st.SetPasswordHash(ctx, bob, "h3"); err != nil {
			t.Fatal(err)
		}
		if u, _ := st.Get(ctx, bob); u.PasswordHash != "h3" || u.Role != "admin" {
			t.Fatalf("bob after changes: %+v", u)
		}
		if err := st.Delete(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Get(ctx, alice); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted user: %v", err)
		}
		if err := st.SetRole(ctx, alice, models.RoleViewer); !errors.Is(err, ErrNotFound) {
			t.Fatalf("role of a deleted user: %v", err)
		}
		if l, err := st.List(ctx); err != nil || len(l) != 1 || l[0].Name != "bob" {
			t.Fatalf("list: %+v, %v", l, err)
		}
	})
}
