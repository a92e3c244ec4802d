package fail2ban

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		path := sockPath(t)
		ping, version := goldenFull(t, "ping.resp"), goldenFull(t, "version.resp")
		pingReq := mustEncode(t, "ping")
		listenFake(t, path, func(conn net.Conn) {
			req, err := readRequest(conn)
			if err != nil {
				return
			}
			if string(req) == pingReq {
				conn.Write(ping)
			} else {
				conn.Write(version)
			}
		})
		r := Probe(ctx, path)
		if r.Status != ProbeOK || r.Version != "1.0.2" || r.Detail != "" {
			t.Errorf("Probe = %+v, want ok 1.0.2", r)
		}
	})

	t.Run("missing", func(t *testing.T) {
		r := Probe(ctx, filepath.Join(t.TempDir(), "nope.sock"))
		if r.Status != ProbeMissing || r.Detail == "" {
			t.Errorf("Probe = %+v, want missing with detail", r)
		}
	})

	t.Run("missing parent is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := Probe(ctx, filepath.Join(file, "f2b.sock")); r.Status != ProbeMissing {
			t.Errorf("Probe = %+v, want missing", r)
		}
	})

	t.Run("regular file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "f2b.sock")
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := Probe(ctx, path); r.Status != ProbeNotSocket || r.Detail == "" {
			t.Errorf("Probe = %+v, want not-socket", r)
		}
	})

	t.Run("directory", func(t *testing.T) {
		if r := Probe(ctx, t.TempDir()); r.Status != ProbeNotSocket {
			t.Errorf("Probe = %+v, want not-socket", r)
		}
	})

	t.Run("refused", func(t *testing.T) {
		path := sockPath(t)
		staleSocket(t, path)
		r := Probe(ctx, path)
		if r.Status != ProbeRefused || r.Detail == "" {
			t.Errorf("Probe = %+v, want refused", r)
		}
	})

	t.Run("garbage reply", func(t *testing.T) {
		path := sockPath(t)
		listenFake(t, path, func(conn net.Conn) {
			if _, err := readRequest(conn); err == nil {
				conn.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			}
		})
		if r := Probe(ctx, path); r.Status != ProbeNotFail2ban || r.Detail == "" {
			t.Errorf("Probe = %+v, want not-fail2ban", r)
		}
	})

	t.Run("pickle but not pong", func(t *testing.T) {
		path := sockPath(t)
		listenFake(t, path, replyWith(goldenFull(t, "err_invalid.resp")))
		if r := Probe(ctx, path); r.Status != ProbeNotFail2ban {
			t.Errorf("Probe = %+v, want not-fail2ban", r)
		}
	})

	t.Run("silent", func(t *testing.T) {
		path := sockPath(t)
		silentServer(t, path)
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if r := Probe(ctx, path); r.Status != ProbeNotFail2ban {
			t.Errorf("Probe = %+v, want not-fail2ban", r)
		}
	})
}

func mustEncode(t *testing.T, args ...string) string {
	t.Helper()
	b, err := encodeRequest(args)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProbeStatusString(t *testing.T) {
	want := map[ProbeStatus]string{
		ProbeOK:          "ok",
		ProbeMissing:     "missing",
		ProbeNotSocket:   "not-socket",
		ProbePermission:  "permission",
		ProbeRefused:     "refused",
		ProbeNotFail2ban: "not-fail2ban",
		ProbeStatus(42):  "ProbeStatus(42)",
	}
	for s, w := range want {
		if got := s.String(); got != w {
			t.Errorf("%d.String() = %q, want %q", int(s), got, w)
		}
	}
}
