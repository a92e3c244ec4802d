// Package repo is BanGUI's storage layer: the repository interfaces the
// services depend on, their bun implementations, the migrations, the scs
// session store and the read-only reader of fail2ban's database. Open picks
// the database's dialect; the archive's hot queries live behind
// HistoryArchive, one implementation per dialect.
package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"bangui/repo/migrations"
)

// Options say where BanGUI's own database lives.
type Options struct {
	// DataDir is the panel's data dir; the SQLite database is a file in it.
	DataDir string
	// URL picks the database: empty or "sqlite:" for SQLite in DataDir;
	// a postgres:// or postgresql:// URL (as libpq reads it) for PostgreSQL.
	URL string
}

// Open opens (creating if needed) BanGUI's own database as opts say and
// applies every pending migration of its dialect.
func Open(ctx context.Context, opts Options) (*bun.DB, error) {
	d, err := dialectOf(opts.URL)
	if err != nil {
		return nil, err
	}
	var db *bun.DB
	switch d {
	case dialect.SQLite:
		db, err = openSQLite(ctx, opts.DataDir)
	case dialect.PG:
		db, err = openPostgres(ctx, opts.URL)
	}
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dialectOf returns the dialect a database URL names. Its errors never
// repeat the URL, which may hold a password.
func dialectOf(u string) (dialect.Name, error) {
	if u == "" {
		return dialect.SQLite, nil
	}
	_, rest, found := strings.Cut(u, ":")
	switch scheme := schemeOf(u); {
	case !found || scheme == "":
		return dialect.Invalid, errors.New("repo: database URL without a scheme (want sqlite: or postgres://)")
	case scheme == "sqlite" && (rest == "" || rest == "//"):
		return dialect.SQLite, nil
	case scheme == "sqlite":
		return dialect.Invalid, errors.New("repo: database URL sqlite:…: the SQLite database lives in the data dir; give sqlite: without a path")
	case scheme == "postgres" || scheme == "postgresql":
		return dialect.PG, nil
	default:
		return dialect.Invalid, fmt.Errorf("repo: database URL: unknown scheme %q (want sqlite: or postgres://)", scheme)
	}
}

// schemeOf is the lower-case scheme of a URL.
func schemeOf(u string) string {
	scheme, _, _ := strings.Cut(u, ":")
	return strings.ToLower(scheme)
}

// Migrate applies every migration of db's dialect not yet applied. Running
// it again is a no-op.
func Migrate(ctx context.Context, db *bun.DB) error {
	ms, err := migrations.For(db.Dialect().Name())
	if err != nil {
		return fmt.Errorf("repo: load migrations: %w", err)
	}
	m := migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("repo: init migrations: %w", dbError(err))
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("repo: migrate: %w", dbError(err))
	}
	return nil
}
