package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"bangui/models"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestDatabaseFullIsErrDiskFull fills a real database: SQLite refuses to
// grow the file past max_page_count with SQLITE_FULL, as it does when the
// disk is full. The store's error is ErrDiskFull with SQLite's error still
// in the chain.
func TestDatabaseFullIsErrDiskFull(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pages int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	st := NewSettingsStore(conn)
	err = st.Set(ctx, "big", strings.Repeat("x", 1<<20))
	var se *sqlite.Error
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_FULL {
		t.Fatalf("writing past the database's size: %v, want ErrDiskFull with SQLITE_FULL in the chain", err)
	}
	if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrNotFound) {
		t.Fatalf("%v matches another typed error", err)
	}
	// A transaction whose statements fit but whose data does not.
	if _, err := st.SetManyOnce(ctx, "guard", map[string]string{"a": strings.Repeat("y", 1<<20)}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("transaction past the database's size: %v, want ErrDiskFull", err)
	}
}

// TestConstraintIsErrDuplicate checks that unique and primary key
// constraints are ErrDuplicate, and other constraints are not.
func TestConstraintIsErrDuplicate(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	runs := NewImportRunStore(db)
	src, err := NewBlocklistStore(db).Create(ctx, "list", "https://example.org/l.txt", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runs.CreatePending(ctx, src, models.LocalHost, "h", nil, 0); err != nil {
		t.Fatal(err)
	}
	_, err = runs.CreatePending(ctx, src, models.LocalHost, "h", nil, 0) // UNIQUE (source_id, host, content_hash)
	var se *sqlite.Error
	if !errors.Is(err, ErrDuplicate) || !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		t.Fatalf("second run of one content: %v, want ErrDuplicate with the unique constraint in the chain", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'v'), ('k', 'w')`)
	if err = dbError(err); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate primary key: %v, want ErrDuplicate", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO import_runs (source_id, content_hash, state, created_at, updated_at) VALUES (1, 'x', 'bogus', 0, 0)`)
	if err = dbError(err); err == nil || errors.Is(err, ErrDuplicate) || errors.Is(err, ErrDiskFull) {
		t.Fatalf("CHECK constraint: %v, want an error that is not ErrDuplicate", err)
	}
}

func TestDBErrorMapping(t *testing.T) {
	other := errors.New("other")
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: returned unchanged
	}{
		{"no row", fmt.Errorf("scan: %w", sql.ErrNoRows), ErrNotFound},
		{"ENOSPC", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, ErrDiskFull},
		{"EDQUOT", fmt.Errorf("write: %w", syscall.EDQUOT), ErrDiskFull},
		{"other", other, nil},
	} {
		got := dbError(tc.err)
		switch {
		case tc.want == nil && got != tc.err:
			t.Errorf("%s: %v, want it unchanged", tc.name, got)
		case tc.want != nil && !errors.Is(got, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		case tc.want == ErrDiskFull && (!errors.Is(got, tc.err) || got.Error() != tc.err.Error()):
			t.Errorf("%s: %v lost the original error", tc.name, got)
		case tc.want != nil && dbError(got) != got:
			t.Errorf("%s: mapping twice changed %v", tc.name, got)
		}
	}
	if dbError(nil) != nil {
		t.Error("dbError(nil) is not nil")
	}
}
