package demo_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"bangui/demo"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// lineRE takes the address out of a generated line, per format.
var lineRE = map[string]*regexp.Regexp{
	"sshd":            regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d web1 sshd\[\d+\]: .*(?:from|user root) (\S+) port \d+`),
	"nginx-http-auth": regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:error|notice)\] .*client: ([^,]+),`),
	"postfix":         regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d mail postfix/submission/smtpd\[\d+\]: .*unknown\[([^\]]+)\]`),
}

// TestTrafficLines checks the generated lines without fail2ban: their
// format, that attackers come from the pool and legitimate users from the
// documentation range, and that attacks reach the jails' maxretry.
func TestTrafficLines(t *testing.T) {
	dir := t.TempDir()
	targets := []demo.Target{
		{Jail: "sshd", File: filepath.Join(dir, "auth.log"), MaxRetry: 5, Weight: 6},
		{Jail: "nginx-http-auth", File: filepath.Join(dir, "nginx.log"), MaxRetry: 3, Weight: 2},
		{Jail: "postfix", File: filepath.Join(dir, "mail.log"), MaxRetry: 3, Weight: 2},
	}
	pool := demo.NewPool()
	tr := demo.NewTraffic(targets, pool, 1)
	doc := netip.MustParsePrefix("198.51.100.0/24")
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	perIP := map[string]int{} // jail|ip → failure lines
	attackers, noise := 0, 0
	for range 3000 {
		now = now.Add(3 * time.Second)
		tg, line := tr.Next(now)
		m := lineRE[tg.Jail].FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s line in an unexpected format: %q", tg.Jail, line)
		}
		a := netip.MustParseAddr(m[1])
		switch {
		case doc.Contains(a):
			noise++
		case pool.Country[a] != "":
			attackers++
			perIP[tg.Jail+"|"+a.String()]++
		default:
			t.Fatalf("address %s is neither an attacker of the pool nor documentation: %q", a, line)
		}
	}
	if noise == 0 || noise > attackers/4 {
		t.Errorf("%d legitimate lines among %d failures", noise, attackers)
	}
	for _, tg := range targets {
		full := 0
		for k, n := range perIP {
			if strings.HasPrefix(k, tg.Jail+"|") && n >= tg.MaxRetry {
				full++
			}
		}
		if full < 10 {
			t.Errorf("%s: %d attackers reached maxretry %d, want many", tg.Jail, full, tg.MaxRetry)
		}
	}
}

// TestTrafficBansInEveryJail runs the traffic against the demo's jails in
// a real fail2ban: each of sshd, nginx-http-auth and postfix bans
// attackers of the pool.
func TestTrafficBansInEveryJail(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.StartOptions(t, sandbox.Options{Jails: demo.Jails()})
	var targets []demo.Target
	for _, j := range demo.Jails() {
		if j.Name == "sshd" || j.Name == "nginx-http-auth" || j.Name == "postfix" {
			targets = append(targets, demo.Target{Jail: j.Name, File: sb.LogPath(j.Name), MaxRetry: j.MaxRetry, Weight: 1})
		}
	}
	pool := demo.NewPool()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := demo.NewTraffic(targets, pool, 2).Run(ctx, 3000); err != nil {
			t.Error(err)
		}
	}()
	defer wg.Wait()
	defer cancel()

	start := time.Now()
	pending := []string{"sshd", "nginx-http-auth", "postfix"}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := start.Add(60 * time.Second); len(pending) > 0; {
		for _, jail := range slices.Clone(pending) {
			v, err := sb.Client().Call(ctx, "get", jail, "banned")
			if err != nil {
				t.Fatal(err)
			}
			l, _ := v.([]any)
			for _, ip := range l {
				s, _ := ip.(string)
				if a, err := netip.ParseAddr(s); err == nil && pool.Country[a] != "" {
					t.Logf("%s banned %s (%s) after %v", jail, s, pool.Country[a], time.Since(start).Round(time.Millisecond))
					pending = slices.DeleteFunc(pending, func(j string) bool { return j == jail })
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ban from the traffic in %v", pending)
		}
		<-tick.C
	}
}
