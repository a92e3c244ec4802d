package handlers

import (
	"net/http"
	"strings"
	"testing"
)

// TestSetupOnFullDisk completes setup while the data dir's disk is full:
// the answer says the disk is full (507, never a 500 or a stack trace),
// nothing of the setup is stored, and setup succeeds once space is freed.
func TestSetupOnFullDisk(t *testing.T) {
	dataDir := mountSmallTmpfs(t, 8<<20)
	a := newTestApp(t, dataDir)
	b := a.browser()
	form := validSetupForm(a)

	free := fillDisk(t, dataDir)
	p := a.cfg.BasePath
	rec := b.postForm(p+"/setup", p+"/setup", form)
	checkBodyClean(t, "setup on a full disk", rec)
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "the disk is full") {
		t.Fatalf("setup on a full disk: status %d, want 507 saying the disk is full: %.500s", rec.Code, rec.Body)
	}
	if done, err := a.s.setup.Done(t.Context()); err != nil || done {
		t.Fatalf("after the failed setup: done %v, %v; want nothing stored", done, err)
	}

	free()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), p+"/")
}
