package fail2ban_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox/sandboxtest"

	_ "modernc.org/sqlite" // reads fail2ban's database
)

// median runs f n times and returns the median duration; it stops the test
// on the first error.
func median(t *testing.T, n int, f func() error) time.Duration {
	t.Helper()
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[n/2]
}

// The figures are only logged; these tests are not parallel so that other
// sandboxes do not disturb them.
func TestRoundTripVsFailBanClient(t *testing.T) {
	sb := sandboxtest.Start(t)
	c := fail2ban.NewClient(sb.SocketPath)
	ctx := context.Background()
	client, err := exec.LookPath(fail2ban.DefaultClientPath)
	if err != nil {
		t.Skipf("fail2ban-client not found: %v", err)
	}
	cli := func(args ...string) func() error {
		return func() error {
			out, err := exec.Command(client, append([]string{"-s", sb.SocketPath}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("fail2ban-client %q: %w: %s", args, err, out)
			}
			return nil
		}
	}
	const n = 21
	goPing := median(t, n, func() error { return c.Ping(ctx) })
	goStatus := median(t, n, func() error { _, err := c.JailStatus(ctx, "sshd"); return err })
	cliPing := median(t, n, cli("ping"))
	cliStatus := median(t, n, cli("status", "sshd"))
	t.Logf("median of %d: ping: Go %v, fail2ban-client %v (%.0fx)", n, goPing, cliPing, float64(cliPing)/float64(goPing))
	t.Logf("median of %d: status sshd: Go %v, fail2ban-client %v (%.0fx)", n, goStatus, cliStatus, float64(cliStatus)/float64(goStatus))
	if goPing > cliPing {
		t.Errorf("Go ping (%v) slower than fail2ban-client (%v)", goPing, cliPing)
	}
}

// waitStored waits until fail2ban's database holds n bans.
func waitStored(t *testing.T, dbFile string, n int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbFile+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var got int
	for deadline := time.Now().Add(120 * time.Second); ; <-tick.C {
		if err := db.QueryRow("SELECT COUNT(*) FROM bans").Scan(&got); err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fail2ban's database holds %d bans after 2 minutes (err %v), want %d", got, err, n)
		}
	}
}

// bigJailTargets returns n distinct public-looking addresses: three in four
// random IPv4 addresses outside private and reserved space, the rest from
// the IPv6 documentation range. The seed is fixed.
func bigJailTargets(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	seen := make(map[netip.Addr]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var a netip.Addr
		if len(out)%4 == 3 {
			var b [16]byte
			copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
			for i := 4; i < 16; i++ {
				b[i] = byte(r.UintN(256))
			}
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{byte(11 + r.UintN(212)), byte(r.UintN(256)), byte(r.UintN(256)), byte(1 + r.UintN(254))})
			if a.IsPrivate() || a.IsLoopback() || a.IsMulticast() {
				continue
			}
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a.String())
		}
	}
	return out
}

func TestBigJail(t *testing.T) {
	if testing.Short() {
		t.Skip("bans 20,000 addresses")
	}
	sb := sandboxtest.Start(t)
	c := fail2ban.NewClient(sb.SocketPath, fail2ban.WithTimeout(60*time.Second))
	ctx := context.Background()
	// Without actions a ban only lives in fail2ban's memory and database;
	// the dummy action would run a shell per address.
	if _, err := c.Call(ctx, "set", "sshd", "delaction", "dummy"); err != nil {
		t.Fatal(err)
	}
	const total, chunk = 20000, 2000
	targets := bigJailTargets(total)
	start := time.Now()
	for i := 0; i < total; i += chunk {
		n, err := c.Ban(ctx, "sshd", targets[i:i+chunk]...)
		if err != nil || n != chunk {
			t.Fatalf("Ban chunk %d = %d, %v", i/chunk, n, err)
		}
	}
	banned := time.Since(start)
	// fail2ban stores the bans in its database in a background thread,
	// which competes with the commands; wait for it before measuring.
	waitStored(t, sb.DBFile, total)
	t.Logf("banning %d addresses in %d calls of %d: %v; stored in fail2ban's database after %v", total, total/chunk, chunk, banned, time.Since(start))
	var entries []fail2ban.BanEntry
	withTime := median(t, 10, func() (err error) {
		entries, err = c.BannedWithTime(ctx, "sshd", time.Local)
		return err
	})
	if len(entries) != total {
		t.Fatalf("BannedWithTime returned %d entries, want %d", len(entries), total)
	}
	var st fail2ban.JailStatus
	short := median(t, 10, func() (err error) { st, err = c.JailStatusShort(ctx, "sshd"); return err })
	if st.CurrentlyBanned != total || st.Banned != nil {
		t.Errorf("JailStatusShort = %d banned, list %d", st.CurrentlyBanned, len(st.Banned))
	}
	raw := median(t, 5, func() error { _, err := c.Call(ctx, "get", "sshd", "banip", "--with-time"); return err })
	full := median(t, 5, func() (err error) { st, err = c.JailStatus(ctx, "sshd"); return err })
	if len(st.Banned) != total {
		t.Errorf("JailStatus lists %d", len(st.Banned))
	}
	all := median(t, 5, func() error { _, err := c.AllJailStatus(ctx); return err })
	bannedAll := median(t, 5, func() error { _, err := c.BannedAll(ctx); return err })

	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = fmt.Sprintf("%s \t%s + %d = %s", e.IP, e.Start.Format("2006-01-02 15:04:05"), int64(e.BanTime/time.Second), e.End.Format("2006-01-02 15:04:05"))
	}
	parse := median(t, 5, func() error {
		for _, l := range lines {
			if _, err := fail2ban.ParseBanEntry(l, time.Local); err != nil {
				return err
			}
		}
		return nil
	})

	t.Logf("jail with %d bans (medians):", total)
	t.Logf("  BannedWithTime      %v (10 runs; the bare call without parsing %v, parsing alone %v)", withTime, raw, parse)
	t.Logf("  JailStatusShort     %v (10 runs)", short)
	t.Logf("  JailStatus (full)   %v", full)
	t.Logf("  AllJailStatus       %v", all)
	t.Logf("  BannedAll           %v", bannedAll)
	if withTime > 50*time.Millisecond {
		t.Logf("  NOTE: BannedWithTime takes more than 50ms for %d bans", total)
	}
}
