package repo

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

func TestFactorStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		users := NewUserStore(db)
		st := NewFactorStore(db)
		alice, err := users.Create(ctx, models.User{Name: "alice", PasswordHash: "h", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.TOTP(ctx, alice); !errors.Is(err, ErrNotFound) {
			t.Fatalf("totp before enrolment: %v", err)
		}
		// An unconfirmed secret is replaced by a new start and accepts no code.
		if err := st.StartTOTP(ctx, alice, "FIRST"); err != nil {
			t.Fatal(err)
		}
		if err := st.StartTOTP(ctx, alice, "SECOND"); err != nil {
			t.Fatal(err)
		}
		if tt, err := st.TOTP(ctx, alice); err != nil || tt.Secret != "SECOND" || tt.Confirmed {
			t.Fatalf("pending totp: %+v, %v", tt, err)
		}
		if ok, err := st.UseTOTPStep(ctx, alice, 100); ok || err != nil {
			t.Fatalf("a code of an unconfirmed secret: %v, %v", ok, err)
		}
		if err := st.ConfirmTOTP(ctx, alice, 100); err != nil {
			t.Fatal(err)
		}
		if err := st.ConfirmTOTP(ctx, alice, 101); !errors.Is(err, ErrNotFound) {
			t.Fatalf("confirming twice: %v", err)
		}
		if err := st.StartTOTP(ctx, alice, "THIRD"); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("a new start over a confirmed secret: %v, want a duplicate", err)
		}
		if tt, err := st.TOTP(ctx, alice); err != nil || tt.Secret != "SECOND" || !tt.Confirmed || tt.LastStep != 100 || tt.ConfirmedAt == 0 {
			t.Fatalf("confirmed totp: %+v, %v", tt, err)
		}
		// Each step once, and never an earlier one.
		for _, c := range []struct {
			step int64
			ok   bool
		}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
			if ok, err := st.UseTOTPStep(ctx, alice, c.step); ok != c.ok || err != nil {
				t.Fatalf("step %d: %v, %v; want %v", c.step, ok, err, c.ok)
			}
		}

		if err := st.ReplaceRecoveryCodes(ctx, alice, []string{"h1", "h2", "h3"}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.RecoveryCodesLeft(ctx, alice); n != 3 || err != nil {
			t.Fatalf("codes left: %d, %v", n, err)
		}
		if ok, err := st.UseRecoveryCode(ctx, alice, "h2"); !ok || err != nil {
			t.Fatalf("first use: %v, %v", ok, err)
		}
		if ok, err := st.UseRecoveryCode(ctx, alice, "h2"); ok || err != nil {
			t.Fatalf("second use of the same code: %v, %v", ok, err)
		}
		if ok, err := st.UseRecoveryCode(ctx, alice, "nope"); ok || err != nil {
			t.Fatalf("unknown code: %v, %v", ok, err)
		}
		if n, _ := st.RecoveryCodesLeft(ctx, alice); n != 2 {
			t.Fatalf("codes left after one use: %d", n)
		}
		// New codes replace all old ones, used or not.
		if err := st.ReplaceRecoveryCodes(ctx, alice, []string{"h4", "h5"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.UseRecoveryCode(ctx, alice, "h1"); ok {
			t.Fatal("an old code still works after new ones were made")
		}
		if n, _ := st.RecoveryCodesLeft(ctx, alice); n != 2 {
			t.Fatalf("codes left after replacing: %d", n)
		}

		// Another user's codes and secret are their own.
		bob, err := users.Create(ctx, models.User{Name: "bob", PasswordHash: "h", Role: "viewer"})
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.UseRecoveryCode(ctx, bob, "h4"); ok {
			t.Fatal("bob spent alice's code")
		}
		if err := st.ReplaceRecoveryCodes(ctx, bob, []string{"h4"}); err != nil {
			t.Fatalf("bob may hold a code with the same hash: %v", err)
		}

		passkeys := NewPasskeyStore(db)
		if _, err := passkeys.Add(ctx, models.Passkey{UserID: alice, RPID: "panel.example", CredentialID: []byte{9},
			PublicKey: []byte{7}, AAGUID: []byte{}, Name: "Laptop"}); err != nil {
			t.Fatal(err)
		}
		if err := st.Reset(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if n, err := passkeys.Count(ctx, alice); n != 0 || err != nil {
			t.Fatalf("passkeys after reset: %d, %v", n, err)
		}
		if _, err := st.TOTP(ctx, alice); !errors.Is(err, ErrNotFound) {
			t.Fatalf("totp after reset: %v", err)
		}
		if n, _ := st.RecoveryCodesLeft(ctx, alice); n != 0 {
			t.Fatalf("codes left after reset: %d", n)
		}
		if n, _ := st.RecoveryCodesLeft(ctx, bob); n != 1 {
			t.Fatalf("bob's codes after alice's reset: %d", n)
		}

		// Factors go with their user.
		if err := st.StartTOTP(ctx, bob, "BOB"); err != nil {
			t.Fatal(err)
		}
		if err := users.Delete(ctx, bob); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TOTP(ctx, bob); !errors.Is(err, ErrNotFound) {
			t.Fatalf("totp of a deleted user: %v", err)
		}
		if n, _ := st.RecoveryCodesLeft(ctx, bob); n != 0 {
			t.Fatalf("codes of a deleted user: %d", n)
		}
		if err := st.DeleteTOTP(ctx, alice); err != nil {
			t.Fatalf("deleting no secret: %v", err)
		}
	})
}
