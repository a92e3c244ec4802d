package repo

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DBFileName is the name of BanGUI's own SQLite database inside the data dir.
const DBFileName = "bangui.sqlite3"

// appMaxConns bounds the connections to BanGUI's own SQLite database.
const appMaxConns = 8

// openSQLite opens (creating if needed) BanGUI's own SQLite database in
// dataDir: WAL, a 5 s busy timeout, foreign keys, immediate transactions,
// the file readable by its owner only.
func openSQLite(ctx context.Context, dataDir string) (*bun.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("repo: create data dir: %w", dbError(err))
	}
	path, err := filepath.Abs(filepath.Join(dataDir, DBFileName))
	if err != nil {
		return nil, fmt.Errorf("repo: data dir: %w", err)
	}
	if err := restrictDBFile(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("repo: open %s: %w", path, err)
	}
	// Readers run in parallel under WAL (writers queue on the write lock):
	// enough connections that a few long counts do not hold up the short
	// session reads of every other request.
	sqldb.SetMaxOpenConns(appMaxConns)
	sqldb.SetMaxIdleConns(appMaxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("repo: open %s: %w", path, dbError(err))
	}
	return db, nil
}

// restrictDBFile creates the database file readable by its owner only, or
// takes group and other access from an existing one: it holds the password
// hash and the session hashes, and the data dir may be shared. SQLite gives
// the -wal and -shm files the database file's mode.
func restrictDBFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("repo: open %s: %w", path, dbError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("repo: open %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(fi.Mode().Perm() &^ 0o077); err != nil {
			return fmt.Errorf("repo: restrict %s: %w", path, err)
		}
	}
	return nil
}
