package repo

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"bangui/models"
	"bangui/repo/migrations"
)

func TestOpenMigratesIdempotentlyWithPragmas(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, Options{DataDir: dir}) // second start: nothing to apply, no error
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	var fk, busy int
	db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
	db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
	if fk != 1 || busy != 5000 {
		t.Fatalf("foreign_keys=%d busy_timeout=%d", fk, busy)
	}
	for _, table := range []string{"settings", "sessions", "blocklist_sources", "import_log", "import_runs", "geo_cache", "history_archive"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	var applied int
	db.QueryRowContext(ctx, "SELECT count(*) FROM bun_migrations").Scan(&applied)
	ms, err := migrations.For(dialect.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(ms.Sorted()); applied != want || want == 0 {
		t.Fatalf("%d migrations recorded after two starts, want %d", applied, want)
	}
}

func TestSessionStoreKeepsOnlyTokenHashes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewSessionStore(db)
		now := time.Now()
		if err := st.CommitCtx(ctx, "live-token", []byte("data1"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.CommitCtx(ctx, "live-token", []byte("data2"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.CommitCtx(ctx, "old-token", []byte("x"), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		b, found, err := st.FindCtx(ctx, "live-token")
		if err != nil || !found || string(b) != "data2" {
			t.Fatalf("find live: %q %v %v", b, found, err)
		}
		if _, found, _ := st.FindCtx(ctx, "old-token"); found {
			t.Fatal("expired session found")
		}
		var tokens []string
		db.NewSelect().Model((*models.Session)(nil)).Column("token").Scan(ctx, &tokens)
		for _, tok := range tokens {
			if strings.Contains(tok, "token") || len(tok) != 64 {
				t.Fatalf("stored token %q is not a SHA-256 hex digest", tok)
			}
		}
		n, err := st.DeleteExpired(ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpired = %d, %v", n, err)
		}
		if err := st.DeleteCtx(ctx, "live-token"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := st.FindCtx(ctx, "live-token"); found {
			t.Fatal("deleted session found")
		}
	})
}

func TestSettingsStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewSettingsStore(db)
		if _, err := st.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
		if err := st.SetMany(ctx, map[string]string{"a": "1", "b": "2"}); err != nil {
			t.Fatal(err)
		}
		if err := st.Set(ctx, "a", "3"); err != nil {
			t.Fatal(err)
		}
		all, err := st.All(ctx)
		if err != nil || all["a"] != "3" || all["b"] != "2" || len(all) != 2 {
			t.Fatalf("All = %v, %v", all, err)
		}
		if err := st.Delete(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Get(ctx, "b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted key: %v", err)
		}
	})
}

// queryPlan returns the detail lines of SQLite's EXPLAIN QUERY PLAN for q.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// openTestDB opens BanGUI's own database in a temporary data dir.
func openTestDB(t testing.TB) *bun.DB {
	t.Helper()
	db, err := Open(context.Background(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOpenPicksTheDialect checks the database URLs Open understands: SQLite
// in the data dir by default, PostgreSQL for postgres:// URLs (a server
// that does not answer is ErrUnavailable), and anything else refused, all
// without echoing a password.
func TestOpenPicksTheDialect(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"", "sqlite:", "SQLite:", "sqlite://"} {
		dir := t.TempDir()
		db, err := Open(ctx, Options{DataDir: dir, URL: u})
		if err != nil {
			t.Fatalf("URL %q: %v", u, err)
		}
		if name := db.Dialect().Name(); name != dialect.SQLite {
			t.Errorf("URL %q: dialect %s", u, name)
		}
		db.Close()
		if _, err := os.Stat(filepath.Join(dir, DBFileName)); err != nil {
			t.Errorf("URL %q: no database file in the data dir: %v", u, err)
		}
	}
	for u, want := range map[string]string{
		"postgres://bangui:s3cret@127.0.0.1:1/bangui?connect_timeout=5":   "database \"bangui\" on 127.0.0.1",
		"postgresql://bangui:s3cret@127.0.0.1:1/bangui?connect_timeout=5": "database \"bangui\" on 127.0.0.1",
		"postgres://bangui:s3cret@db:port/bangui":                         "cannot parse",
		"mysql://bangui:s3cret@db/bangui":                                 `unknown scheme "mysql"`,
		"sqlite:/var/lib/other.db":                                        "lives in the data dir",
		"bangui.db":                                                       "without a scheme",
	} {
		dir := t.TempDir()
		db, err := Open(ctx, Options{DataDir: dir, URL: u})
		if err == nil {
			db.Close()
			t.Errorf("URL %q opened", u)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("URL %q: %v, want %q and no password", u, err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, DBFileName)); err == nil {
			t.Errorf("URL %q: a SQLite file was created", u)
		}
		if strings.Contains(u, "127.0.0.1:1/") && !errors.Is(err, ErrUnavailable) {
			t.Errorf("URL %q: %v, want ErrUnavailable", u, err)
		}
	}
}

// TestSetManyOnceStoresOnce runs SetManyOnce from many goroutines at once
// on every dialect: exactly one stores its values.
func TestSetManyOnceStoresOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewSettingsStore(db)
		const n = 8
		results := make(chan string, n)
		for i := range n {
			go func() {
				v := strconv.Itoa(i)
				stored, err := st.SetManyOnce(ctx, "done", map[string]string{"done": "1", "winner": v})
				switch {
				case err != nil:
					results <- "error: " + err.Error()
				case stored:
					results <- v
				default:
					results <- ""
				}
			}()
		}
		var winners []string
		for range n {
			if r := <-results; r != "" {
				winners = append(winners, r)
			}
		}
		if len(winners) != 1 || strings.HasPrefix(winners[0], "error") {
			t.Fatalf("stored by %q, want exactly one", winners)
		}
		if got, _ := st.Get(ctx, "winner"); got != winners[0] {
			t.Fatalf("winner %q stored, but %q said it stored", got, winners[0])
		}
	})
}
