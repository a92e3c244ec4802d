// Package migrations holds BanGUI's versioned schema changes as SQL files,
// one directory per database dialect (sqlite/ today), embedded in the
// binary and applied in order at start. A migration's name is its file
// name's leading timestamp, whatever the directory: the names recorded in
// bun_migrations by earlier releases stay valid.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

//go:embed sqlite/*.sql
var files embed.FS

// dirs names each supported dialect's directory in files.
var dirs = map[dialect.Name]string{
	dialect.SQLite: "sqlite",
}

// For returns the migration set of one dialect, discovered from its
// embedded SQL files.
func For(d dialect.Name) (*migrate.Migrations, error) {
	dir, ok := dirs[d]
	if !ok {
		return nil, fmt.Errorf("migrations: no migrations for the %s dialect", d)
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, err
	}
	return m, nil
}
