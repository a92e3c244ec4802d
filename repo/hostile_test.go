package repo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo/f2bgen"
)

// hostileIPs are address column values that mean something to SQL or LIKE,
// as a hostile or corrupted fail2ban database could hold them.
var hostileIPs = []string{
	"10.0.0.1", "10.0.0.%1", "10.0.0._1", "10.0.0.'1", "10.0.0.\"1", "10.0.0.\x001", "10.0.0.\xff", `10.0.0.\1`, "10.0.0.;1",
}

// hostilePrefixes are filter values typed into the address search.
var hostilePrefixes = []string{
	"10.0.0.", "10.0.0.%", "10.0.0._", "%", "_", "'", "10.0.0.'", "10.0.0.\x00", "\x00", "10.0.0.\xff", "\xff",
	"' OR 1=1 --", `10.0.0.\`, "10.0.0.;", "10.0.0.1%", `"`, "10.0.0.[1]",
}

// TestHostilePrefixesMatchLiterally checks both stores against brute force:
// every prefix matches exactly the addresses that start with it byte for
// byte, so % and _ are no wildcards and quotes no SQL.
func TestHostilePrefixesMatchLiterally(t *testing.T) {
	ctx := context.Background()
	var bans []f2bgen.Ban
	var events []models.ArchivedBan
	for i, ip := range hostileIPs {
		jail := "sshd"
		if i%2 == 1 {
			jail = "it's"
		}
		at := ago(time.Duration(i+1) * time.Minute)
		bans = append(bans, f2bgen.Ban{Jail: jail, IP: ip, TimeOfBan: at, BanTime: 600, BanCount: 1, Data: "{}"})
		events = append(events, models.ArchivedBan{Jail: jail, IP: ip, TimeOfBan: at, BanTime: 600, BanCount: 1, Data: "{}", Action: "ban"})
	}
	f2b := openTestReader(t, writeF2B(t, bans), defaultReaderConfig())
	stores := map[string]BanSource{"fail2ban": f2b}
	for _, d := range archiveDialects {
		_, archive := d.open(t)
		if _, err := archive.Archive(ctx, events); err != nil {
			t.Fatal(err)
		}
		stores["archive "+d.name] = archive
	}

	ipsOf := func(recs []models.BanRecord) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.IP)
		}
		slices.Sort(out)
		return out
	}
	for name, s := range stores {
		for _, p := range hostilePrefixes {
			var want []string
			for _, ip := range hostileIPs {
				if strings.HasPrefix(ip, p) {
					want = append(want, ip)
				}
			}
			slices.Sort(want)
			for _, since := range []time.Time{{}, fixedNow.Add(-time.Hour)} {
				recs, total, err := s.Bans(ctx, models.HistoryFilter{IPPrefix: p, Since: since}, models.Page{Number: 1, Size: 100})
				if err != nil {
					t.Errorf("%s prefix %q: %v", name, p, err)
					continue
				}
				if got := ipsOf(recs); !slices.Equal(got, want) || total != int64(len(want)) {
					t.Errorf("%s prefix %q (since %v): %q (total %d), want %q", name, p, since, got, total, want)
				}
			}
		}
		// The jail filter compares names exactly.
		for jail, n := range map[string]int{"it's": 4, "sshd' OR '1'='1": 0, "%": 0, "sshd": 5, "sshd\x00": 0} {
			_, total, err := s.Bans(ctx, models.HistoryFilter{Jail: jail}, models.Page{Number: 1, Size: 100})
			if err != nil || total != int64(n) {
				t.Errorf("%s jail %q: %d rows, %v; want %d", name, jail, total, err, n)
			}
		}
	}
}
