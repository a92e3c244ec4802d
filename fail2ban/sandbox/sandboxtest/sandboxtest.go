// Package sandboxtest starts fail2ban sandboxes from tests.
package sandboxtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
)

// Start runs a private fail2ban-server with the given jails (default: one
// sshd jail) in t.TempDir() and stops it when the test ends. When
// fail2ban-server is not installed the test is skipped, or fails if the
// environment variable CI is "true".
func Start(t testing.TB, jails ...sandbox.Jail) *sandbox.Sandbox {
	t.Helper()
	return StartOptions(t, sandbox.Options{Jails: jails})
}

// StartOptions is Start with all of sandbox.Options; an empty Dir is
// t.TempDir().
func StartOptions(t testing.TB, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), sandbox.DefaultStartTimeout+5*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, opts)
	if errors.Is(err, sandbox.ErrNotInstalled) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fail2ban sandbox: %v (CI=true, so this is not skipped; install the Debian package fail2ban)", err)
		}
		t.Skipf("fail2ban sandbox unavailable: %v (install the Debian package fail2ban to run this test)", err)
	}
	if err != nil {
		t.Fatalf("fail2ban sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			t.Errorf("fail2ban sandbox stop: %v", err)
		}
	})
	return sb
}
