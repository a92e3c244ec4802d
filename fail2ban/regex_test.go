package fail2ban_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
)

// regexRunner returns a runner for the installed fail2ban-regex, or skips
// the test (fails it when CI=true) when it is missing.
func regexRunner(t *testing.T) fail2ban.RegexRunner {
	t.Helper()
	p, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fail2ban-regex not installed (install the Debian package fail2ban)")
		}
		t.Skip("fail2ban-regex not installed")
	}
	return fail2ban.RegexRunner{Path: p}
}

func TestRegexTesterWithRealFail2banRegex(t *testing.T) {
	t.Parallel()
	r := regexRunner(t)
	res, err := r.Test(context.Background(), fail2ban.RegexTest{
		FailRegex:   `Failed password for \S+ from <HOST>`,
		IgnoreRegex: `for ignored-user`,
		Lines: []string{
			"2024-01-02 03:04:05 sshd[1]: Failed password for root from 192.0.2.1 port 22",
			"2024-01-02 03:04:05 sshd[1]: Accepted password for root from 192.0.2.1 port 22",
			"",
			"# a comment",
			"2024-01-02 03:04:06 sshd[1]: Failed password for bob from 2001:db8::5 port 22",
			"2024-01-02 03:04:07 sshd[1]: Failed password for ignored-user from 192.0.2.7 port 22",
			"2024-01-02 03:04:05 sshd[1]: Failed password for root from 192.0.2.1 port 22",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Lines {
		got = append(got, l.Result+" "+l.Host)
	}
	want := []string{"matched 192.0.2.1", "missed ", "skipped ", "skipped ", "matched 2001:db8::5", "ignored ", "matched 192.0.2.1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("results\n got %q\nwant %q", got, want)
	}
	if res.Matched != 3 || res.Missed != 1 || res.Ignored != 1 || res.Unmapped {
		t.Fatalf("counts %+v", res)
	}
	if ts := res.Lines[0].Time; !strings.Contains(ts, "Jan 02 03:04:05 2024") {
		t.Fatalf("time of the first match = %q", ts)
	}
}

func TestRegexTesterReportsFail2bansOwnErrors(t *testing.T) {
	t.Parallel()
	r := regexRunner(t)
	ctx := context.Background()
	_, err := r.Test(ctx, fail2ban.RegexTest{FailRegex: `Failed (password <HOST>`, Lines: []string{"x"}})
	var re *fail2ban.RegexError
	if !errors.As(err, &re) || re.Message.Error() != "Unable to compile regular expression: missing ), unterminated subpattern at position 7" {
		t.Fatalf("broken regex: %v", err)
	}
	_, err = r.Test(ctx, fail2ban.RegexTest{FailRegex: `Failed password`, Lines: []string{"x"}})
	if !errors.As(err, &re) || !strings.Contains(re.Message.Error(), "No failure-id group") {
		t.Fatalf("regex without <HOST>: %v", err)
	}
}

// TestRegexTesterNeverReadsFilesNamedAsPatterns: fail2ban-regex reads its
// REGEX argument as a filter file when it looks like a path; the runner
// must keep it a pattern, or the panel would print any file's content.
func TestRegexTesterNeverReadsFilesNamedAsPatterns(t *testing.T) {
	t.Parallel()
	r := regexRunner(t)
	for _, pattern := range []string{"/etc/passwd", "sshd", "../../etc/shadow", "-v"} {
		_, err := r.Test(context.Background(), fail2ban.RegexTest{FailRegex: pattern, Lines: []string{"root:x:0:0:root"}})
		var re *fail2ban.RegexError
		if !errors.As(err, &re) || !strings.Contains(re.Message.Error(), "No failure-id group") {
			t.Errorf("%q: %v (want fail2ban's complaint about the pattern, not a file read)", pattern, err)
		}
		if err != nil && strings.Contains(err.Error(), "root:x:0:0") {
			t.Errorf("%q: output shows file content: %v", pattern, err)
		}
	}
}

func TestRegexTesterTimesOut(t *testing.T) {
	t.Parallel()
	r := regexRunner(t)
	r.Timeout = 500 * time.Millisecond
	start := time.Now()
	_, err := r.Test(context.Background(), fail2ban.RegexTest{
		FailRegex: `^(a+)+b <HOST>`,
		Lines:     []string{strings.Repeat("a", 40) + "c 192.0.2.1"},
	})
	if !errors.Is(err, fail2ban.ErrTimeout) {
		t.Fatalf("catastrophic regex: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the run was stopped only after %v", took)
	}
}

func TestRegexTesterValidatesInput(t *testing.T) {
	t.Parallel()
	r := fail2ban.RegexRunner{Path: "/nonexistent/fail2ban-regex"}
	cases := []fail2ban.RegexTest{
		{FailRegex: "", Lines: []string{"x"}},
		{FailRegex: "a\nb <HOST>", Lines: []string{"x"}},
		{FailRegex: "<HOST>", IgnoreRegex: "a\x00", Lines: []string{"x"}},
		{FailRegex: "<HOST>", Lines: nil},
		{FailRegex: "<HOST>", Lines: []string{"a\x00b"}},
		{FailRegex: strings.Repeat("a", fail2ban.MaxRegexLen+1), Lines: []string{"x"}},
	}
	for i, c := range cases {
		_, err := r.Test(context.Background(), c)
		var ve *fail2ban.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("case %d: %v, want a ValidationError", i, err)
		}
	}
}
