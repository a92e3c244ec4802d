package handlers

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// limitPages lets pageSlots requests run at once; the next one waits for a
// turn, while an event stream and the health check pass at once.
func TestLimitPagesBoundsRequestsAtOnce(t *testing.T) {
	e := echo.New()
	release := make(chan struct{})
	var running, most atomic.Int64
	handler := (&Server{}).limitPages()(func(c echo.Context) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if c.Request().URL.Path == "/" {
			<-release
		}
		running.Add(-1)
		return c.NoContent(http.StatusOK)
	})
	serve := func(path string, hdr map[string]string) <-chan int {
		done := make(chan int, 1)
		go func() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			if err := handler(e.NewContext(req, rec)); err != nil {
				t.Error(err)
			}
			done <- rec.Code
		}()
		return done
	}
	slots := pageSlots()
	var pages []<-chan int
	for range slots + 1 {
		pages = append(pages, serve("/", nil))
	}
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() < int64(slots) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pages running", running.Load(), slots)
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	for _, p := range []struct {
		path string
		hdr  map[string]string
	}{{"/events", map[string]string{"Accept": "text/event-stream"}}, {"/healthz", nil}, {"/history.csv", nil}} {
		select {
		case code := <-serve(p.path, p.hdr):
			if code != http.StatusOK {
				t.Errorf("%s: status %d", p.path, code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for a turn", p.path)
		}
	}
	if n := running.Load(); n != int64(slots) {
		t.Errorf("%d pages running while the slots are full, want %d", n, slots)
	}
	close(release)
	for _, p := range pages {
		<-p
	}
	if m := most.Load(); m > int64(slots)+1 { // + the one that passed at once
		t.Errorf("%d requests ran at once, want at most %d pages", m, slots)
	}
}
