package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

func TestReplaceAddr(t *testing.T) {
	for _, c := range []struct{ in, old, repl, want string }{
		{"from 1.2.3.4 port 22", "1.2.3.4", "5.6.7.8", "from 5.6.7.8 port 22"},
		{`"ip4": "1.2.3.4"}`, "1.2.3.4", "5.6.7.8", `"ip4": "5.6.7.8"}`},
		{"11.2.3.45 and 1.2.3.4", "1.2.3.4", "X", "11.2.3.45 and X"},
		{"unknown[1.2.3.4]: x 1.2.3.4", "1.2.3.4", "X", "unknown[X]: x X"},
		{"2400::1 2400::12 a2400::1", "2400::1", "X", "X 2400::12 a2400::1"},
		{"nothing here", "1.2.3.4", "X", "nothing here"},
	} {
		if got := replaceAddr(c.in, c.old, c.repl); got != c.want {
			t.Errorf("replaceAddr(%q, %q) = %q, want %q", c.in, c.old, got, c.want)
		}
	}
}

// TestSeedHistory writes the history, checks it row by row and starts a
// real fail2ban on it: fail2ban takes the database, keeps the rows and
// restores the bans that are still running.
func TestSeedHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := sandbox.DBPath(dir)
	pool := NewPool()
	end := time.Now().Add(-2 * time.Minute)
	const days = 7
	n, err := SeedHistory(context.Background(), path, pool, days, end)
	if err != nil {
		t.Fatal(err)
	}
	if n < days*bansPerDay*8/10 {
		t.Fatalf("%d bans over %d days, want about %d", n, days, days*bansPerDay)
	}
	if _, err := SeedHistory(context.Background(), path, pool, days, end); err == nil {
		t.Error("a second seed overwrote the database")
	}

	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT jail, ip, timeofban, data FROM bans`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	jails := map[string]int{}
	countries := map[string]bool{}
	for rows.Next() {
		var jail, ip string
		var at int64
		var data sql.NullString
		if err := rows.Scan(&jail, &ip, &at, &data); err != nil {
			t.Fatal(err)
		}
		count++
		jails[jail]++
		a, err := netip.ParseAddr(ip)
		if err != nil || pool.Country[a] == "" {
			t.Fatalf("ban of %q: not an address of the pool", ip)
		}
		countries[pool.Country[a]] = true
		if at > end.Unix() || at <= end.Add(-days*24*time.Hour).Unix() {
			t.Errorf("ban of %s at %v, outside the %d days before %v", ip, time.Unix(at, 0), days, end)
		}
		var d struct {
			IP4 string `json:"ip4"`
			IP6 string `json:"ip6"`
		}
		if data.Valid && data.String != "null" {
			if err := json.Unmarshal([]byte(data.String), &d); err != nil {
				t.Fatalf("data of %s is not JSON: %v", ip, err)
			}
			if d.IP4+d.IP6 != "" && d.IP4+d.IP6 != ip {
				t.Errorf("data of %s names %q", ip, d.IP4+d.IP6)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("%d rows, SeedHistory said %d", count, n)
	}
	for j := range jails {
		if !seedJails[j] {
			t.Errorf("bans in jail %s, which the demo does not have", j)
		}
	}
	for j := range seedJails {
		if jails[j] == 0 {
			t.Errorf("no bans in jail %s", j)
		}
	}
	if len(countries) < 20 {
		t.Errorf("bans from %d countries, want at least 20", len(countries))
	}
	t.Logf("%d bans from %d countries: %v", count, len(countries), jails)

	sb := sandboxtest.StartOptions(t, sandbox.Options{Dir: dir, Jails: Jails(), DBPurgeAge: DBPurgeAge})
	ctx := context.Background()
	if v, err := sb.Client().Call(ctx, "get", "dbfile"); err != nil || v != path {
		t.Errorf("get dbfile = %#v, %v; want %s", v, err, path)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); ; {
		st, err := sb.Client().JailStatusShort(ctx, "blocklist-import")
		if err != nil {
			t.Fatal(err)
		}
		if st.CurrentlyBanned > 0 {
			t.Logf("fail2ban restores the running blocklist bans (%d so far)", st.CurrentlyBanned)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fail2ban restored no ban of the seeded last day in blocklist-import")
		}
		<-tick.C
	}
	var after int
	if err := db.QueryRow(`SELECT count(*) FROM bans`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after < n {
		t.Errorf("fail2ban left %d of the %d seeded bans", after, n)
	}
}
