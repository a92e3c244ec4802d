package repo

import (
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"bangui/internal/pgtest"
	"bangui/repo/migrations"
)

// TestMain stops the private PostgreSQL cluster that the tests of the
// second dialect start (see internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// dialects are the databases Open supports; the store tests run against
// each. open returns an empty, migrated database of the dialect, closed
// when t ends. Without PostgreSQL its subtests skip (fail under CI=true).
var dialects = []struct {
	name string
	open func(t testing.TB) *bun.DB
}{
	{"sqlite", openTestDB},
	{"postgres", openTestPG},
}

// forEachDialect runs test against an empty database of every dialect.
func forEachDialect(t *testing.T, test func(t *testing.T, db *bun.DB)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { test(t, d.open(t)) })
	}
}

// openTestPG opens BanGUI's own database on a fresh PostgreSQL database, a
// copy of one that Open migrated once per test binary.
func openTestPG(t testing.TB) *bun.DB {
	t.Helper()
	u := pgtest.URLFrom(t, "bangui_migrated", func(u string) error {
		db, err := Open(context.Background(), Options{URL: u})
		if err != nil {
			return err
		}
		return db.Close()
	})
	db, err := Open(context.Background(), Options{DataDir: t.TempDir(), URL: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDialectsHaveTheSameMigrations checks that every migration exists for
// every dialect under the same name, so that the names recorded as applied
// are the same whichever database a panel uses.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	names := map[dialect.Name][]string{}
	for _, d := range []dialect.Name{dialect.SQLite, dialect.PG} {
		ms, err := migrations.For(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms.Sorted() {
			names[d] = append(names[d], m.Name+" "+m.Comment)
		}
	}
	if !slices.Equal(names[dialect.SQLite], names[dialect.PG]) {
		t.Errorf("migrations differ:\nsqlite:   %v\npostgres: %v", names[dialect.SQLite], names[dialect.PG])
	}
	files := func(dir string) []string {
		out, err := fs.Glob(migrations.Files, dir+"/*")
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			out[i] = out[i][len(dir)+1:]
		}
		return out
	}
	if a, b := files("sqlite"), files("postgres"); !slices.Equal(a, b) {
		t.Errorf("migration files differ:\nsqlite:   %v\npostgres: %v", a, b)
	}
}

// TestOpenPostgresMigratesIdempotently opens a PostgreSQL database twice:
// the second Open applies nothing, and every migration is recorded.
func TestOpenPostgresMigratesIdempotently(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	for range 2 {
		db, err := Open(ctx, Options{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if name := db.Dialect().Name(); name != dialect.PG {
			t.Fatalf("dialect %s", name)
		}
		var applied int
		if err := db.NewSelect().Table("bun_migrations").ColumnExpr("count(*)").Scan(ctx, &applied); err != nil {
			t.Fatal(err)
		}
		ms, _ := migrations.For(dialect.PG)
		if applied != len(ms.Sorted()) {
			t.Errorf("%d migrations recorded, want %d", applied, len(ms.Sorted()))
		}
		db.Close()
	}
}

// migrateBefore applies to db the migrations of its dialect d that come
// before the one named first (a release before it, for upgrade tests).
func migrateBefore(t *testing.T, db *bun.DB, d dialect.Name, first string) {
	t.Helper()
	all, err := migrations.For(d)
	if err != nil {
		t.Fatal(err)
	}
	before := migrate.NewMigrations()
	for _, m := range all.Sorted() {
		if m.Name >= first {
			break
		}
		before.Add(m)
	}
	m := migrate.NewMigrator(db, before, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}
