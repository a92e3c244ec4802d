package hosts

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Registry holds the hosts the panel manages, by id: always the local one,
// and any number of others. Services ask it for a host on every call, so
// a host it replaces (see ConnectLocal) is never used again.
type Registry struct {
	mu     sync.RWMutex
	local  *Local
	others []Host // in the order added
}

// NewRegistry returns a registry holding local.
func NewRegistry(local *Local) *Registry {
	return &Registry{local: local}
}

// Add registers another host. Its id must be new and not empty.
func (r *Registry) Add(h Host) error {
	id := h.ID()
	if id == "" {
		return errors.New("hosts: a host needs an id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.get(id); err == nil {
		return fmt.Errorf("hosts: a host %q is registered already", id)
	}
	r.others = append(r.others, h)
	return nil
}

// Get returns the host with the given id, or an *UnknownHostError
// (matching ErrUnknownHost).
func (r *Registry) Get(id string) (Host, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.get(id)
}

func (r *Registry) get(id string) (Host, error) {
	if id == r.local.ID() {
		return r.local, nil
	}
	for _, h := range r.others {
		if h.ID() == id {
			return h, nil
		}
	}
	return nil, &UnknownHostError{ID: id}
}

// Local returns the host on the panel's own machine.
func (r *Registry) Local() Host {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.local
}

// All returns every host, the local one first, then the others in the
// order they were added.
func (r *Registry) All() []Host {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Host, 0, 1+len(r.others))
	out = append(out, r.local)
	return append(out, r.others...)
}

// ConnectLocal points the local host at another socket and configuration
// directory, as chosen at setup. The previous local host's database is
// closed.
func (r *Registry) ConnectLocal(socket, configDir string) {
	r.mu.Lock()
	old := r.local
	r.local = old.Moved(socket, configDir)
	r.mu.Unlock()
	old.Close()
}

// Close releases what the hosts keep open (the local host's database).
func (r *Registry) Close() error {
	var errs []error
	for _, h := range r.All() {
		if c, ok := h.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
