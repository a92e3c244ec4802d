package repo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"bangui/models"
)

// TestPostgresErrorsAreTyped provokes PostgreSQL's errors on a real server
// and checks that each comes out of the stores as its typed error with the
// server's error still in the chain: a unique key, a lock not available,
// the statement timeout, a connection the server ended. A CHECK violation
// is none of them.
func TestPostgresErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	db := openTestPG(t)
	runs := NewImportRunStore(db)
	src, err := NewBlocklistStore(db).Create(ctx, "list", "https://example.org/l.txt", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runs.CreatePending(ctx, src, models.LocalHost, "h", nil, 0); err != nil {
		t.Fatal(err)
	}
	_, err = runs.CreatePending(ctx, src, models.LocalHost, "h", nil, 0)
	var pe *pgconn.PgError
	if !errors.Is(err, ErrDuplicate) || !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("second run of one content: %v, want ErrDuplicate with 23505 in the chain", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO import_runs (source_id, content_hash, state, created_at, updated_at) VALUES (1, 'x', 'bogus', 0, 0)`)
	if err = dbError(err); err == nil || errors.Is(err, ErrDuplicate) || errors.Is(err, ErrContention) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("CHECK constraint: %v, want an untyped error", err)
	}

	// A row locked by another transaction, with NOWAIT: 55P03.
	if err := NewSettingsStore(db).Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT * FROM settings WHERE key = 'k' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `SELECT * FROM settings WHERE key = 'k' FOR UPDATE NOWAIT`)
	if err = dbError(err); !errors.Is(err, ErrContention) || !errors.As(err, &pe) || pe.Code != "55P03" {
		t.Fatalf("locked row: %v, want ErrContention with 55P03", err)
	}
	// The same lock waited on past the statement timeout: 57014.
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx2 bun.Tx) error {
		if _, err := tx2.ExecContext(ctx, `SET LOCAL statement_timeout = '50ms'`); err != nil {
			return err
		}
		return NewSettingsStore(tx2).Set(ctx, "k", "w")
	})
	if !errors.Is(dbError(err), ErrContention) {
		t.Fatalf("statement timeout: %v, want ErrContention", err)
	}
	tx.Rollback()

	// The server ends the connection (pg_terminate_backend: 57P01).
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(?)`, pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = conn.ExecContext(ctx, `SELECT 1`)
		if err != nil || time.Now().After(deadline) {
			break
		}
	}
	if !errors.Is(dbError(err), ErrUnavailable) {
		t.Fatalf("terminated connection: %v, want ErrUnavailable", err)
	}
	// The pool replaces the connection: the store works again.
	if _, err := NewSettingsStore(db).Get(ctx, "k"); err != nil {
		t.Fatalf("after a lost connection: %v", err)
	}
}

// TestPostgresErrorCodes maps the SQLSTATEs that cannot be provoked here
// (a full disk, a server shutting down).
func TestPostgresErrorCodes(t *testing.T) {
	for code, want := range map[string]error{
		"23505": ErrDuplicate, "53100": ErrDiskFull, "40001": ErrContention, "40P01": ErrContention,
		"55P03": ErrContention, "57014": ErrContention, "57P01": ErrUnavailable, "57P02": ErrUnavailable,
		"57P03": ErrUnavailable, "53300": ErrUnavailable, "08006": ErrUnavailable, "23514": nil,
	} {
		err := fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"})
		got := dbError(err)
		if want == nil {
			if got != err {
				t.Errorf("%s: %v, want it unchanged", code, got)
			}
			continue
		}
		if !errors.Is(got, want) || !errors.Is(got, err) || dbError(got) != got {
			t.Errorf("%s: %v, want %v with the original in the chain", code, got, want)
		}
	}
}
