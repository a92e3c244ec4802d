package bandata

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fixtureData are the data values of the reader's test fixture
// (repo/fail2bandb_test.go), the fuzz test's first seeds.
var fixtureData = []string{
	`{"matches": [["", "Nov 18 12:00:00", " host sshd[1]: fail from 1.2.3.4"], "Nov 18 12:00:01 host sshd[1]: fail again"], "failures": 2, "user": "o'brien"}`,
	`null`, `{"matches": [], "failures": 0}`, `{"user": "x"}`, `{"matches": ["a", null, 42, ["x", 1, "y"]], "failures": "7"}`,
	`garbage{`, ``, `{"matches": "not a list", "failures": 3}`, `[1, 2]`, `"just a string"`,
	`{"matches": [["", "Nov 28 12:00:00", " mail postfix: x"]], "failures": 1.0}`, `{"matches": [], "failures": 5}`,
}

// refDecode is Decode written with encoding/json, the
// reference the fuzz test compares the scanner with.
func refDecode(s string) (int64, []string) {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &top) != nil {
		return 0, nil
	}
	var failures int64
	if raw, ok := top["failures"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			switch x := v.(type) {
			case json.Number:
				if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
					failures = n
				} else if f, err := strconv.ParseFloat(x.String(), 64); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
					failures = int64(f)
				}
			case string:
				if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
					failures = n
				}
			}
		}
	}
	var raws []json.RawMessage
	if json.Unmarshal(top["matches"], &raws) != nil {
		return failures, nil
	}
	var matches []string
	for _, raw := range raws {
		switch raw[0] {
		case 'n':
		case '"':
			var s string
			json.Unmarshal(raw, &s)
			matches = append(matches, s)
		case '[':
			var parts []json.RawMessage
			json.Unmarshal(raw, &parts)
			var sb strings.Builder
			for _, part := range parts {
				switch part[0] {
				case 'n':
				case '"':
					var s string
					json.Unmarshal(part, &s)
					sb.WriteString(s)
				default:
					sb.Write(part)
				}
			}
			matches = append(matches, sb.String())
		default:
			matches = append(matches, string(raw))
		}
	}
	return failures, matches
}

func FuzzDecodeBanData(f *testing.F) {
	for _, s := range fixtureData {
		f.Add(s)
	}
	for _, s := range []string{
		`{"matches": [["a", 1.50, null, {"x": [1, 2]}, true], "b\u00e9\ud83d\ude00\ud800x", null, 7, {"k": "v"}], "failures": 2.9}`,
		`{"failures": "  12 ", "matches": []}`, `{"failures": -0.5}`, `{"failures": 1e400}`, `{"failures": 9223372036854775807}`,
		`{"match\u0065s": ["escaped key"]}`, `{"matches": ["x"], "matches": ["y"]}`, `{"matches": ["\x01"]}`, "{\"matches\": [\"\xff\xfe\"]}",
		`{"a":{"b":[{"c":"d"}]},"failures":1}`, `{"failures": 01}`, `{"failures": 1.}`, `{} x`, ` {"failures" : 3 } `, `{"matches": ["\uD800\u0041"]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Count(s, "[")+strings.Count(s, "{") > 5000 {
			return
		}
		gotF, gotM := Decode(s)
		wantF, wantM := refDecode(s)
		if gotF != wantF || len(gotM) != len(wantM) || (len(gotM) > 0 && !slices.Equal(gotM, wantM)) {
			t.Fatalf("Decode(%q) = %d %q, want %d %q", s, gotF, gotM, wantF, wantM)
		}
		if n := Failures(s); n != gotF {
			t.Fatalf("Failures(%q) = %d, want %d", s, n, gotF)
		}
	})
}
