package views

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// renderString renders c for a request below base with a CSRF token.
func renderString(t *testing.T, base string, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	ctx := WithRequest(context.Background(), Request{BasePath: base, CSRFToken: "tok"})
	if err := c.Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestUsersPageFactorForms: the two forms the users page places post to
// their routes below the base path with the CSRF token, and the reset asks
// first, naming the user (escaped).
func TestUsersPageFactorForms(t *testing.T) {
	reset := renderString(t, "/bangui", ResetFactorsForm(42, `bob<"x">`))
	for _, want := range []string{`action="/bangui/users/42/factors/reset"`, `name="_csrf" value="tok"`,
		`hx-confirm="Remove every second factor of bob&lt;&#34;x&#34;&gt;?`, `of bob&lt;&#34;x&#34;&gt;</span>`} {
		if !strings.Contains(reset, want) {
			t.Errorf("reset form lacks %s:\n%s", want, reset)
		}
	}
	for _, on := range []bool{true, false} {
		policy := renderString(t, "/bangui", RequireSecondFactorForm(on))
		if !strings.Contains(policy, `action="/bangui/users/second-factor"`) || !strings.Contains(policy, `name="_csrf" value="tok"`) ||
			strings.Contains(policy, " checked") != on {
			t.Errorf("policy form (on %v):\n%s", on, policy)
		}
	}
}

func TestGroupSecret(t *testing.T) {
	if got := groupSecret("ABCDEFGHIJ"); got != "ABCD EFGH IJ" {
		t.Fatalf("groupSecret = %q", got)
	}
}
