package repo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The typed errors of the storage layer. Every store returns driver errors
// through dbError, so callers test for these with errors.Is and never look
// at a driver's error type or text; the driver's own error stays in the
// chain behind them.
var (
	// ErrNotFound is returned when a looked-up row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate says a row was refused because a unique or primary key
	// already holds its value (see also DuplicateError).
	ErrDuplicate = errors.New("already exists")
	// ErrDiskFull says the disk (or the quota) under a database is full.
	ErrDiskFull = errors.New("disk full")
	// ErrBusy says a database stayed locked by another process (fail2ban
	// writing) through the busy timeout and every retry.
	ErrBusy = errors.New("database is busy")
	// ErrContention says BanGUI's own database (PostgreSQL) gave up a
	// statement because of other work: a serialization failure, a
	// deadlock, a lock not available, or the statement timeout. Nothing of
	// it was written; trying again may succeed.
	ErrContention = errors.New("database is busy with other work")
	// ErrUnavailable says BanGUI's own database server (PostgreSQL) cannot
	// be reached or is shutting down: the connection was refused, lost or
	// timed out, or the server turned it away.
	ErrUnavailable = errors.New("database unavailable")
)

// typedError puts one of the typed errors in front of the driver error it
// stands for: errors.Is matches both, and the text is the driver's.
type typedError struct {
	kind error
	err  error
}

func (e *typedError) Error() string   { return e.err.Error() }
func (e *typedError) Unwrap() []error { return []error{e.kind, e.err} }

// dbError maps an error of a database call to the typed errors by the
// driver's error code (never its text): no row becomes ErrNotFound; SQLite's
// unique and primary key constraints become ErrDuplicate; SQLITE_FULL (any
// extended code) and the OS's ENOSPC and EDQUOT become ErrDiskFull;
// PostgreSQL's errors as pgError says. Those
// keep the original error in the chain; no row is replaced, as a missing
// row says nothing more. Other errors, and nil, come back unchanged. Busy
// databases are left to the callers that retry them (see isBusy): BanGUI's
// own database waits out its busy timeout, fail2ban's reader retries and
// then returns ErrBusy.
func dbError(err error) error {
	var kind error
	switch code, ok := sqliteCode(err); {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case ok && code&0xff == sqlite3.SQLITE_FULL:
		kind = ErrDiskFull
	case ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		kind = ErrDuplicate
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		kind = ErrDiskFull
	default:
		if kind = pgError(err); kind == nil {
			return err
		}
	}
	if errors.Is(err, kind) {
		return err // mapped already
	}
	return &typedError{kind: kind, err: err}
}

// inTx runs fn in a transaction of db and returns its error, or the
// commit's, through dbError: a full disk often shows only at the commit.
func inTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return dbError(db.RunInTx(ctx, nil, fn))
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED
// (extended codes included): another connection holds the lock.
func isBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

// sqliteCode returns the extended result code of an SQLite error in err's chain.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

// pgError returns the typed error that a PostgreSQL error stands for, by
// its SQLSTATE, or nil: unique_violation (23505) is ErrDuplicate,
// disk_full (53100) ErrDiskFull; serialization_failure (40001),
// deadlock_detected (40P01), lock_not_available (55P03) and query_canceled
// (57014, the statement timeout) are ErrContention; connection exceptions
// (class 08), too_many_connections (53300), admin_shutdown (57P01),
// crash_shutdown (57P02), cannot_connect_now (57P03), a failed connect and
// a lost connection are ErrUnavailable.
func pgError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return ErrDuplicate
		case "53100":
			return ErrDiskFull
		case "40001", "40P01", "55P03", "57014":
			return ErrContention
		case "53300", "57P01", "57P02", "57P03":
			return ErrUnavailable
		}
		if len(pe.Code) == 5 && pe.Code[:2] == "08" {
			return ErrUnavailable
		}
		return nil
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, driver.ErrBadConn):
		return ErrUnavailable
	}
	return nil
}

// DuplicateError reports a row refused because a unique column already
// holds the value, and which column. errors.Is(err, ErrDuplicate) holds.
type DuplicateError struct {
	Column string // "name" or "url"
	Err    error  // the database's error
}

func (e *DuplicateError) Error() string {
	return "repo: a row with this " + e.Column + " already exists"
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// Unwrap returns the database's error.
func (e *DuplicateError) Unwrap() error { return e.Err }
