package fail2ban

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const goldenDir = "../testdata/fail2ban-replies"

// readGolden returns a captured reply without its end marker.
func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte(endMarker)) {
		t.Fatalf("%s: does not end with %s", name, endMarker)
	}
	return b[:len(b)-len(endMarker)]
}

func TestDecodeReplyGolden(t *testing.T) {
	sshdBanned := []any{"203.0.113.7", "2001:db8::dead", "198.51.100.99"}
	tests := []struct {
		file string
		want any
	}{
		{"ping.resp", "pong"},
		{"version.resp", "1.0.2"},
		{"status.resp", []any{
			[]any{"Number of jail", int64(2)},
			[]any{"Jail list", "recidive, sshd"},
		}},
		{"status_sshd.resp", []any{
			[]any{"Filter", []any{
				[]any{"Currently failed", int64(2)},
				[]any{"Total failed", int64(6)},
				[]any{"File list", []any{"/var/log/auth.log"}},
			}},
			[]any{"Actions", []any{
				[]any{"Currently banned", int64(3)},
				[]any{"Total banned", int64(6)},
				[]any{"Banned IP list", sshdBanned},
			}},
		}},
		{"banip_withtime.resp", []any{
			"203.0.113.7 \t2026-11-28 10:51:44 + 600 = 2026-11-28 11:01:44",
			"2001:db8::dead \t2026-11-28 10:51:47 + 600 = 2026-11-28 11:01:47",
			"198.51.100.99 \t2026-11-28 10:51:47 + 600 = 2026-11-28 11:01:47",
		}},
		{"banip_withtime_recidive.resp", []any{
			"203.0.113.50 \t2026-11-28 10:51:47 + 604800 = 2026-12-05 10:51:47",
			"203.0.113.51 \t2026-11-28 10:53:00 + 604800 = 2026-12-05 10:53:00",
		}},
		{"banned.resp", []any{
			map[string]any{"sshd": sshdBanned},
			map[string]any{"recidive": []any{"203.0.113.50"}},
		}},
		{"ignoreip.resp", []any{"127.0.0.0/8", "192.0.2.0/24", "::1"}},
		{"bantime.resp", int64(604800)},
		{"datepattern.resp", []any{nil, "Default Detectors"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeReply(readGolden(t, tt.file))
			if err != nil {
				t.Fatalf("DecodeReply: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeReplyGoldenErrors(t *testing.T) {
	tests := []struct {
		file        string
		want        *CommandError
		unknownJail bool
	}{
		{"err_unknownjail.resp", &CommandError{Class: "fail2ban.exceptions.UnknownJailException", Message: "nosuch"}, true},
		{"err_invalid.resp", &CommandError{Class: "builtins.Exception", Message: "Invalid command"}, false},
		{"err_reload_bare.resp", &CommandError{
			Class:   "builtins.TypeError",
			Message: "Server.reloadJails() missing 2 required positional arguments: 'name' and 'opts'",
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v, err := DecodeReply(readGolden(t, tt.file))
			if v != nil {
				t.Errorf("value = %#v, want nil", v)
			}
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %#v, want *CommandError", err)
			}
			if *ce != *tt.want {
				t.Errorf("err = %#v, want %#v", ce, tt.want)
			}
			if got := errors.Is(err, ErrUnknownJail); got != tt.unknownJail {
				t.Errorf("errors.Is(err, ErrUnknownJail) = %v, want %v", got, tt.unknownJail)
			}
			if IsUnreachable(err) {
				t.Errorf("IsUnreachable(%v) = true", err)
			}
		})
	}

	t.Run("err_loaderror_ascii.resp", func(t *testing.T) {
		_, err := DecodeReply(readGolden(t, "err_loaderror_ascii.resp"))
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %#v, want *ProtocolError", err)
		}
		const want = "ERROR: 'ascii' codec can't decode byte 0xc3 in position 0: ordinal not in range(128)"
		if pe.Message != want {
			t.Errorf("Message = %q, want %q", pe.Message, want)
		}
		var ce *CommandError
		if errors.As(err, &ce) {
			t.Errorf("protocol error also matches *CommandError")
		}
	})
}

// TestGoldenFilesCovered makes sure no captured reply lacks a test case.
func TestGoldenFilesCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.resp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 14 {
		t.Errorf("found %d golden files, want 14 (update the golden tests)", len(files))
	}
}

func TestDecodeReplySynthetic(t *testing.T) {
	// Hand-assembled pickles for shapes the captured replies do not cover.
	tests := []struct {
		name string
		in   string
		want any
	}{
		{
			// Python 2 server: protocol 2, GLOBAL opcode, py2 byte strings.
			name: "py2 builtin str",
			in:   "\x80\x02K\x00]q\x00c__builtin__\nstr\nq\x01U\x0b203.0.113.7\x85Rq\x02a\x86.",
			want: []any{"203.0.113.7"},
		},
		{
			name: "protocol 0 text",
			in:   "(I0\n(lp0\nVa\np1\naVb\np2\natp3\n.",
			want: []any{"a", "b"},
		},
		{
			name: "bools none float",
			in:   "\x80\x04K\x00(\x88\x89NG?\xf8\x00\x00\x00\x00\x00\x00t\x86.",
			want: []any{true, false, nil, 1.5},
		},
		{
			name: "big int",
			in:   "\x80\x04K\x00\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x86.",
			want: new(big.Int).Lsh(big.NewInt(1), 64),
		},
		{
			name: "long fitting int64",
			in:   "\x80\x04K\x00\x8a\x01\x05\x86.",
			want: int64(5),
		},
		{
			name: "dict with int keys",
			in:   "\x80\x04K\x00}(K\x01\x8c\x01aK\x02\x8c\x01bu\x86.",
			want: map[any]any{int64(1): "a", int64(2): "b"},
		},
		{
			name: "unknown class in payload",
			in:   "\x80\x04K\x00\x8c\x03foo\x8c\x03Bar\x93\x8c\x01x\x85R\x86.",
			want: PyObject{Class: "foo.Bar", Args: []any{"x"}},
		},
		{
			name: "bytes",
			in:   "\x80\x04K\x00C\x02hi\x86.",
			want: []byte("hi"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReply([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeReply: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeReplySyntheticErrors(t *testing.T) {
	t.Run("py2 exceptions module", func(t *testing.T) {
		in := "\x80\x02K\x01cexceptions\nFoo\nq\x00U\x03barq\x01\x85q\x02Rq\x03\x86q\x04."
		_, err := DecodeReply([]byte(in))
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Class != "exceptions.Foo" || ce.Message != "bar" {
			t.Fatalf("err = %#v, want CommandError exceptions.Foo: bar", err)
		}
		if errors.Is(err, ErrUnknownJail) {
			t.Error("matches ErrUnknownJail")
		}
	})
	t.Run("py2 unknown jail", func(t *testing.T) {
		in := "\x80\x02K\x01cfail2ban.exceptions\nUnknownJailException\nU\x03foo\x85R\x86."
		_, err := DecodeReply([]byte(in))
		if !errors.Is(err, ErrUnknownJail) {
			t.Fatalf("err = %v, want ErrUnknownJail", err)
		}
	})
	t.Run("exception with several args", func(t *testing.T) {
		in := "\x80\x04K\x01\x8c\x08builtins\x8c\nValueError\x93\x8c\x01a\x8c\x01bK\x03\x87R\x86."
		_, err := DecodeReply([]byte(in))
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Message != "a, b, 3" {
			t.Fatalf("err = %#v, want message \"a, b, 3\"", err)
		}
	})

	// Cases that must come back as *ProtocolError.
	deep := "\x80\x04K\x00" + strings.Repeat("]", 150) + strings.Repeat("a", 149) + "\x86."
	protocol := map[string]string{
		"empty":           "",
		"garbage":         "hello world",
		"truncated":       "\x80\x05\x95\x0c\x00\x00\x00\x00\x00\x00\x00K\x00\x8c\x04po",
		"bare string":     "\x80\x04\x8c\x04pong.",
		"status code 2":   "\x80\x04K\x02N\x86.",
		"bool status":     "\x80\x04\x88N\x86.",
		"triple":          "\x80\x04K\x00NN\x87.",
		"bare int":        "\x80\x04K\x00.",
		"cyclic dict":     "\x80\x04K\x00}\x94\x8c\x01ah\x00s\x86.",
		"too deep":        deep,
		"exponential":     exponentialPickle(60),
		"persistent ref":  "\x80\x04K\x00\x8c\x01xQ\x86.",
		"unsupported set": "\x80\x04K\x00\x8f\x86.",
	}
	cause := map[string]error{
		"cyclic dict": errTooLarge,
		"too deep":    errTooDeep,
		"exponential": errTooLarge,
	}
	for name, in := range protocol {
		t.Run(name, func(t *testing.T) {
			v, err := DecodeReply([]byte(in))
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("DecodeReply = %#v, %#v; want *ProtocolError", v, err)
			}
			if c := cause[name]; c != nil && !errors.Is(err, c) {
				t.Errorf("err = %v, want cause %v", err, c)
			}
		})
	}
}

// exponentialPickle builds a reply whose payload shares memoized lists so
// that expanding it naively would produce 2^n values.
func exponentialPickle(n int) string {
	var b strings.Builder
	b.WriteString("\x80\x04K\x00]Na\x94") // memo 0: [None]
	for i := 1; i <= n; i++ {
		// drop the previous list from the stack, push [prev, prev] as memo i
		b.WriteString("0(h")
		b.WriteByte(byte(i - 1))
		b.WriteString("h")
		b.WriteByte(byte(i - 1))
		b.WriteString("l\x94")
	}
	b.WriteString("\x86.")
	return b.String()
}

func TestCommandErrorString(t *testing.T) {
	e := &CommandError{Class: "fail2ban.exceptions.UnknownJailException", Message: "nosuch"}
	if got, want := e.Error(), "fail2ban: fail2ban.exceptions.UnknownJailException: nosuch"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDecodeReplySharedWithinBudget(t *testing.T) {
	got, err := DecodeReply([]byte(exponentialPickle(3)))
	if err != nil {
		t.Fatal(err)
	}
	var want any = []any{nil}
	for range 3 {
		want = []any{want, want}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
