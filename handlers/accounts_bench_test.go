package handlers

import (
	"net/http"
	"testing"
)

// BenchmarkLoggedInRequest is one light logged-in request (the status bar
// fragment): the session load, the account's lookup and the render.
func BenchmarkLoggedInRequest(b *testing.B) {
	a := newTestApp(b, b.TempDir())
	br := a.browser()
	br.completeSetup()
	if rec := br.login(goodPassword); rec.Code != http.StatusSeeOther {
		b.Fatalf("login: %d", rec.Code)
	}
	b.ResetTimer()
	for b.Loop() {
		if rec := br.get("/status"); rec.Code != http.StatusOK {
			b.Fatalf("status: %d", rec.Code)
		}
	}
}
