package hosts

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"bangui/models"
)

// otherHost is a Local under another id, enough to fill a registry.
type otherHost struct {
	*Local
	id string
}

func (h otherHost) ID() string { return h.id }

func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	local := NewLocal(LocalOptions{Socket: filepath.Join(dir, "f2b.sock"), ConfigDir: dir})
	r := NewRegistry(local)
	if h, err := r.Get(models.LocalHost); err != nil || h != Host(local) {
		t.Fatalf("Get(local) = %v, %v", h, err)
	}
	_, err := r.Get("edge")
	var unknown *UnknownHostError
	if !errors.Is(err, ErrUnknownHost) || !errors.As(err, &unknown) || unknown.ID != "edge" {
		t.Fatalf("Get(edge) before Add: %v, want ErrUnknownHost naming edge", err)
	}
	for _, id := range []string{"edge", "core"} {
		if err := r.Add(otherHost{Local: local, id: id}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"edge", models.LocalHost, ""} {
		if err := r.Add(otherHost{Local: local, id: id}); err == nil {
			t.Errorf("Add accepted a host with the id %q", id)
		}
	}
	if h, err := r.Get("edge"); err != nil || h.ID() != "edge" {
		t.Fatalf("Get(edge) = %v, %v", h, err)
	}
	var ids []string
	for _, h := range r.All() {
		ids = append(ids, h.ID())
	}
	if want := []string{models.LocalHost, "edge", "core"}; !slices.Equal(ids, want) {
		t.Fatalf("All = %v, want %v", ids, want)
	}

	r.ConnectLocal(filepath.Join(dir, "other.sock"), filepath.Join(dir, "conf"))
	moved := r.Local()
	if moved == Host(local) || moved.ID() != models.LocalHost || moved.ConfigDir() != filepath.Join(dir, "conf") ||
		moved.(*Local).SocketPath() != filepath.Join(dir, "other.sock") {
		t.Fatalf("after ConnectLocal the local host is %+v", moved)
	}
	if h, _ := r.Get(models.LocalHost); h != moved {
		t.Fatal("Get(local) still returns the previous local host")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
