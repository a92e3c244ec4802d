package rules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// digestTop is how many countries and jails a digest lists.
const digestTop = 5

// digestLate is how long after its time a digest is still sent (a panel
// that was down at the time sends it when it is back within this).
const digestLate = time.Hour

// CheckDigests sends the digests that are due at the evaluator's clock in
// the panel's time zone, each once per period.
func (e *Evaluator) CheckDigests(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	loc := time.UTC
	if e.Location != nil {
		if l := e.Location(ctx); l != nil {
			loc = l
		}
	}
	now := e.now().In(loc)
	for _, r := range e.enabled(ctx, KindDigest) {
		h, m, _ := parseClock(r.Params.At) // validated
		due := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, loc)
		period := 24 * time.Hour
		if r.Params.Every == "weekly" {
			if int(now.Weekday()) != r.Params.Weekday {
				continue
			}
			period = 7 * 24 * time.Hour
		}
		key := due.Format("2006-01-02")
		stateKey := stateDigestPrefix + strconv.FormatInt(r.ID, 10)
		if now.Before(due) || now.Sub(due) >= digestLate || e.digests[r.ID] == key || e.loadState(ctx, stateKey) == key {
			continue
		}
		e.digests[r.ID] = key
		e.saveState(ctx, stateKey, key)
		from := due.Add(-period)
		d, err := e.Store.Digest(ctx, from.Unix(), due.Unix(), digestTop)
		if err != nil {
			e.log().Warn("alert digest", "rule", r.Name, "err", err)
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "From %s to %s:\n%d bans, %d new offenders.\n", from.Format("2006-01-02 15:04"), due.Format("2006-01-02 15:04 MST"), d.Bans, d.NewOffenders)
		var countries, jails []string
		for _, c := range d.TopCountries {
			name := c.Host
			if name == "" {
				name = "unknown"
			}
			countries = append(countries, fmt.Sprintf("%s %d", name, c.N))
		}
		for _, j := range d.TopJails {
			jails = append(jails, fmt.Sprintf("%s %d", j.Jail, j.N))
		}
		fmt.Fprintf(&b, "Top countries: %s\nTop jails: %s", strings.Join(countries, ", "), strings.Join(jails, ", "))
		e.send(ctx, r, "digest", fmt.Sprintf("BanGUI %s digest: %d bans", r.Params.Every, d.Bans), b.String())
	}
}
