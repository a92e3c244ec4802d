package blocklists

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	f2bconf "bangui/fail2ban/config"
	"bangui/models"
)

// TestEnsureJailWaitsForAConfigurationEdit checks that the blocklist jail
// file is written under the configuration editor's lock: while an edit holds
// it, nothing is written, and the page is told why.
func TestEnsureJailWaitsForAConfigurationEdit(t *testing.T) {
	e := newImportEnv(t)
	b := e.service(10, nil)
	path := filepath.Join(e.sb.ConfigDir, JailFile)

	unlock, err := f2bconf.Lock(context.Background(), e.sb.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err = b.EnsureJail(ctx, models.LocalHost)
	cancel()
	var jp *JailProblem
	if !errors.As(err, &jp) || !strings.Contains(jp.Message.Error(), "could not add it now") ||
		!strings.Contains(jp.Message.Error(), "another edit of the configuration") {
		t.Fatalf("EnsureJail during an edit = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the jail file was written during an edit: %v", err)
	}
	unlock()

	if err := b.EnsureJail(context.Background(), models.LocalHost); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the jail file after the edit: %v", err)
	}
}
