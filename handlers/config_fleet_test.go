package handlers

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPagesEditTheSelectedHost: on a panel with several hosts the
// configuration pages say whose configuration they edit and link every
// host; a save on a host's page writes that host's files only and reloads
// that host's fail2ban only.
func TestConfigPagesEditTheSelectedHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	b, local, web2 := f.b, f.local, f.other["web2"]

	// No host selected: the local host's configuration, and a picker.
	doc := parse(t, b.get("/config"))
	if name := doc.Find(`[data-testid="config-host-name"]`).Text(); name != "local" {
		t.Fatalf("the configuration page without a host edits %q", name)
	}
	if href, _ := doc.Find(`[data-testid="config-host"] a[data-host="web2"]`).Attr("href"); href != "/config?host=web2" {
		t.Fatalf("the picker links web2 as %q", href)
	}
	if !strings.Contains(doc.Find(`[data-testid="config-host"]`).Text(), "pick the one to edit") {
		t.Error("the configuration page of every host does not ask to pick a host")
	}

	// web2 selected: its name, and links and forms that stay on it.
	page := "/config/jails/sshd?host=web2"
	doc = parse(t, b.get(page))
	if name := doc.Find(`[data-testid="config-host-name"]`).Text(); name != "web2" {
		t.Fatalf("web2's configuration page edits %q", name)
	}
	if action, _ := doc.Find(`[data-testid="jail-form"]`).Attr("action"); action != page {
		t.Fatalf("the jail form on web2's page posts to %q", action)
	}
	if href, _ := doc.Find(`.cfg-tabs a[data-tab="server"]`).Attr("href"); href != "/config/server?host=web2" {
		t.Fatalf("the server tab on web2's page links %q", href)
	}

	form := formValues(doc, `[data-testid="jail-form"]`)
	form.Set("maxretry", "8")
	assertRedirect(t, b.postForm(page, page, form), page)
	if msg := flashText(t, b, page); !strings.Contains(msg, "Saved jail.d/sshd.local") {
		t.Fatalf("flash after the save on web2: %q", msg)
	}
	if n := maxRetry(t, web2, "sshd"); n != 8 {
		t.Fatalf("web2 runs sshd with maxretry %d, want 8", n)
	}
	if n := maxRetry(t, local, "sshd"); n == 8 {
		t.Fatal("the local fail2ban took web2's maxretry")
	}
	if _, err := os.Stat(filepath.Join(web2.ConfigDir, "jail.d", "sshd.local")); err != nil {
		t.Fatalf("web2's jail.d/sshd.local: %v", err)
	}
	if _, err := os.Stat(filepath.Join(local.ConfigDir, "jail.d", "sshd.local")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the local configuration got jail.d/sshd.local: %v", err)
	}

	// The raw editor lists web2's file, not the local host's.
	if doc := parse(t, b.get("/config/raw?host=web2")); !strings.Contains(doc.Text(), "jail.d/sshd.local") {
		t.Error("web2's raw editor does not list jail.d/sshd.local")
	}
	if doc := parse(t, b.get("/config/raw?host=local")); strings.Contains(doc.Find("main").Text(), "jail.d/sshd.local") {
		t.Error("the local raw editor lists web2's jail.d/sshd.local")
	}
}
