package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The single-request figures of the issue, timed apart from the load: the
// first request of each page after the panel started (before the run; the
// panel computes the long dashboards' counts at start), and the median of
// sequential requests after the run, when nothing else is asked.

// timedPage is one page the report times on its own.
type timedPage struct {
	name string
	path string
	hdr  map[string]string
}

// timedPages are the figures: the 365-day dashboard from fail2ban's
// database and from the archive, the 24 h dashboard, the table fragment
// and the per-IP page of the address whose ban count is nearest to 5,072.
func timedPages(ip string, bans int) []timedPage {
	return []timedPage{
		{"dashboard 365d fail2ban", "/?range=365d&source=fail2ban", nil},
		{"dashboard 365d archive", "/?range=365d", nil},
		{"dashboard 24h", "/?range=24h", nil},
		{"dash table fragment", "/?range=24h&page=2", fragmentHdr("dash-bans")},
		{fmt.Sprintf("per-IP page (%d bans)", bans), "/history/" + url.PathEscape(ip), nil},
	}
}

// ipNear returns the address of the fail2ban database at path whose ban
// count is nearest to want, and its count.
func ipNear(ctx context.Context, path string, want int) (string, int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	var ip string
	var n int
	err = db.QueryRowContext(ctx, `SELECT ip, count(*) AS n FROM bans GROUP BY ip ORDER BY abs(n - ?), ip LIMIT 1`, want).Scan(&ip, &n)
	return ip, n, err
}

// timeOnce times one request of p.
func timeOnce(ctx context.Context, c *http.Client, base string, p timedPage) (time.Duration, error) {
	d, err := timedGet(ctx, c, base+p.path, p.hdr)
	if err != nil {
		err = fmt.Errorf("GET %s: %w", p.path, err)
	}
	return d, err
}

// timedGet GETs url with hdr, reads the whole answer and returns its wall
// time; anything but 200 is an error.
func timedGet(ctx context.Context, c *http.Client, url string, hdr map[string]string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return d, err
}

// pageTiming is what one timed page measured.
type pageTiming struct {
	Name   string
	First  time.Duration // the first request after the panel started
	Median time.Duration // of the sequential requests after the run
	Runs   int
}

// timeFirst times the first request of each page.
func timeFirst(ctx context.Context, c *http.Client, base string, pages []timedPage) ([]pageTiming, error) {
	out := make([]pageTiming, len(pages))
	for i, p := range pages {
		d, err := timeOnce(ctx, c, base, p)
		if err != nil {
			return nil, err
		}
		out[i] = pageTiming{Name: p.name, First: d}
	}
	return out, nil
}

// timeMedians fills in the median of runs sequential requests of each page.
func timeMedians(ctx context.Context, c *http.Client, base string, pages []timedPage, runs int, out []pageTiming) error {
	for i, p := range pages {
		var ds []time.Duration
		for range runs {
			d, err := timeOnce(ctx, c, base, p)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		out[i].Median, out[i].Runs = percentile(ds, 50), runs
	}
	return nil
}

// writeTimings prints the timed pages.
func writeTimings(w io.Writer, ts []pageTiming) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(w, "\nsingle requests (first after the panel started; median of %d sequential after the run):\n", ts[0].Runs)
	for _, t := range ts {
		fmt.Fprintf(w, "  %-32s first %8.1f ms   median %8.1f ms\n", t.Name, ms(t.First), ms(t.Median))
	}
}
