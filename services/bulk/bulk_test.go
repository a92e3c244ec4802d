package bulk

import (
	"errors"
	"reflect"
	"testing"

	"bangui/models"
	"bangui/services"
)

// TestBatchesGroupByHostAndJail: one call per host, jail and batch, in
// the order the rows came, never one per address.
func TestBatchesGroupByHostAndJail(t *testing.T) {
	ts := []Target{{"a", "sshd", "192.0.2.1"}, {"b", "sshd", "192.0.2.2"}, {"a", "web", "192.0.2.3"},
		{"a", "sshd", "192.0.2.4"}, {"a", "sshd", "192.0.2.5"}}
	var got [][]string
	for _, b := range batches(ts, 2) {
		row := []string{b.host, b.jail}
		for _, t := range b.targets {
			row = append(row, t.IP)
		}
		got = append(got, row)
	}
	want := [][]string{{"a", "sshd", "192.0.2.1", "192.0.2.4"}, {"a", "sshd", "192.0.2.5"}, {"b", "sshd", "192.0.2.2"}, {"a", "web", "192.0.2.3"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}

// TestDedupe keeps the first of each row; an allow-list entry for every
// jail is one per host and address.
func TestDedupe(t *testing.T) {
	ts := []Target{{"a", "sshd", "192.0.2.1"}, {"a", "web", "192.0.2.1"}, {"a", "sshd", "192.0.2.1"}, {"b", "sshd", "192.0.2.1"}}
	if got := Dedupe(ts, false); len(got) != 3 {
		t.Errorf("per jail: %v", got)
	}
	if got := Dedupe(ts, true); len(got) != 2 || got[0].Jail != "sshd" || got[1].Host != "b" {
		t.Errorf("every jail: %v", got)
	}
}

// TestInOrder matches a service's answers to the addresses asked, and says
// so for an address it left out.
func TestInOrder(t *testing.T) {
	res, err := inOrder([]string{"192.0.2.1", "192.0.2.2"}, []models.AddressResult{{Address: "192.0.2.2", OK: true}}, nil)
	if err != nil || res[0].OK || res[0].Message.Error() != "no answer for this address" || !res[1].OK {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := inOrder(nil, nil, errors.New("down")); err == nil {
		t.Fatal("an error was lost")
	}
}

// TestStartRefuses an empty selection, one above MaxTargets, and the
// actions whose services are not wired.
func TestStartRefuses(t *testing.T) {
	s := New(t.Context(), nil, nil, nil)
	for _, a := range []models.BulkAction{models.BulkUnban, models.BulkAllow, models.BulkBan} {
		if _, err := s.Start(Request{Action: a, Targets: []Target{{"a", "sshd", "192.0.2.1"}}}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s without its service: %v", a, err)
		}
	}
	s.unbans = &services.Jails{} // never called: Start refuses first
	if _, err := s.Start(Request{Action: models.BulkUnban}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	many := make([]Target, MaxTargets+1)
	for i := range many {
		many[i] = Target{Host: "a", Jail: "sshd", IP: string(rune('a'+i%26)) + string(rune(i))}
	}
	var tooMany *TooManyError
	if _, err := s.Start(Request{Action: models.BulkUnban, Targets: many}); !errors.As(err, &tooMany) {
		t.Errorf("too many: %v", err)
	}
}
