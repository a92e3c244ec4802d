package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
)

// banN bans n distinct addresses in jail, 2,000 per fail2ban call. It
// first removes the jail's dummy action, which would run a shell per address.
func banN(b testing.TB, sb *sandbox.Sandbox, jail string, n int) {
	b.Helper()
	if _, err := sb.Client().Call(context.Background(), "set", jail, "delaction", "dummy"); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 2000 {
		args := []string{"set", jail, "banip"}
		for i := start; i < min(start+2000, n); i++ {
			args = append(args, fmt.Sprintf("100.%d.%d.%d", 64+i/65536, (i/256)%256, i%256))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err := fail2ban.NewClient(sb.SocketPath, fail2ban.WithTimeout(5*time.Minute)).Call(ctx, args...)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJailPage20k renders page 1 of a jail that holds 20,000 bans, as
// a logged-in browser asks for it, and reports the median request time.
func BenchmarkJailPage20k(b *testing.B) {
	a, br, sb := loggedInWithFail2banTB(b)
	banN(b, sb, "sshd", 20000)
	a.s.status.Refresh(context.Background())
	if rec := br.get("/jails/sshd"); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rec := br.get("/jails/sshd")
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
}
