package services

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"bangui/models"
	"bangui/repo"
)

func openAccounts(t *testing.T) *Accounts {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewAccounts(repo.NewUserStore(db), repo.NewSessionStore(db), repo.NewSettingsStore(db))
}

// TestAuthenticate: the right password of an enabled account logs in, in
// any case of the name; a wrong password, an unknown name or a disabled
// account do not, and an unknown name is checked against a hash of the
// same cost as a real one (so it takes as long).
func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	a := openAccounts(t)
	u, err := a.Add(ctx, NewUser{Name: "Ada", Password: "Sturdy-Passw0rd", Confirm: "Sturdy-Passw0rd", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := a.Authenticate(ctx, " ada ", "Sturdy-Passw0rd"); !ok || err != nil || got.ID != u.ID || got.RoleOf() != models.RoleOperator {
		t.Fatalf("right password: %+v %v %v", got, ok, err)
	}
	for _, c := range []struct{ name, pw string }{{"ada", "wrong-Passw0rd"}, {"bob", "Sturdy-Passw0rd"}, {"", ""}} {
		if _, ok, err := a.Authenticate(ctx, c.name, c.pw); ok || err != nil {
			t.Errorf("%q/%q logged in: %v %v", c.name, c.pw, ok, err)
		}
	}
	if _, err := a.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Authenticate(ctx, "ada", "Sturdy-Passw0rd"); ok {
		t.Error("a disabled account logged in")
	}
	stored, _ := a.users.Get(ctx, u.ID)
	real, _ := bcrypt.Cost([]byte(stored.PasswordHash))
	dummy, err := bcrypt.Cost([]byte(noAccountHash))
	if err != nil || dummy != real || real != BcryptCost {
		t.Fatalf("cost of the unknown-name hash %d (%v), of a real one %d, want both %d", dummy, err, real, BcryptCost)
	}
}

// TestAddRefusesBadInput: each rule of the add form has its message.
func TestAddRefusesBadInput(t *testing.T) {
	a := openAccounts(t)
	_, err := a.Add(context.Background(), NewUser{Name: "a b", Password: "short", Confirm: "other", Role: "root"})
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("bad input: %v", err)
	}
	for _, f := range []string{models.AccountFieldUsername, models.AccountFieldPassword, models.AccountFieldConfirm, models.AccountFieldRole} {
		if len(verr.Fields[f]) == 0 {
			t.Errorf("no message for %s", f)
		}
	}
}

// TestAccountThrottleLetsAFewFailuresPass: an account name is slowed only
// after AccountFreeFailures failures in a row, then as a client is.
func TestAccountThrottleLetsAFewFailuresPass(t *testing.T) {
	th := NewAccountThrottle()
	now := time.Now()
	for i := 1; i <= AccountFreeFailures; i++ {
		if d := th.Fail("ada", now); d != 0 {
			t.Fatalf("failure %d: wait %s, want none", i, d)
		}
	}
	if d := th.Fail("ada", now); d != LoginDelay(1) {
		t.Fatalf("failure %d: wait %s, want %s", AccountFreeFailures+1, d, LoginDelay(1))
	}
	if th.Wait("ada", now) == 0 || th.Wait("bob", now) != 0 {
		t.Fatal("the wait is not per account")
	}
	th.Reset("ada")
	if th.Wait("ada", now) != 0 {
		t.Fatal("reset kept the wait")
	}
}
