package handlers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"bangui/models"
	"bangui/repo"
)

// BenchmarkHostsPage20 renders /hosts with the local host and 19 remote
// hosts whose agents do not answer (their port is closed): the page reads
// the hosts table and the status probe's cache and asks no host, so a
// dead agent costs it nothing. Reports the median request time.
func BenchmarkHostsPage20(b *testing.B) {
	a, br, _ := loggedInWithFail2banTB(b)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	store := repo.NewHostStore(a.db)
	for i := range 19 {
		h := models.RemoteHost{ID: fmt.Sprintf("web-%02d", i), Name: fmt.Sprintf("Web server %d", i),
			URL: "https://" + dead, Fingerprint: fakeFingerprint(i), Credential: "not-a-real-credential", Enabled: true}
		if err := store.Create(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.s.fleet.Load(ctx); err != nil {
		b.Fatal(err)
	}
	a.s.status.Refresh(ctx) // every remote host offline, with its reason
	rec := br.get("/hosts")
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	if n := parse(b, rec).Find(`table[data-testid="hosts-table"] tbody tr[data-host]`).Length(); n != 20 {
		b.Fatalf("%d rows, want 20", n)
	}
	benchGET(b, br, "/hosts", nil)
}

// fakeFingerprint is a SHA-256 fingerprint's shape, distinct per i.
func fakeFingerprint(i int) string {
	s := fmt.Sprintf("%02X", i)
	for range 31 {
		s += ":AB"
	}
	return s
}
