package hosts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
)

// writeFiles creates files (relative path → content) below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLocalConfigFiles: the local host lists, reads and writes only the
// editable files of its configuration directory.
func TestLocalConfigFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jail.local": "[DEFAULT]\n", "jail.d/own.local": "[sshd]\nmaxretry = 3\n",
		"filter.d/a.conf": "[Definition]\n", "filter.d/a.local": "[Definition]\n", "filter.d/b.local": "[Definition]\n",
		"action.d/x.conf": "[Definition]\n",
	})
	l := NewLocal(LocalOptions{Socket: filepath.Join(dir, "none.sock"), ConfigDir: dir})
	ctx := context.Background()

	items, err := l.ConfigItems(ctx, "filter.d")
	if err != nil || len(items) != 2 || items[0].Name != "a" || !slices.Equal(items[0].Files, []string{"filter.d/a.conf", "filter.d/a.local"}) ||
		items[1].Name != "b" || !slices.Equal(items[1].Files, []string{"filter.d/b.local"}) {
		t.Fatalf("filters: %+v, %v", items, err)
	}
	if _, err := l.ConfigItems(ctx, "../etc"); err == nil {
		t.Fatal("ConfigItems read a folder outside filter.d and action.d")
	}
	files, err := l.EditableFiles(ctx)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if err != nil || !slices.Equal(names, []string{"jail.local", "jail.d/own.local", "filter.d/a.local", "filter.d/b.local"}) || files[1].Size != 20 {
		t.Fatalf("editable files: %+v, %v", files, err)
	}

	if f, err := l.ReadConfigFile(ctx, "jail.d/new.local"); err != nil || f.Exists || f.Data != nil {
		t.Fatalf("a missing file: %+v, %v", f, err)
	}
	var pe *f2bconf.PathError
	if _, err := l.ReadConfigFile(ctx, "../passwd"); !errors.As(err, &pe) {
		t.Fatalf("a path outside: %v, want a PathError", err)
	}
	if _, err := l.ReadConfigFile(ctx, "filter.d/a.conf"); !errors.As(err, &pe) {
		t.Fatalf("a .conf file: %v, want a PathError", err)
	}

	own := filepath.Join(dir, "jail.d", "own.local")
	rep, err := l.WriteConfigFile(ctx, "jail.d/own.local", []byte("[sshd]\nmaxretry = 4\n"))
	if err != nil || !rep.Existed || readFile(t, own) != "[sshd]\nmaxretry = 4\n" || readFile(t, own+f2bconf.BackupSuffix) != "[sshd]\nmaxretry = 3\n" {
		t.Fatalf("write: %+v, %v", rep, err)
	}
	if f, err := l.ReadConfigFile(ctx, "jail.d/own.local"); err != nil || !f.Exists || !f.Backup || string(f.Data) != "[sshd]\nmaxretry = 4\n" {
		t.Fatalf("read after write: %+v, %v", f, err)
	}
	if err := rep.Restore(ctx); err != nil || readFile(t, own) != "[sshd]\nmaxretry = 3\n" {
		t.Fatalf("restore: %v", err)
	}
	if _, err := os.Stat(own + f2bconf.BackupSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the backup outlived the restore: %v", err)
	}

	if wrote, err := l.CreateConfigFile(ctx, "jail.d/own.local", []byte("x")); err != nil || wrote || readFile(t, own) != "[sshd]\nmaxretry = 3\n" {
		t.Fatalf("create over an existing file: %v, %v", wrote, err)
	}
	if wrote, err := l.CreateConfigFile(ctx, "jail.d/new.local", []byte("[new]\n")); err != nil || !wrote || readFile(t, filepath.Join(dir, "jail.d", "new.local")) != "[new]\n" {
		t.Fatalf("create: %v, %v", wrote, err)
	}
	if _, err := l.CreateConfigFile(ctx, "../evil.local", []byte("x")); !errors.As(err, &pe) {
		t.Fatalf("create outside: %v, want a PathError", err)
	}

	unlock, err := l.LockConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.LockConfig(short); err == nil {
		t.Fatal("the lock was taken twice")
	}
	unlock()
}

