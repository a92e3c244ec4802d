package repo

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TestMergeManualBansPairs checks which of fail2ban's rows MergeManualBans
// folds with the panel's records of manual bans: only a row of the same
// host, jail and address stamped at most manualTwinWindow seconds from a
// record, and stamped since the window's start; everything else stays.
func TestMergeManualBansPairs(t *testing.T) {
	forEachArchive(t, func(t *testing.T, _ *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		at := ago(time.Hour)
		since := fixedNow.Add(-2 * time.Hour)
		manual := string(models.OriginManual)
		f2b := `{"matches": [], "failures": 3}`
		events := []models.ArchivedBan{
			{Host: "web1", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at, Origin: manual},                                        // 1: the panel's record
			{Host: "web1", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at + manualTwinWindow, Data: f2b},                          // 2: its twin, at the window's edge
			{Host: "web1", Jail: "sshd", IP: "192.0.2.2", TimeOfBan: at, Origin: manual},                                        // 3: a record
			{Host: "web1", Jail: "sshd", IP: "192.0.2.2", TimeOfBan: at - manualTwinWindow - 1, Data: f2b},                      // 4: too early for it
			{Host: "web1", Jail: "sshd", IP: "192.0.2.3", TimeOfBan: at, Origin: manual},                                        // 5: a record
			{Host: "web1", Jail: "nginx-http-auth", IP: "192.0.2.3", TimeOfBan: at, Data: f2b},                                  // 6: another jail
			{Host: "web2", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at + 1, Data: f2b},                                         // 7: another host
			{Host: "web1", Jail: "sshd", IP: "192.0.2.9", TimeOfBan: at + 1, Data: f2b},                                         // 8: another address
			{Host: "web1", Jail: "sshd", IP: "192.0.2.4", TimeOfBan: since.Unix() - 2, Origin: manual},                          // 9: a record just before since
			{Host: "web1", Jail: "sshd", IP: "192.0.2.4", TimeOfBan: since.Unix() + 1, Data: f2b},                               // 10: its twin, after since
			{Host: "web1", Jail: "sshd", IP: "192.0.2.5", TimeOfBan: since.Unix() + 1, Origin: manual},                          // 11: a record after since
			{Host: "web1", Jail: "sshd", IP: "192.0.2.5", TimeOfBan: since.Unix() - 1, Data: f2b},                               // 12: its twin, before since
			{Host: "web1", Jail: "sshd", IP: "192.0.2.6", TimeOfBan: at, Action: "unban", Origin: manual},                       // 13: an unban
			{Host: "web1", Jail: "sshd", IP: "192.0.2.6", TimeOfBan: at, Data: f2b},                                             // 14: no manual ban beside it
			{Host: "web1", Jail: "sshd", IP: "192.0.2.7", TimeOfBan: at, Origin: manual, Data: "{}"},                            // 15: a record
			{Host: "web1", Jail: "sshd", IP: "192.0.2.7", TimeOfBan: at + 2, Origin: string(models.OriginBlocklist), Data: f2b}, // 16: its twin of another origin
		}
		if _, err := s.Archive(ctx, events); err != nil {
			t.Fatal(err)
		}
		n, err := s.MergeManualBans(ctx, since)
		if err != nil || n != 3 {
			t.Fatalf("MergeManualBans = %d, %v; want the pairs 1+2, 9+10 and 15+16", n, err)
		}
		recs, _, err := s.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Host+"|"+r.Jail+"|"+r.IP+"|"+string(r.Action)+"|"+string(r.Origin)+"|"+strconv.FormatInt(r.TimeOfBan.Unix()-at, 10))
		}
		slices.Sort(got)
		want := []string{
			"web1|nginx-http-auth|192.0.2.3|ban|selfblock|0",
			"web1|sshd|192.0.2.1|ban|manual|5",
			"web1|sshd|192.0.2.2|ban|manual|0",
			"web1|sshd|192.0.2.2|ban|selfblock|-6",
			"web1|sshd|192.0.2.3|ban|manual|0",
			"web1|sshd|192.0.2.4|ban|manual|" + strconv.FormatInt(since.Unix()+1-at, 10),
			"web1|sshd|192.0.2.5|ban|manual|" + strconv.FormatInt(since.Unix()+1-at, 10),
			"web1|sshd|192.0.2.5|ban|selfblock|" + strconv.FormatInt(since.Unix()-1-at, 10),
			"web1|sshd|192.0.2.6|ban|selfblock|0",
			"web1|sshd|192.0.2.6|unban|manual|0",
			"web1|sshd|192.0.2.7|ban|manual|2",
			"web1|sshd|192.0.2.9|ban|selfblock|1",
			"web2|sshd|192.0.2.1|ban|selfblock|1",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after the merge:\n%q\nwant\n%q", got, want)
		}
		if n, err := s.MergeManualBans(ctx, since); err != nil || n != 0 {
			t.Fatalf("second MergeManualBans = %d, %v; want nothing left to merge", n, err)
		}
	})
}
