package repo

import (
	"bytes"
	"context"
	"github.com/uptrace/bun"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSessionStoreSecretsAndExpiry: the store keeps no token in any file of
// the data dir (database or -wal); the stored hash does not work as a token;
// a session is found until its expiry by the store's clock and not after,
// and deleting it forgets it at once.
func TestSessionStoreSecretsAndExpiry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := NewSessionStore(db)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st.now = func() time.Time { return now }

	const token = "tok-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
	if err := st.CommitCtx(ctx, token, []byte("session-data"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var files []string
	var all []byte
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
			files = append(files, filepath.Base(p))
		}
		return nil
	})
	if !bytes.Contains(all, []byte("session-data")) {
		t.Fatalf("the session data is not in %v: the test is not reading where the store writes", files)
	}
	if bytes.Contains(all, []byte(token)) {
		t.Fatalf("the token is stored in the clear in %v", files)
	}
	if _, found, err := st.FindCtx(ctx, hashToken(token)); err != nil || found {
		t.Fatalf("the stored hash works as a token: found %v, err %v", found, err)
	}

	checkSessionExpiry(t, st, token, &now)
}

// TestSessionStoreExpiryOnEveryDialect runs the session store's expiry and
// deletion checks on every dialect.
func TestSessionStoreExpiryOnEveryDialect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		st := NewSessionStore(db)
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		st.now = func() time.Time { return now }
		const token = "tok-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
		if err := st.Commit(token, []byte("session-data"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		checkSessionExpiry(t, st, token, &now)
	})
}

// checkSessionExpiry: a session committed with data "session-data" and an
// expiry an hour after *now is found until its expiry by the store's clock
// and not after, and deleting it forgets it at once.
func checkSessionExpiry(t *testing.T, st *SessionStore, token string, now *time.Time) {
	t.Helper()
	ctx := context.Background()
	if b, found, err := st.FindCtx(ctx, token); err != nil || !found || string(b) != "session-data" {
		t.Fatalf("live session: %q %v %v", b, found, err)
	}
	*now = now.Add(time.Hour - time.Second)
	if _, found, _ := st.FindCtx(ctx, token); !found {
		t.Fatal("session lost a second before its expiry")
	}
	*now = now.Add(time.Second)
	if _, found, _ := st.FindCtx(ctx, token); found {
		t.Fatal("session found at its expiry")
	}

	if err := st.CommitCtx(ctx, token, []byte("again"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCtx(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := st.FindCtx(ctx, token); found {
		t.Fatal("deleted session found")
	}
}

// TestDatabaseFilesOwnerOnly: the database and its WAL files are readable
// by their owner only, also when an older file was world-readable.
func TestDatabaseFilesOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DBFileName)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	db, err := Open(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "INSERT INTO settings (key, value) VALUES ('x', 'y')"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DBFileName, DBFileName + "-wal", DBFileName + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group or other access", name, fi.Mode().Perm())
		}
	}
}
