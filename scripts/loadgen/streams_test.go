package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHoldStreamCountsAndReconnects serves one stream that ends after a
// few events, then wants the reconnect to carry the last id, as a
// browser's EventSource does.
func TestHoldStreamCountsAndReconnects(t *testing.T) {
	second := make(chan string, 1)
	conns := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			http.Error(w, "want an event stream", http.StatusBadRequest)
			return
		}
		conns++ // connections come one after the other
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		switch conns {
		case 1:
			fmt.Fprint(w, "event: live\ndata: Live\n\n: heartbeat\n\nid: 5\nevent: status\ndata: <div>\ndata: </div>\n\nid: 6\nevent: bans\ndata: x\n\n")
			return // the panel ends the stream
		case 2:
			fmt.Fprint(w, "event: live\ndata: Live\n\n")
			return // and again, with nothing new
		}
		// The third: the client has read the first two to their end.
		w.(http.Flusher).Flush()
		second <- r.Header.Get("Last-Event-ID")
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan []*sseStats, 1)
	go func() { done <- holdStreams(ctx, srv.URL, []*http.Client{newClient(1)}, ready) }()
	select {
	case last := <-second:
		if last != "6" {
			t.Errorf("reconnect sent Last-Event-ID %q, want 6", last)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect within 10 s")
	}
	<-ready
	cancel()
	st := (<-done)[0]
	if st.Events["live"] != 2 || st.Events["status"] != 1 || st.Events["bans"] != 1 || st.Heartbeats != 1 {
		t.Errorf("events %v, heartbeats %d; want live 2, status 1, bans 1, heartbeats 1", st.Events, st.Heartbeats)
	}
	if st.Reconnects != 2 || st.Errors != 0 {
		t.Errorf("reconnects %d, errors %d (%v); want 2 and 0", st.Reconnects, st.Errors, st.errSamples)
	}
}

// TestHoldStreamRefused counts a refusal over the cap as an error.
func TestHoldStreamRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 60000\n\nevent: fallback\ndata: too many\n\n")
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := newSSEStats()
	err := readStream(ctx, srv.URL, newClient(1), "", st, func() {}, new(string))
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want a refusal", err)
	}
}
