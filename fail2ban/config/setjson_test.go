package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSetJSONRoundTrip: a Set that crossed the wire as JSON is the same Set
// (what `bangui agent` sends the panel): sections, values, sources,
// overrides, KNOWN/ sections, problems and interpolation.
func TestSetJSONRoundTrip(t *testing.T) {
	dir := filepath.Join("testdata", "merge", "stack", "conf")
	for _, stack := range fixtureStacks {
		s, err := Load(dir, stack, Options{Defaults: map[string]string{"fail2ban_confpath": dir}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Set
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, &back) {
			t.Fatalf("%s: the set changed on the way:\n%+v\n%+v", stack, s, &back)
		}
		for _, sec := range s.Sections() {
			for _, v := range s.Own(sec) {
				want, werr := s.Get(sec, v.Name)
				got, gerr := back.Get(sec, v.Name)
				if want != got || (werr == nil) != (gerr == nil) {
					t.Errorf("%s [%s] %s: %q, %v after the trip, %q, %v before", stack, sec, v.Name, got, gerr, want, werr)
				}
			}
		}
	}

	// A file fail2ban cannot read is a problem of the same type afterwards.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "jail.conf"), []byte("[a]\nx = 1\nnot an option\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(bad, "jail", Options{})
	if err != nil || len(s.Problems) != 1 {
		t.Fatalf("problems: %v, %v", s, err)
	}
	b, _ := json.Marshal(s)
	var back Set
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(s.Problems, back.Problems) {
		t.Fatalf("problems after the trip: %v (%v), want %v", back.Problems, err, s.Problems)
	}
}
