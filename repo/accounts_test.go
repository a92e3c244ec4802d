package repo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"bangui/internal/pgtest"
	"bangui/models"
)

// TestUserStoreKeepsAnAdmin: the last enabled admin cannot be demoted,
// disabled or removed, also when two admins demote each other at once.
func TestUserStoreKeepsAnAdmin(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewUserStore(db)
		a, _ := st.Create(ctx, models.User{Name: "a", PasswordHash: "h", Role: "admin"})
		b, _ := st.Create(ctx, models.User{Name: "b", PasswordHash: "h", Role: "admin"})
		demote := func(u *models.User) error { u.Role = models.RoleViewer.String(); return nil }
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []int64{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _, errs[i] = st.Edit(ctx, id, demote) }()
		}
		wg.Wait()
		if n, _ := st.CountActiveAdmins(ctx); n != 1 {
			t.Fatalf("after two concurrent demotions: %d admins (%v), want 1", n, errs)
		}
		last := a
		if errs[0] == nil {
			last = b
		}
		if !errors.Is(errs[0], ErrLastAdmin) && !errors.Is(errs[1], ErrLastAdmin) {
			t.Fatalf("neither demotion was refused: %v", errs)
		}
		if _, _, err := st.Edit(ctx, last, func(u *models.User) error { u.Disabled = true; return nil }); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("disable the last admin: %v", err)
		}
		if _, err := st.Remove(ctx, last); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("remove the last admin: %v", err)
		}
		if u, _ := st.Get(ctx, last); u.Disabled || u.RoleOf() != models.RoleAdmin {
			t.Fatalf("a refused change was stored: %+v", u)
		}
		other := a + b - last
		if _, err := st.Remove(ctx, other); err != nil {
			t.Fatalf("remove a viewer: %v", err)
		}
		if _, err := st.Remove(ctx, other); !errors.Is(err, ErrNotFound) {
			t.Fatalf("remove twice: %v", err)
		}
	})
}

// TestAdoptMasterPasswordUpgrade: a database from before accounts, set up
// with a master password, gets the account admin with that hash, once,
// also when two panel processes start at once.
func TestAdoptMasterPasswordUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, d := range []dialect.Name{dialect.SQLite, dialect.PG} {
		t.Run(d.String(), func(t *testing.T) {
			var old *bun.DB
			var err error
			dir, u := t.TempDir(), ""
			if d == dialect.PG {
				u = pgtest.URL(t)
				old, err = openPostgres(ctx, u)
			} else {
				old, err = openSQLite(ctx, dir)
			}
			if err != nil {
				t.Fatal(err)
			}
			migrateBefore(t, old, d, "20261209100000")
			if _, err := old.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('setup_completed', '1'), ('master_password_hash', 'HASH')`); err != nil {
				t.Fatal(err)
			}
			old.Close()
			db, err := Open(ctx, Options{DataDir: dir, URL: u})
			if err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			defer db.Close()
			st := NewUserStore(db)
			var wg sync.WaitGroup
			created := make([]bool, 4)
			errs := make([]error, 4)
			for i := range created {
				wg.Add(1)
				go func() { defer wg.Done(); _, created[i], errs[i] = st.AdoptMasterPassword(ctx) }()
			}
			wg.Wait()
			n := 0
			for i := range created {
				if errs[i] != nil {
					t.Fatalf("adopt %d: %v", i, errs[i])
				}
				if created[i] {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d adoptions created the account, want 1", n)
			}
			admin, err := st.ByName(ctx, "admin")
			if err != nil || admin.PasswordHash != "HASH" || admin.RoleOf() != models.RoleAdmin || admin.Disabled {
				t.Fatalf("account admin: %+v, %v", admin, err)
			}
			settings := NewSettingsStore(db)
			if _, err := settings.Get(ctx, models.SettingPasswordHash); !errors.Is(err, ErrNotFound) {
				t.Errorf("the master password hash is still in settings: %v", err)
			}
			if v, _ := settings.Get(ctx, models.SettingAdminNotice); v != "1" {
				t.Errorf("no notice for the login page")
			}
			if _, again, err := st.AdoptMasterPassword(ctx); again || err != nil {
				t.Fatalf("second run: created %v, %v", again, err)
			}
		})
	}
}

// TestAdoptFirstAdminOfSetup: setup's first admin keeps its name, and gets
// no notice.
func TestAdoptFirstAdminOfSetup(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		settings := NewSettingsStore(db)
		if err := settings.SetMany(ctx, map[string]string{models.SettingPasswordHash: "H", models.SettingFirstAdmin: "Root"}); err != nil {
			t.Fatal(err)
		}
		u, created, err := NewUserStore(db).AdoptMasterPassword(ctx)
		if err != nil || !created || u.Name != "Root" || u.ID == 0 {
			t.Fatalf("adopt: %+v %v %v", u, created, err)
		}
		if _, err := settings.Get(ctx, models.SettingAdminNotice); !errors.Is(err, ErrNotFound) {
			t.Errorf("a fresh setup got the upgrade notice: %v", err)
		}
		if _, err := settings.Get(ctx, models.SettingFirstAdmin); !errors.Is(err, ErrNotFound) {
			t.Errorf("the first admin's name stayed in settings: %v", err)
		}
	})
}

// TestSessionsOfUser: the store files sessions under the account in their
// data, lists a user's live ones and ends one or all of them.
func TestSessionsOfUser(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewSessionStore(db)
		exp := time.Now().Add(time.Hour)
		data := func(user int64) []byte {
			values := map[string]any{"csrf": "x"}
			if user != 0 {
				values[SessionUserKey] = user
			}
			b, err := scs.GobCodec{}.Encode(exp, values)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		for tok, user := range map[string]int64{"t1": 7, "t2": 7, "t3": 8, "t4": 0} {
			if err := st.CommitCtx(ctx, tok, data(user), exp); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CommitCtx(ctx, "t5", data(7), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		list, err := st.ListByUser(ctx, 7)
		if err != nil || len(list) != 2 {
			t.Fatalf("sessions of 7: %d, %v", len(list), err)
		}
		if ok, err := st.DeleteOfUser(ctx, 8, SessionID("t1")); ok || err != nil {
			t.Fatalf("user 8 ended user 7's session: %v %v", ok, err)
		}
		if ok, err := st.DeleteOfUser(ctx, 7, SessionID("t1")); !ok || err != nil {
			t.Fatalf("end own session: %v %v", ok, err)
		}
		if _, found, _ := st.FindCtx(ctx, "t1"); found {
			t.Fatal("an ended session is still found")
		}
		// Logging out (the user id leaves the data) unfiles the session.
		if err := st.CommitCtx(ctx, "t3", data(0), exp); err != nil {
			t.Fatal(err)
		}
		if list, _ := st.ListByUser(ctx, 8); len(list) != 0 {
			t.Fatalf("a logged-out session is listed: %d", len(list))
		}
		if err := st.CommitCtx(ctx, "t6", data(7), exp); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeleteAllOfUser(ctx, 7, SessionID("t6")); n != 2 || err != nil { // t2 and the expired t5
			t.Fatalf("end all but one: %d, %v", n, err)
		}
		if _, found, _ := st.FindCtx(ctx, "t6"); !found {
			t.Fatal("the kept session was ended")
		}
		if _, found, _ := st.FindCtx(ctx, "t4"); !found {
			t.Fatal("an anonymous session was ended")
		}
	})
}
