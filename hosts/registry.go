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
	others []Host            // in the order added
	names  map[string]string // display names by id; the id when unset
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

// Replace swaps the registered host with h's id for h (a new credential or
// fingerprint), closing the old one; an unknown id is added.
func (r *Registry) Replace(h Host) error {
	r.mu.Lock()
	for i, o := range r.others {
		if o.ID() == h.ID() {
			r.others[i] = h
			r.mu.Unlock()
			closeHost(o)
			return nil
		}
	}
	r.mu.Unlock()
	return r.Add(h)
}

// Remove unregisters and closes the host with id. The local host cannot be
// removed.
func (r *Registry) Remove(id string) error {
	r.mu.Lock()
	for i, o := range r.others {
		if o.ID() == id {
			r.others = append(r.others[:i:i], r.others[i+1:]...)
			delete(r.names, id)
			r.mu.Unlock()
			closeHost(o)
			return nil
		}
	}
	r.mu.Unlock()
	if id == r.Local().ID() {
		return errors.New("hosts: the local host cannot be removed")
	}
	return &UnknownHostError{ID: id}
}

// SetName gives the host with id a display name ("" goes back to the id).
func (r *Registry) SetName(id, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]string{}
	}
	if name == "" {
		delete(r.names, id)
		return
	}
	r.names[id] = name
}

// Name is the display name of the host with id: the one set, else the id.
func (r *Registry) Name(id string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if n, ok := r.names[id]; ok {
		return n
	}
	return id
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
		errs = append(errs, closeHost(h))
	}
	return errors.Join(errs...)
}

func closeHost(h Host) error {
	if c, ok := h.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
