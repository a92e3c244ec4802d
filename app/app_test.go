package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect"

	"bangui/config"
	"bangui/internal/pgtest"
	"bangui/models"
)

func testConfig(t *testing.T) config.Config {
	return config.Config{
		Listen:    "127.0.0.1:0",
		DataDir:   t.TempDir(),
		Socket:    filepath.Join(t.TempDir(), "no-fail2ban.sock"),
		ConfigDir: t.TempDir(),
	}
}

func quiet() Options {
	return Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"}
}

// Build wires a panel whose services share one registry, one archive and
// one broker, and Close releases the database.
func TestBuildWiresOnePanel(t *testing.T) {
	cfg := testConfig(t)
	a, err := Build(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if a.Hosts.Local().ID() != models.LocalHost || len(a.Hosts.All()) != 1 {
		t.Errorf("hosts = %v, want the local host only", a.Hosts.All())
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "bangui.sqlite3")); err != nil {
		t.Errorf("database not created in the data dir: %v", err)
	}
	if done, err := a.Setup.Done(context.Background()); err != nil || done {
		t.Errorf("Setup.Done = %v, %v on a new data dir; want false", done, err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := a.DB.PingContext(context.Background()); err == nil {
		t.Error("database still open after Close")
	}
}

// A data dir that cannot be used stops Build with a message that names it,
// and nothing is left running.
func TestBuildFailsCleanly(t *testing.T) {
	cfg := testConfig(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = file
	a, err := Build(context.Background(), cfg, quiet())
	if err == nil || a != nil {
		t.Fatalf("Build on a file as data dir = %v, %v; want an error", a, err)
	}
	if !strings.Contains(err.Error(), "data dir") {
		t.Errorf("error %q does not name the data dir", err)
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// With --database postgres://… Build wires the panel on PostgreSQL: no
// SQLite file in the data dir, the setup state and sessions in PostgreSQL.
func TestBuildOnPostgres(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	cfg.Database = pgtest.URL(t)
	a, err := Build(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if name := a.DB.Dialect().Name(); name != dialect.PG {
		t.Fatalf("dialect %s", name)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "bangui.sqlite3")); err == nil {
		t.Error("a SQLite database was created in the data dir")
	}
	if done, err := a.Setup.Done(ctx); err != nil || done {
		t.Errorf("Setup.Done = %v, %v on a new database; want false", done, err)
	}
	if err := a.Sessions.Commit("tok", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, found, err := a.Sessions.Find("tok"); err != nil || !found || string(b) != "data" {
		t.Errorf("session: %q %v %v", b, found, err)
	}
}
