package fail2ban_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// Against a real fail2ban-server started by the sandbox.
func TestRealServer(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t)
	c := sb.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("ping", func(t *testing.T) {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("version", func(t *testing.T) {
		v, err := c.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v, "1.") {
			t.Errorf("Version = %q, want 1.x", v)
		}
	})

	t.Run("status", func(t *testing.T) {
		v, err := c.Call(ctx, "status")
		if err != nil {
			t.Fatal(err)
		}
		want := []any{
			[]any{"Number of jail", int64(1)},
			[]any{"Jail list", "sshd"},
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("status = %#v, want %#v", v, want)
		}
	})

	t.Run("unknown jail", func(t *testing.T) {
		v, err := c.Call(ctx, "status", "nosuch")
		if !errors.Is(err, fail2ban.ErrUnknownJail) {
			t.Fatalf("status nosuch = %#v, %v; want ErrUnknownJail", v, err)
		}
		var ce *fail2ban.CommandError
		if !errors.As(err, &ce) || ce.Message != "nosuch" {
			t.Errorf("err = %#v, want CommandError carrying the jail name", err)
		}
	})

	t.Run("invalid command", func(t *testing.T) {
		_, err := c.Call(ctx, "no-such-command")
		var ce *fail2ban.CommandError
		if !errors.As(err, &ce) || errors.Is(err, fail2ban.ErrUnknownJail) {
			t.Fatalf("err = %#v, want a generic *CommandError", err)
		}
	})

	t.Run("unicode arguments", func(t *testing.T) {
		v, err := c.Call(ctx, "echo", "grüße", "日本")
		if err != nil {
			t.Fatal(err)
		}
		if want := []any{"grüße", "日本"}; !reflect.DeepEqual(v, want) {
			t.Errorf("echo = %#v, want %#v", v, want)
		}
	})

	t.Run("dbfile", func(t *testing.T) {
		v, err := c.Call(ctx, "get", "dbfile")
		if err != nil || v != sb.DBFile {
			t.Errorf("get dbfile = %#v, %v; want %q", v, err, sb.DBFile)
		}
	})

	t.Run("ban and unban", func(t *testing.T) {
		const ip = "192.0.2.10"
		v, err := c.Call(ctx, "set", "sshd", "banip", ip)
		if err != nil || v != int64(1) {
			t.Fatalf("banip = %#v, %v; want 1", v, err)
		}
		// IP objects arrive as builtins.str calls and must decode to strings.
		v, err = c.Call(ctx, "get", "sshd", "banned")
		if err != nil {
			t.Fatal(err)
		}
		if want := []any{ip}; !reflect.DeepEqual(v, want) {
			t.Errorf("get sshd banned = %#v, want %#v", v, want)
		}
		v, err = c.Call(ctx, "status", "sshd")
		if err != nil {
			t.Fatal(err)
		}
		if got := bannedList(v); !slices.Equal(got, []any{ip}) {
			t.Errorf("Banned IP list = %#v in %#v", got, v)
		}
		v, err = c.Call(ctx, "get", "sshd", "banip", "--with-time")
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := v.([]any); !ok || len(l) != 1 || !strings.HasPrefix(l[0].(string), ip+" \t") {
			t.Errorf("banip --with-time = %#v", v)
		}
		if v, err := c.Call(ctx, "set", "sshd", "unbanip", ip); err != nil || v != int64(1) {
			t.Errorf("unbanip = %#v, %v; want 1", v, err)
		}
		_, err = c.Call(ctx, "set", "sshd", "unbanip", "--report-absent", ip)
		var ce *fail2ban.CommandError
		if !errors.As(err, &ce) || ce.Class != "builtins.ValueError" {
			t.Errorf("unbanip --report-absent of absent IP: err = %#v, want builtins.ValueError", err)
		}
	})

	t.Run("probe", func(t *testing.T) {
		r := fail2ban.Probe(ctx, sb.SocketPath)
		if r.Status != fail2ban.ProbeOK || !strings.HasPrefix(r.Version, "1.") {
			t.Errorf("Probe = %+v, want ok with version 1.x", r)
		}
	})
}

// bannedList digs "Banned IP list" out of a "status <jail>" reply.
func bannedList(v any) []any {
	sections, _ := v.([]any)
	for _, s := range sections {
		kv, _ := s.([]any)
		if len(kv) != 2 || kv[0] != "Actions" {
			continue
		}
		items, _ := kv[1].([]any)
		for _, it := range items {
			p, _ := it.([]any)
			if len(p) == 2 && p[0] == "Banned IP list" {
				l, _ := p[1].([]any)
				return l
			}
		}
	}
	return nil
}
