package geo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"bangui/models"
)

// IPAPIBatchURL is ip-api.com's batch endpoint (plain HTTP on the free tier).
const IPAPIBatchURL = "http://ip-api.com/batch"

// Online limits: ip-api.com takes at most 100 addresses per batch request
// and 15 batch requests per minute from one client.
const (
	OnlineBatchSize = 100
	OnlinePerMinute = 15
)

// Online resolves addresses with ip-api.com's batch endpoint (or anything
// that answers the same way). It sends only public addresses, at most
// OnlineBatchSize per request, and spaces requests so that no more than
// OnlinePerMinute go out per minute; when the service says its quota is
// used up (X-Rl: 0 or status 429) it waits the X-Ttl seconds it names.
// BanGUI never creates one unless the administrator turns it on.
type Online struct {
	url      string
	client   *http.Client
	classify *Classifier
	interval time.Duration
	now      func() time.Time

	turn chan struct{} // a one-slot semaphore: serialises requests, guards next; waiting honours the context
	next time.Time     // no request before this time
}

// NewOnline returns a resolver for the batch endpoint at url.
func NewOnline(url string, client *http.Client) *Online {
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	return &Online{url: url, client: client, classify: NewClassifier(),
		interval: time.Minute / OnlinePerMinute, now: time.Now, turn: make(chan struct{}, 1)}
}

// Lookup resolves one address.
func (o *Online) Lookup(ctx context.Context, ip string) (models.GeoInfo, error) {
	return lookupOne(ctx, o, ip)
}

// LookupMany resolves addresses in batches. Special ranges never leave the
// host. On an error the answers gathered so far are returned with it.
func (o *Online) LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error) {
	out := make(map[string]models.GeoInfo, len(ips))
	var public []string
	var invalid bool
	for _, ip := range ips {
		if _, done := out[ip]; done {
			continue
		}
		a, err := ParseIP(ip)
		if err != nil {
			invalid = true
			continue
		}
		if sp := o.classify.Special(a); sp != "" {
			out[ip] = models.GeoInfo{IP: ip, Special: sp}
			continue
		}
		out[ip] = models.GeoInfo{} // placeholder: dedupe
		public = append(public, ip)
	}
	for _, ip := range public {
		delete(out, ip)
	}
	for start := 0; start < len(public); start += OnlineBatchSize {
		batch := public[start:min(start+OnlineBatchSize, len(public))]
		got, err := o.batch(ctx, batch)
		for _, g := range got {
			out[g.IP] = withName(g)
		}
		if err != nil {
			return out, err
		}
	}
	if invalid {
		return out, ErrInvalidIP
	}
	return out, nil
}

// ipAPIAnswer is one element of the batch endpoint's reply.
type ipAPIAnswer struct {
	Status      string `json:"status"`
	Message     string `json:"message"`
	Query       string `json:"query"`
	CountryCode string `json:"countryCode"`
	Country     string `json:"country"`
	AS          string `json:"as"` // "AS15169 Google LLC"
	Org         string `json:"org"`
	ASName      string `json:"asname"`
}

// batch sends one request for at most OnlineBatchSize addresses.
func (o *Online) batch(ctx context.Context, ips []string) ([]models.GeoInfo, error) {
	select {
	case o.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-o.turn }()
	if err := o.waitTurn(ctx); err != nil {
		return nil, err
	}
	body, err := json.Marshal(ips)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		o.url+"?fields=status,message,query,countryCode,country,as,asname,org", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("geo: online: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.client.Do(req)
	o.next = o.now().Add(o.interval)
	if err != nil {
		return nil, fmt.Errorf("geo: online: %w", err)
	}
	defer resp.Body.Close()
	o.obeyQuota(resp)
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("geo: online: %s answered %s", o.url, resp.Status)
	}
	var answers []ipAPIAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&answers); err != nil {
		return nil, fmt.Errorf("geo: online: bad reply: %w", err)
	}
	asked := make(map[string]bool, len(ips))
	for _, ip := range ips {
		asked[ip] = true
	}
	out := make([]models.GeoInfo, 0, len(answers))
	for _, a := range answers {
		if !asked[a.Query] {
			continue // never trust an answer to a question not asked
		}
		g := models.GeoInfo{IP: a.Query}
		if a.Status == "success" && len(a.CountryCode) == 2 {
			g.CountryCode = strings.ToUpper(a.CountryCode)
			g.CountryName = a.Country
			g.ASN, g.Org = parseAS(a.AS)
			if a.Org != "" {
				g.Org = a.Org
			} else if g.Org == "" {
				g.Org = a.ASName
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// waitTurn blocks until the next request may go out.
func (o *Online) waitTurn(ctx context.Context) error {
	d := o.next.Sub(o.now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// obeyQuota pushes the next request back when the reply says the quota is
// used up: X-Rl is the requests left in the window, X-Ttl the seconds until
// it resets.
func (o *Online) obeyQuota(resp *http.Response) {
	ttl, err := strconv.Atoi(resp.Header.Get("X-Ttl"))
	if err != nil || ttl < 0 {
		if resp.StatusCode != http.StatusTooManyRequests {
			return
		}
		ttl = 60
	}
	if resp.Header.Get("X-Rl") == "0" || resp.StatusCode == http.StatusTooManyRequests {
		if until := o.now().Add(time.Duration(ttl) * time.Second); until.After(o.next) {
			o.next = until
		}
	}
}

// parseAS splits "AS15169 Google LLC" into 15169 and "Google LLC".
func parseAS(s string) (uint, string) {
	num, org, _ := strings.Cut(s, " ")
	if !strings.HasPrefix(num, "AS") {
		return 0, ""
	}
	n, err := strconv.ParseUint(num[2:], 10, 32)
	if err != nil {
		return 0, ""
	}
	return uint(n), org
}

// Chain asks resolvers in order: an address the first one has no country
// for goes to the next, and so on. Special ranges are final at once.
type Chain []Resolver

// Lookup resolves one address.
func (c Chain) Lookup(ctx context.Context, ip string) (models.GeoInfo, error) {
	return lookupOne(ctx, c, ip)
}

// LookupMany resolves addresses through the chain. An address that no
// resolver found a country for is answered as unknown only if every
// resolver that was asked about it answered; otherwise it is left out and
// the error returned.
func (c Chain) LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error) {
	out := make(map[string]models.GeoInfo, len(ips))
	pending := ips
	var errs []error
	failed := false
	for _, r := range c {
		if len(pending) == 0 {
			break
		}
		got, err := r.LookupMany(ctx, pending)
		if err != nil && !errors.Is(err, ErrInvalidIP) {
			errs = append(errs, err)
			failed = true
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		var next []string
		for _, ip := range pending {
			g, ok := got[ip]
			switch {
			case ok && (g.Known() || g.Special != ""):
				out[ip] = g
			case ok:
				out[ip] = g // unknown so far; a later resolver may know
				next = append(next, ip)
			default:
				if _, err := ParseIP(ip); err == nil {
					next = append(next, ip)
				}
			}
		}
		pending = next
	}
	if failed {
		for _, ip := range pending {
			delete(out, ip)
		}
	}
	return out, errors.Join(errs...)
}
