package blocklists

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// listServer serves test blocklists by path, like a list provider would.
type listServer struct {
	*httptest.Server
	mu    sync.Mutex
	lists map[string]string // path → body for /list/<name>
	hits  map[string]int
}

// Lists the server offers besides those set with set.
const (
	goodList      = "# good list\n192.0.2.1\n192.0.2.2\n; comment\n\n192.0.2.3 # trailing\n"
	malformedList = "<html><body>Not found</body></html>\n<p>sorry</p>\n"
	mixList       = "2001:db8::1\n2001:db8::/48\n198.51.100.0/24\n192.0.2.10\n2001:db8::1\n"
)

func newListServer(t testing.TB) *listServer {
	s := &listServer{lists: map[string]string{
		"good":      goodList,
		"empty":     "",
		"malformed": malformedList,
		"mix":       mixList,
	}, hits: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/list/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, ok := s.lists[r.PathValue("name")]
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// 64 KiB of valid lines, streamed without a length.
		line := []byte("192.0.2.77\n")
		for range (64 << 10) / len(line) {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge-known-length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(64<<10))
		w.Write(bytes.Repeat([]byte("#"), 64<<10))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		s.hit(r)
		<-r.Context().Done() // never answers before the client gives up
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		s.hit(r)
		w.Write([]byte("192.0.2.1\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if s.hit(r) == 1 {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, goodList)
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		if s.hit(r) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, goodList)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		s.hit(r)
		http.Error(w, "down", http.StatusBadGateway)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		s.hit(r)
		http.NotFound(w, r)
	})
	mux.HandleFunc("/gzip-encoded", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "gzip only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, mixList))
	})
	mux.HandleFunc("/list.txt.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gzipped(t, goodList))
	})
	mux.HandleFunc("/gzip-bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, strings.Repeat("\n", 1<<20)))
	})
	mux.HandleFunc("/gzip-broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		b := gzipped(t, goodList)
		w.Write(b[:len(b)-6])
	})
	mux.HandleFunc("/redirect-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.org/list.txt", http.StatusFound)
	})
	mux.HandleFunc("/redirect-good", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/list/good", http.StatusFound)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) hit(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[r.URL.Path]++
	return s.hits[r.URL.Path]
}

func (s *listServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// set serves body at /list/<name>.
func (s *listServer) set(name, body string) string {
	s.mu.Lock()
	s.lists[name] = body
	s.mu.Unlock()
	return s.URL + "/list/" + name
}

func gzipped(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testDownloader has small limits so that failures come quickly.
func testDownloader() Downloader {
	return Downloader{Timeout: 300 * time.Millisecond, MaxBytes: 16 << 10, Attempts: 3, Backoff: 10 * time.Millisecond}
}
