package repo

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

var _ Hosts = (*HostStore)(nil)

func TestHostStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewHostStore(db)

		if l, err := st.List(ctx); err != nil || len(l) != 0 {
			t.Fatalf("empty store lists %v, %v", l, err)
		}
		web := models.RemoteHost{ID: "web-1", Name: "Web 1", URL: "https://192.0.2.1:8443", Fingerprint: "AA:BB", Credential: "secret-1", Enabled: true}
		mail := models.RemoteHost{ID: "mail", Name: "Mail", URL: "https://192.0.2.2:8443", Fingerprint: "CC:DD", Credential: "secret-2", Enabled: true}
		for _, h := range []models.RemoteHost{web, mail} {
			if err := st.Create(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		var de *DuplicateError
		if err := st.Create(ctx, web); !errors.As(err, &de) || de.Column != "id" || !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second host web-1: %v, want a duplicate id", err)
		}

		got, err := st.Get(ctx, "web-1")
		if err != nil || got.Credential != "secret-1" || got.URL != web.URL || !got.Enabled || got.CreatedAt == 0 || got.UpdatedAt != got.CreatedAt {
			t.Fatalf("get web-1: %+v, %v", got, err)
		}
		if _, err := st.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}

		if err := st.SetName(ctx, "mail", "Mail server"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetEnabled(ctx, "mail", false); err != nil {
			t.Fatal(err)
		}
		if err := st.SetFingerprint(ctx, "mail", "EE:FF"); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"rename":      st.SetName(ctx, "nope", "x"),
			"disable":     st.SetEnabled(ctx, "nope", false),
			"fingerprint": st.SetFingerprint(ctx, "nope", "x"),
			"delete":      st.Delete(ctx, "nope"),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s of an unknown host: %v, want ErrNotFound", name, err)
			}
		}
		l, err := st.List(ctx)
		if err != nil || len(l) != 2 || l[0].ID != "mail" || l[1].ID != "web-1" {
			t.Fatalf("list %+v, %v: want mail then web-1 (by name)", l, err)
		}
		if m := l[0]; m.Name != "Mail server" || m.Enabled || m.Fingerprint != "EE:FF" || m.Credential != "secret-2" {
			t.Fatalf("mail after changes: %+v", m)
		}

		if err := st.Delete(ctx, "web-1"); err != nil {
			t.Fatal(err)
		}
		if l, _ := st.List(ctx); len(l) != 1 || l[0].ID != "mail" {
			t.Fatalf("after delete: %+v", l)
		}
	})
}
