package services

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/models"
	"bangui/repo"
)

// TestMeasureBlocklistImport times an import of 20,000 addresses against
// fail2ban-client banning the same number in one "set blocklist-import
// banip" call, on the same fail2ban sandbox (dummy action) in the same run,
// in two rounds with the order swapped; and one socket call per address for
// 1,000 addresses, extrapolated to 20,000. fail2ban's dummy action starts a
// shell per address, so this takes minutes: it runs only with
// BANGUI_MEASURE=1.
//
//	BANGUI_MEASURE=1 go test -run TestMeasureBlocklistImport -v -timeout 30m ./services/
func TestMeasureBlocklistImport(t *testing.T) {
	if os.Getenv("BANGUI_MEASURE") != "1" {
		t.Skip("set BANGUI_MEASURE=1 to measure (takes minutes)")
	}
	const n = 20000
	e := newImportEnv(t)
	ctx := context.Background()
	b := NewBlocklists(e.db, e.f2b, NewStatusProbe(e.f2b), BlocklistOptions{})
	if err := b.EnsureJail(ctx); err != nil {
		t.Fatal(err)
	}
	f2bDB, err := repo.OpenFail2BanDB(ctx, e.sb.DBFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f2bDB.Close()
	bansInDB := func() int {
		var c int
		if err := f2bDB.DB().QueryRowContext(ctx, "SELECT count(*) FROM bans WHERE jail = ?", models.BlocklistJail).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// settle waits until fail2ban has written every ban to its database
	// (it does so in a background thread), so that one measurement does
	// not pay for the previous one.
	settle := func(want int) {
		deadline := time.Now().Add(10 * time.Minute)
		for bansInDB() < want {
			if time.Now().After(deadline) {
				t.Fatalf("fail2ban's database holds %d bans, want %d", bansInDB(), want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	addrs := func(block int, count int) []string {
		out := make([]string, 0, count)
		for i := range count {
			out = append(out, fmt.Sprintf("10.%d.%d.%d", block, i/250, i%250+1))
		}
		return out
	}
	total := 0
	ours := func(block int) time.Duration {
		list := addrs(block, n)
		url := e.lists.set(fmt.Sprintf("measure-%d", block), strings.Join(list, "\n")+"\n")
		src := e.addSource(b, fmt.Sprintf("Measure %d", block), url)
		start := time.Now()
		p, err := b.Import(ctx, src.ID, models.TriggerManual)
		took := time.Since(start)
		if err != nil || len(p.Results) != 1 || p.Results[0].Imported != n || p.Results[0].Error != "" {
			t.Fatalf("import: %+v, %v", p, err)
		}
		total += n
		settle(total)
		return took
	}
	client := func(block int) time.Duration {
		args := append([]string{"-s", e.sb.SocketPath, "set", models.BlocklistJail, "banip"}, addrs(block, n)...)
		start := time.Now()
		out, err := exec.Command("fail2ban-client", args...).CombinedOutput()
		took := time.Since(start)
		if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(n) {
			t.Fatalf("fail2ban-client: %v: %.300s", err, out)
		}
		total += n
		settle(total)
		return took
	}
	var oursSum, clientSum time.Duration
	c1 := client(20)
	o1 := ours(21)
	t.Logf("round 1: fail2ban-client %v, BanGUI import %v, ratio %.3f", c1.Round(time.Millisecond), o1.Round(time.Millisecond), o1.Seconds()/c1.Seconds())
	o2 := ours(22)
	c2 := client(23)
	t.Logf("round 2: BanGUI import %v, fail2ban-client %v, ratio %.3f", o2.Round(time.Millisecond), c2.Round(time.Millisecond), o2.Seconds()/c2.Seconds())
	oursSum, clientSum = o1+o2, c1+c2
	ratio := oursSum.Seconds() / clientSum.Seconds()
	t.Logf("20,000 addresses: BanGUI %v vs fail2ban-client %v on average: ratio %.3f (limit 1.15)",
		(oursSum / 2).Round(time.Millisecond), (clientSum / 2).Round(time.Millisecond), ratio)

	// One call per address, for comparison: 1,000 through the socket client.
	const perIP = 1000
	c := fail2ban.NewClient(e.sb.SocketPath, fail2ban.WithTimeout(time.Minute))
	start := time.Now()
	for _, ip := range addrs(24, perIP) {
		if _, err := c.Ban(ctx, models.BlocklistJail, ip); err != nil {
			t.Fatal(err)
		}
	}
	one := time.Since(start)
	t.Logf("one banip call per address: %d in %v (%.2f ms each), extrapolated to 20,000: %v",
		perIP, one.Round(time.Millisecond), float64(one.Microseconds())/perIP/1000, (one * n / perIP).Round(time.Second))
	if ratio > 1.15 {
		t.Errorf("the import took %.3f times as long as fail2ban-client, more than 1.15", ratio)
	}
}
