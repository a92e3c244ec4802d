// Package migrations holds BanGUI's versioned schema changes as SQL files,
// embedded in the binary and applied in order at start.
package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// New returns the migration set discovered from the embedded SQL files.
func New() (*migrate.Migrations, error) {
	m := migrate.NewMigrations()
	if err := m.Discover(files); err != nil {
		return nil, err
	}
	return m, nil
}
