package blocklists

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"bangui/lang"
	"bangui/models"
)

// fetchParsed downloads and parses a list as an import does.
func fetchParsed(t *testing.T, d Downloader, url string) (ParsedList, error) {
	t.Helper()
	var parsed ParsedList
	err := d.Fetch(context.Background(), url, func(r io.Reader) error {
		var err error
		parsed, err = Parse(r, nil, 0)
		return err
	})
	return parsed, err
}

func TestDownloaderListsGiveCountsAndMessages(t *testing.T) {
	srv := newListServer(t)
	d := testDownloader()
	cases := []struct {
		path    string
		targets []string
		counts  models.BlocklistCounts
		err     string // part of the message; "" for success
		de      string // the message in German; "": not checked
		hits    int    // requests expected for paths that count them; 0: not checked
	}{
		{path: "/list/good", targets: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
			counts: models.BlocklistCounts{Lines: 6, IPv4: 3, Comments: 2, Blank: 1}},
		{path: "/list/empty", counts: models.BlocklistCounts{}},
		{path: "/list/malformed", counts: models.BlocklistCounts{Lines: 2, Invalid: 2}},
		{path: "/list/mix", targets: []string{"2001:db8::1", "2001:db8::/48", "198.51.100.0/24", "192.0.2.10"},
			counts: models.BlocklistCounts{Lines: 5, IPv4: 1, IPv6: 2, CIDR: 2, Duplicates: 1}},
		{path: "/gzip-encoded", targets: []string{"2001:db8::1", "2001:db8::/48", "198.51.100.0/24", "192.0.2.10"},
			counts: models.BlocklistCounts{Lines: 5, IPv4: 1, IPv6: 2, CIDR: 2, Duplicates: 1}},
		{path: "/list.txt.gz", targets: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
			counts: models.BlocklistCounts{Lines: 6, IPv4: 3, Comments: 2, Blank: 1}},
		{path: "/flaky", targets: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
			counts: models.BlocklistCounts{Lines: 6, IPv4: 3, Comments: 2, Blank: 1}, hits: 2},
		{path: "/busy", targets: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
			counts: models.BlocklistCounts{Lines: 6, IPv4: 3, Comments: 2, Blank: 1}, hits: 2},
		{path: "/redirect-good", targets: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"},
			counts: models.BlocklistCounts{Lines: 6, IPv4: 3, Comments: 2, Blank: 1}},
		{path: "/huge", err: "The list is larger than 16 KB, the size limit."},
		{path: "/huge-known-length", err: "The list is larger than 16 KB, the size limit."},
		{path: "/gzip-bomb", err: "The list is larger than 16 KB, the size limit."},
		{path: "/gzip-broken", err: "The gzip-compressed list is damaged.", de: "Die gzip-komprimierte Liste ist beschädigt."},
		{path: "/slow", err: "The server did not send the list within 300ms. (tried 3 times)", hits: 3,
			de: "Der Server hat die Liste nicht innerhalb von 300ms gesendet. (3-mal versucht)"},
		{path: "/slow-body", err: "The server did not send the list within 300ms. (tried 3 times)", hits: 3},
		{path: "/down", err: "The server answered 502 Bad Gateway. (tried 3 times)", hits: 3,
			de: "Der Server antwortete 502 Bad Gateway. (3-mal versucht)"},
		{path: "/missing", err: "The server answered 404 Not Found.", hits: 1},
		{path: "/redirect-ftp", err: "The server redirected to an address that is not allowed: redirect to a ftp address refused.",
			de: "Der Server leitete auf eine nicht erlaubte Adresse weiter: Weiterleitung zu einer ftp-Adresse abgelehnt."},
	}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			got, err := fetchParsed(t, d, srv.URL+c.path)
			if c.err != "" {
				var de *DownloadError
				if !errors.As(err, &de) || de.Error() != c.err {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				if got := lang.Text(lang.With(context.Background(), lang.Get("de")), err); c.de != "" && got != c.de {
					t.Errorf("in German: %q, want %q", got, c.de)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Targets, c.targets) || got.Counts != c.counts {
					t.Fatalf("targets %q counts %+v\nwant    %q counts %+v", got.Targets, got.Counts, c.targets, c.counts)
				}
			}
			if c.hits > 0 {
				if n := srv.hitsOf(c.path); n != c.hits {
					t.Errorf("%d requests, want %d", n, c.hits)
				}
			}
		})
	}
}

func TestDownloaderRefusesOtherSchemes(t *testing.T) {
	for raw, want := range map[string]string{
		"file:///etc/passwd":      "Only http:// and https:// addresses can be imported.",
		"ftp://example.org/a.txt": "Only http:// and https:// addresses can be imported.",
		"example.org/list.txt":    "Start the address with http:// or https://.",
		"http://":                 "The address has no host name.",
		"":                        "Enter the address of the list.",
	} {
		err := testDownloader().Fetch(context.Background(), raw, func(io.Reader) error {
			t.Fatalf("%q: read called", raw)
			return nil
		})
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", raw, err, want)
		}
	}
}

func TestDownloaderStopsWhenContextEnds(t *testing.T) {
	srv := newListServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := testDownloader()
	if err := d.Fetch(ctx, srv.URL+"/slow", func(io.Reader) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
