package repo

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

func TestPasskeyStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		users := NewUserStore(db)
		alice, err := users.Create(ctx, models.User{Name: "alice", PasswordHash: "h", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := users.Create(ctx, models.User{Name: "bob", PasswordHash: "h", Role: "viewer"})
		if err != nil {
			t.Fatal(err)
		}
		st := NewPasskeyStore(db)

		// The user handle is made once, random and full length, and leads back.
		h1, err := st.UserHandle(ctx, alice)
		if err != nil || len(h1) != userHandleBytes {
			t.Fatalf("handle: %x, %v", h1, err)
		}
		if h2, err := st.UserHandle(ctx, alice); err != nil || !bytes.Equal(h1, h2) {
			t.Fatalf("second handle %x differs from %x (%v)", h2, h1, err)
		}
		hb, _ := st.UserHandle(ctx, bob)
		if bytes.Equal(hb, h1) {
			t.Fatal("two accounts share a handle")
		}
		if id, err := st.UserOfHandle(ctx, h1); err != nil || id != alice {
			t.Fatalf("user of alice's handle: %d, %v", id, err)
		}
		if _, err := st.UserOfHandle(ctx, []byte("nobody")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown handle: %v", err)
		}

		key := models.Passkey{UserID: alice, RPID: "panel.example", CredentialID: []byte{1, 2, 3}, PublicKey: []byte{9},
			AAGUID: make([]byte, 16), Transports: "internal,hybrid", Flags: 0x45, Name: "Laptop"}
		id, err := st.Add(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var de *DuplicateError
		if _, err := st.Add(ctx, models.Passkey{UserID: bob, RPID: "panel.example", CredentialID: []byte{1, 2, 3},
			PublicKey: []byte{8}, AAGUID: []byte{}, Name: "copy"}); !errors.As(err, &de) || de.Column != "credential_id" {
			t.Fatalf("same credential twice: %v", err)
		}
		if _, err := st.Add(ctx, models.Passkey{UserID: alice, RPID: "other.example", CredentialID: []byte{4},
			PublicKey: []byte{7}, AAGUID: []byte{}, Name: "Phone"}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.Count(ctx, alice); n != 2 || err != nil {
			t.Fatalf("count: %d, %v", n, err)
		}
		if n, err := st.Count(ctx, bob); n != 0 || err != nil {
			t.Fatalf("bob's count: %d, %v", n, err)
		}
		list, err := st.List(ctx, alice)
		if err != nil || len(list) != 2 || list[0].Name != "Laptop" || list[1].Name != "Phone" {
			t.Fatalf("list: %+v, %v", list, err)
		}
		got := list[0]
		if got.ID != id || !bytes.Equal(got.CredentialID, []byte{1, 2, 3}) || got.Transports != "internal,hybrid" ||
			got.Flags != 0x45 || got.CreatedAt == 0 || got.LastUsedAt != 0 || len(got.AAGUID) != 16 {
			t.Fatalf("stored passkey: %+v", got)
		}

		got.SignCount, got.Flags, got.CloneWarning = 7, 0x05, true
		if err := st.RecordUse(ctx, got); err != nil {
			t.Fatal(err)
		}
		list, _ = st.List(ctx, alice)
		if p := list[0]; p.SignCount != 7 || p.Flags != 0x05 || !p.CloneWarning || p.LastUsedAt == 0 {
			t.Fatalf("after use: %+v", p)
		}
		if err := st.RecordUse(ctx, models.Passkey{ID: 9999}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("use of an unknown passkey: %v", err)
		}

		// Only the owner can delete a passkey.
		if _, err := st.Delete(ctx, bob, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob deletes alice's passkey: %v", err)
		}
		if name, err := st.Delete(ctx, alice, id); err != nil || name != "Laptop" {
			t.Fatalf("delete: %q, %v", name, err)
		}
		if _, err := st.Delete(ctx, alice, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}

		// Deleting the account deletes its passkeys and handle.
		if err := users.Delete(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if list, err := st.List(ctx, alice); err != nil || len(list) != 0 {
			t.Fatalf("passkeys of a deleted account: %+v, %v", list, err)
		}
		if _, err := st.UserOfHandle(ctx, h1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("handle of a deleted account: %v", err)
		}
	})
}
