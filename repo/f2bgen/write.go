package f2bgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// SchemaVersion is the fail2banDb version this package writes (fail2ban ≥ 0.11).
const SchemaVersion = 4

// schemaTables and schemaIndexes are fail2ban's own CREATE statements
// (fail2ban/server/database.py, Fail2BanDb._CREATE_SCRIPTS, version 4),
// split so that the indexes can be built after the bulk load.
var schemaTables = []string{
	`CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER);`,
	`CREATE TABLE IF NOT EXISTS jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);`,
	`CREATE TABLE IF NOT EXISTS logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5));`,
	`CREATE TABLE IF NOT EXISTS bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) );`,
	`CREATE TABLE IF NOT EXISTS bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name) );`,
}

var schemaIndexes = []string{
	`CREATE INDEX IF NOT EXISTS jails_name ON jails(name);`,
	`CREATE INDEX IF NOT EXISTS logs_path ON logs(path);`,
	`CREATE INDEX IF NOT EXISTS logs_jail_path ON logs(jail, path);`,
	`CREATE INDEX IF NOT EXISTS bans_jail_timeofban_ip ON bans(jail, timeofban);`,
	`CREATE INDEX IF NOT EXISTS bans_jail_ip ON bans(jail, ip);`,
	`CREATE INDEX IF NOT EXISTS bans_ip ON bans(ip);`,
	`CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban);`,
	`CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip);`,
}

// Ban is one row of fail2ban's bans table.
type Ban struct {
	Jail      string
	IP        string
	TimeOfBan int64 // unix seconds
	BanTime   int64 // seconds; -1 means permanent
	BanCount  int64
	Data      string // JSON text as fail2ban stores it ("null" included); "" writes SQL NULL
}

// insertChunk is how many rows one prepared INSERT carries (6 parameters each).
const insertChunk = 200

// Write creates a fail2ban database at path holding exactly the given bans
// (in order, so rowids follow the sequence), the jails they name, one logs
// row per log-based jail, and bips with the latest ban per (ip, jail). It
// refuses to overwrite an existing file. The file is built under a temporary
// name in the same directory and renamed into place, so a reader never sees
// a half-written database.
func Write(ctx context.Context, path string, bans iter.Seq[Ban]) (err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("f2bgen: %w", err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("f2bgen: %s: %w", abs, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("f2bgen: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), filepath.Base(abs)+".*.tmp")
	if err != nil {
		return fmt.Errorf("f2bgen: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpPath)
		}
	}()

	q := url.Values{}
	q.Set("_journal_mode", "MEMORY") // what fail2ban itself uses
	q.Set("_synchronous", "OFF")
	q.Add("_pragma", "cache_size(-262144)") // 256 MiB: index builds stay in memory
	db, err := sql.Open("sqlite", "file:"+uriPath(tmpPath)+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("f2bgen: open %s: %w", tmpPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	if err := load(ctx, db, bans); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("f2bgen: close: %w", err)
	}
	if err := os.Chmod(tmpPath, 0o600); err != nil { // fail2ban's own mode
		return fmt.Errorf("f2bgen: %w", err)
	}
	if err := os.Rename(tmpPath, abs); err != nil {
		return fmt.Errorf("f2bgen: %w", err)
	}
	return nil
}

func load(ctx context.Context, db *sql.DB, bans iter.Seq[Ban]) error {
	for _, s := range schemaTables {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("f2bgen: schema: %w", err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("f2bgen: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO fail2banDb(version) VALUES (?)`, SchemaVersion); err != nil {
		return fmt.Errorf("f2bgen: version: %w", err)
	}
	full, err := tx.PrepareContext(ctx, insertBansSQL(insertChunk))
	if err != nil {
		return fmt.Errorf("f2bgen: prepare: %w", err)
	}
	defer full.Close()

	var jails []string
	seen := map[string]bool{}
	args := make([]any, 0, 6*insertChunk)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var err error
		if len(args) == cap(args) {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertBansSQL(len(args)/6), args...)
		}
		args = args[:0]
		if err != nil {
			return fmt.Errorf("f2bgen: insert bans: %w", err)
		}
		return ctx.Err()
	}
	for b := range bans {
		if !seen[b.Jail] {
			seen[b.Jail] = true
			jails = append(jails, b.Jail)
		}
		var data any
		if b.Data != "" {
			data = b.Data
		}
		args = append(args, b.Jail, b.IP, b.TimeOfBan, b.BanTime, b.BanCount, data)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, j := range jails {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jails(name, enabled) VALUES (?, 1)`, j); err != nil {
			return fmt.Errorf("f2bgen: jails: %w", err)
		}
		if p := logPath(j); p != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES (?, ?, ?, ?)`,
				j, p, "d41d8cd98f00b204e9800998ecf8427e", 4096); err != nil {
				return fmt.Errorf("f2bgen: logs: %w", err)
			}
		}
	}
	for _, s := range schemaIndexes {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("f2bgen: index: %w", err)
		}
	}
	// bips holds the latest ban per (ip, jail), as fail2ban's INSERT OR REPLACE
	// leaves it, minus what fail2ban's purge drops: non-permanent bans that
	// expired more than a day before the newest ban.
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data)
		SELECT ip, jail, timeofban, bantime, bancount, data FROM bans
		WHERE ip IS NOT NULL AND rowid IN (SELECT max(rowid) FROM bans GROUP BY jail, ip)
		AND (bantime < 0 OR timeofban + bantime > (SELECT max(timeofban) FROM bans) - 86400)`); err != nil {
		return fmt.Errorf("f2bgen: bips: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("f2bgen: commit: %w", err)
	}
	return nil
}

func insertBansSQL(rows int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES `)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?,?,?,?,?,?)`)
	}
	return sb.String()
}

func logPath(jail string) string {
	switch jail {
	case "sshd":
		return "/var/log/auth.log"
	case "nginx-http-auth", "nginx-botsearch":
		return "/var/log/nginx/error.log"
	case "postfix", "dovecot":
		return "/var/log/mail.log"
	case "recidive":
		return "/var/log/fail2ban.log"
	}
	return ""
}

// uriPath escapes the characters that end or escape the path part of an
// SQLite file: URI.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
