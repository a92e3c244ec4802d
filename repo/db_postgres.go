package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// pgMaxConns bounds the connections one panel process opens to PostgreSQL:
// a few long counts and the short session reads of every other request at
// once, while leaving room for a second panel replica under the server's
// default max_connections of 100.
const pgMaxConns = 16

// pgStatementTimeout is the longest a statement may run when the URL does
// not set statement_timeout itself: a page never waits for a runaway
// count, and a lock held by a stuck process is not waited on forever.
const pgStatementTimeout = 60 * time.Second

// pgConnectTimeout bounds each attempt to connect when the URL does not
// set connect_timeout.
const pgConnectTimeout = 10 * time.Second

// openPostgres opens BanGUI's own database on the PostgreSQL server that
// dsn (a postgres:// or postgresql:// URL, as libpq and pgx read it) names,
// through the pgx driver. Its errors never repeat the URL.
func openPostgres(ctx context.Context, dsn string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the connection string: say only what failed.
		return nil, fmt.Errorf("repo: database URL postgres://…: cannot parse it (want postgres://user:password@host:5432/dbname?sslmode=…)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok {
		cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(pgStatementTimeout.Milliseconds())
	}
	// The panel's statements are short and planned cheaply; JIT compiling
	// one whose estimate looks big costs tens of milliseconds for nothing.
	if _, ok := cfg.RuntimeParams["jit"]; !ok {
		cfg.RuntimeParams["jit"] = "off"
	}
	// pgx prepares every statement; after five runs PostgreSQL may switch a
	// prepared statement to a generic plan, blind to its parameters, which
	// for the archive's time windows and range lists can be a hundred times
	// slower. Planning each run for its own values costs well under a
	// millisecond.
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "bangui"
	}
	// Unix seconds and text only cross the wire, but the session's zone is
	// fixed anyway so that nothing depends on the server's default.
	cfg.RuntimeParams["timezone"] = "UTC"
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(pgMaxConns)
	sqldb.SetMaxIdleConns(pgMaxConns / 2)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	sqldb.SetConnMaxLifetime(time.Hour)
	db := bun.NewDB(sqldb, pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("repo: open PostgreSQL database %q on %s: %w", cfg.Database, cfg.Host, dbError(err))
	}
	return db, nil
}