// TestLocalTailLog: log files are read only inside the allowed folders.
func TestLocalTailLog(t *testing.T) {
	root := t.TempDir()
	logs := filepath.Join(root, "log")
	writeFiles(t, root, map[string]string{
		"log/fail2ban.log": "a INFO one\nb ERROR two\nc INFO three\n", "secret/key.log": "secret\n",
	})
	l := NewLocal(LocalOptions{LogDirs: []string{logs}})
	ctx := context.Background()
	tail, err := l.TailLog(ctx, filepath.Join(logs, "fail2ban.log"), 5, "info")
	if err != nil || !slices.Equal(tail.Lines, []string{"a INFO one", "c INFO three"}) || tail.Truncated {
		t.Fatalf("filtered tail: %+v, %v", tail, err)
	}
	if tail, err := l.TailLog(ctx, filepath.Join(logs, "fail2ban.log"), 1, ""); err != nil || !slices.Equal(tail.Lines, []string{"c INFO three"}) || !tail.Truncated {
		t.Fatalf("last line: %+v, %v", tail, err)
	}
	var pe *LogPathError
	for _, p := range []string{filepath.Join(root, "secret", "key.log"), logs + "/../secret/key.log", "fail2ban.log", logs} {
		if _, err := l.TailLog(ctx, p, 5, ""); !errors.As(err, &pe) {
			t.Errorf("TailLog(%s) = %v, want a LogPathError", p, err)
		}
	}
	if _, err := l.TailLog(ctx, filepath.Join(root, "secret", "key.log"), 5, ""); !errors.Is(err, ErrLogNotAllowed) {
		t.Errorf("a file outside: %v, want ErrLogNotAllowed", err)
	}
	if dirs := l.LogDirs(); !slices.Equal(dirs, []string{logs}) {
		t.Errorf("LogDirs = %v", dirs)
	}
	if dirs := NewLocal(LocalOptions{}).LogDirs(); !slices.Equal(dirs, DefaultLogDirs) {
		t.Errorf("default LogDirs = %v", dirs)
	}
}

// TestLocalRestartCommand: a configured restart command runs without a
// shell, and its failure says which command failed and what it printed.
func TestLocalRestartCommand(t *testing.T) {
	ok := NewLocal(LocalOptions{RestartCommand: []string{"echo", "restarted"}})
	if out, err := ok.Restart(context.Background()); err != nil || strings.TrimSpace(out) != "restarted" {
		t.Fatalf("restart: %q, %v", out, err)
	}
	bad := NewLocal(LocalOptions{RestartCommand: []string{"sh", "-c", "echo nope; exit 3"}})
	_, err := bad.Restart(context.Background())
	var re *RestartCommandError
	if !errors.As(err, &re) || err.Error() != "the restart command sh -c echo nope; exit 3 failed: nope: exit status 3" {
		t.Fatalf("failing restart: %v", err)
	}
}

// TestLocalDatabase: without a database fail2ban can name, BanRows and
// Fail2banDB fail and PurgeAge falls back to fail2ban's default.
func TestLocalDatabase(t *testing.T) {
	dir := t.TempDir()
	gone := NewLocal(LocalOptions{Socket: filepath.Join(dir, "none.sock")})
	ctx := context.Background()
	if _, err := gone.BanRows(ctx); !fail2ban.IsUnreachable(err) {
		t.Fatalf("BanRows without fail2ban: %v", err)
	}
	if age := gone.PurgeAge(ctx); age != 24*time.Hour {
		t.Fatalf("PurgeAge without fail2ban = %v", age)
	}
	inMemory := NewLocal(LocalOptions{Socket: filepath.Join(dir, "none.sock"), DBPath: ":memory:"})
	if _, err := inMemory.Fail2banDB(ctx); !errors.Is(err, fail2ban.ErrNoDatabase) {
		t.Fatalf("Fail2banDB of :memory: = %v", err)
	}
	if db, err := DatabaseOf(gone); err != nil || db != Database(gone) {
		t.Fatalf("DatabaseOf(local) = %v, %v", db, err)
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
}
