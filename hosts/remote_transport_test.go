package hosts

import (
	"net"
	"net/http"
	"testing"
)

// TestUnreachableSaysWhy: an agent that is not running is named with
// its address and the likely cause, not with net/http's method and URL.
func TestUnreachableSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + ln.Addr().String()
	ln.Close()
	resp, err := http.Post(base+"/v1/call/all-jail-status", "application/json", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a closed port answered")
	}
	got := (&UnreachableError{URL: base, Err: err}).Error()
	want := "the agent at " + base + " does not answer: nothing listens at that address (connection refused): the agent is stopped or listens elsewhere"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
