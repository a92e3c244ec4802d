// Package fleet manages the fail2ban hosts the panel reaches through their
// agents (`bangui agent`): enrolment in two steps (Probe shows the agent's
// certificate fingerprint to compare, Enroll pins it and trades the
// one-time token for a long-lived credential), rename, disable, enable,
// remove, and accepting a new certificate. It keeps the hosts table and
// the registry in step; Load fills the registry at start.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// callTimeout bounds one enrolment call to an agent (fingerprint, enrol,
// revoke), so that an admin waits no longer for a dead address.
const callTimeout = 10 * time.Second

// Service manages the remote hosts. Its methods are safe for concurrent
// use; changes to hosts are serialised.
type Service struct {
	store  repo.Hosts
	reg    *hosts.Registry
	status *services.StatusProbe
	log    *slog.Logger

	mu       sync.Mutex                   // serialises changes
	problems map[string]lang.Message      // enabled hosts that could not be set up, by id: why
	loaded   map[string]models.RemoteHost // what each registered (or tried) host was set up from
}

// New returns the service on the hosts table, the registry services ask for
// hosts and the status probe that watches them.
func New(store repo.Hosts, reg *hosts.Registry, status *services.StatusProbe, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, reg: reg, status: status, log: log, problems: map[string]lang.Message{}, loaded: map[string]models.RemoteHost{}}
}

// Load registers every enabled host of the table. A host whose client
// cannot be set up stays listed with the reason and is not asked.
func (s *Service) Load(ctx context.Context) error { return s.Sync(ctx) }

// Sync makes the registry what the hosts table says: enabled hosts that
// are new or whose address, fingerprint or credential changed are set up,
// hosts disabled or removed leave it, names follow. Another panel process
// on the same database may have changed the table: the status job calls
// Sync before each refresh, so its changes show here within one period.
func (s *Service) Sync(ctx context.Context) error {
	list, err := s.store.List(ctx)
	if err != nil {
		return fmt.Errorf("fleet: load hosts: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, h := range list {
		if !h.Enabled {
			continue
		}
		want[h.ID] = true
		if old, ok := s.loaded[h.ID]; !ok || remoteOptions(old) != remoteOptions(h) {
			s.register(h)
		} else {
			s.reg.SetName(h.ID, h.Name)
		}
	}
	for id := range s.loaded {
		if !want[id] {
			s.unregister(id)
		}
	}
	return nil
}

// register puts h into the registry (replacing a host of that id) under its
// name, or records why it could not.
func (s *Service) register(h models.RemoteHost) {
	delete(s.problems, h.ID)
	s.loaded[h.ID] = h
	host, err := hosts.NewRemote(remoteOptions(h))
	if err == nil {
		err = s.reg.Replace(host)
	}
	if err != nil {
		s.log.Warn("host not set up", "host", h.ID, "err", err)
		s.problems[h.ID] = lang.M("fleet.setup_failed", "Cause", err)
		if rerr := s.reg.Remove(h.ID); rerr == nil {
			s.status.Forget(h.ID) // its earlier client is not asked any more
		}
		return
	}
	s.reg.SetName(h.ID, h.Name)
}

// unregister takes the host with id out of the registry and the probe.
func (s *Service) unregister(id string) {
	delete(s.problems, id)
	delete(s.loaded, id)
	if err := s.reg.Remove(id); err != nil && !errors.Is(err, hosts.ErrUnknownHost) {
		s.log.Warn("unregister host", "host", id, "err", err)
	}
	s.status.Forget(id)
}

// stored returns the stored host with id; an id that cannot be one is
// repo.ErrNotFound without asking the database.
func (s *Service) stored(ctx context.Context, id string) (models.RemoteHost, error) {
	if !idPattern.MatchString(id) {
		return models.RemoteHost{}, fmt.Errorf("fleet: host %q: %w", id, repo.ErrNotFound)
	}
	return s.store.Get(ctx, id)
}

func remoteOptions(h models.RemoteHost) hosts.RemoteOptions {
	return hosts.RemoteOptions{ID: h.ID, URL: h.URL, Fingerprint: h.Fingerprint, Credential: h.Credential}
}

// List returns every host for the Hosts page, the local one first, then
// the others by name, each with the status probe's last word on it. It
// reads the hosts table once and asks no host anything.
func (s *Service) List(ctx context.Context) ([]models.HostInfo, error) {
	list, err := s.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: list hosts: %w", err)
	}
	local := s.reg.Local().ID()
	out := make([]models.HostInfo, 0, 1+len(list))
	out = append(out, models.HostInfo{ID: local, Name: s.reg.Name(local), Local: true, Enabled: true, Status: s.status.Current(local)})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range list {
		info := models.HostInfo{ID: h.ID, Name: h.Name, URL: h.URL, Fingerprint: h.Fingerprint, Enabled: h.Enabled, Problem: s.problems[h.ID]}
		if h.Enabled && info.Problem.IsZero() {
			info.Status = s.status.Current(h.ID)
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns one stored host without its credential, or repo.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (models.HostInfo, error) {
	h, err := s.stored(ctx, id)
	if err != nil {
		return models.HostInfo{}, err
	}
	return models.HostInfo{ID: h.ID, Name: h.Name, URL: h.URL, Fingerprint: h.Fingerprint, Enabled: h.Enabled}, nil
}

// Rename gives a stored host another display name.
func (s *Service) Rename(ctx context.Context, id, name string) (models.HostInfo, error) {
	name, msg := checkName(name, id)
	if !msg.IsZero() {
		return models.HostInfo{}, services.Invalid("name", msg)
	}
	if _, err := s.stored(ctx, id); err != nil {
		return models.HostInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.SetName(ctx, id, name); err != nil {
		return models.HostInfo{}, err
	}
	s.reg.SetName(id, name)
	return s.Get(ctx, id)
}

// Disable keeps a host stored but stops asking it: it leaves the registry,
// so no page, sync or import reaches it.
func (s *Service) Disable(ctx context.Context, id string) (models.HostInfo, error) {
	if _, err := s.stored(ctx, id); err != nil {
		return models.HostInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.SetEnabled(ctx, id, false); err != nil {
		return models.HostInfo{}, err
	}
	s.unregister(id)
	return s.Get(ctx, id)
}

// Enable asks a disabled host again and checks its status at once.
func (s *Service) Enable(ctx context.Context, id string) (models.HostInfo, error) {
	if _, err := s.stored(ctx, id); err != nil {
		return models.HostInfo{}, err
	}
	s.mu.Lock()
	if err := s.store.SetEnabled(ctx, id, true); err != nil {
		s.mu.Unlock()
		return models.HostInfo{}, err
	}
	h, err := s.store.Get(ctx, id)
	if err != nil {
		s.mu.Unlock()
		return models.HostInfo{}, err
	}
	s.register(h)
	s.mu.Unlock()
	s.status.RefreshHost(ctx, id)
	return s.Get(ctx, id)
}

// Removed says what Remove did beyond forgetting the host.
type Removed struct {
	Host models.HostInfo
	// RevokeError says why the agent could not be told to forget the
	// credential (it was unreachable, say); zero when it was.
	RevokeError lang.Message
}

// Remove revokes the host's credential on its agent (best effort: a dead
// agent does not keep the host), then deletes it from the table and the
// registry. Its archived events stay under its id.
func (s *Service) Remove(ctx context.Context, id string) (Removed, error) {
	h, err := s.stored(ctx, id)
	if err != nil {
		return Removed{}, err
	}
	out := Removed{Host: models.HostInfo{ID: h.ID, Name: h.Name, URL: h.URL, Fingerprint: h.Fingerprint, Enabled: h.Enabled}}
	// Forget the host first: a delete that fails must not leave it listed
	// with a credential the agent no longer takes.
	s.mu.Lock()
	err = s.store.Delete(ctx, id)
	if err == nil {
		s.unregister(id)
	}
	s.mu.Unlock()
	if err != nil {
		return out, err
	}
	// The agent is asked without the lock: a dead one holds no page.
	rctx, cancel := context.WithTimeout(ctx, callTimeout)
	err = hosts.Revoke(rctx, remoteOptions(h))
	cancel()
	if err != nil {
		s.log.Warn("revoke credential", "host", id, "err", err)
		out.RevokeError = describeAgentError(err)
	}
	return out, nil
}

// AcceptFingerprint pins the certificate fingerprint the admin copied from
// the agent's log after the agent changed its certificate, and asks the
// host again. It refuses unless the agent presents exactly that
// certificate: the credential goes only to the agent the admin vouched for.
func (s *Service) AcceptFingerprint(ctx context.Context, id, fingerprint string) (models.HostInfo, error) {
	h, err := s.stored(ctx, id)
	if err != nil {
		return models.HostInfo{}, err
	}
	fingerprint, err = hosts.NormalizeFingerprint(fingerprint)
	if err != nil {
		return models.HostInfo{}, services.Invalid("fingerprint", lang.M("fleet.accept.paste"))
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	got, err := hosts.FetchFingerprint(cctx, h.URL)
	cancel()
	if err != nil {
		return models.HostInfo{}, services.Invalid("fingerprint", lang.M("fleet.accept.unreachable", "Cause", describeAgentError(err)))
	}
	if got != fingerprint {
		return models.HostInfo{}, services.Invalid("fingerprint", lang.M("fleet.accept.mismatch", "URL", h.URL, "Got", got))
	}
	s.mu.Lock()
	if err := s.store.SetFingerprint(ctx, id, fingerprint); err != nil {
		s.mu.Unlock()
		return models.HostInfo{}, err
	}
	h.Fingerprint = fingerprint
	if h.Enabled {
		s.register(h)
	}
	s.mu.Unlock()
	if h.Enabled {
		s.status.RefreshHost(ctx, id)
	}
	return s.Get(ctx, id)
}

// describeAgentError says in words why a call to an agent failed.
func describeAgentError(err error) lang.Message {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return lang.M("fleet.call.timeout")
	case errors.Is(err, hosts.ErrAgentRefused):
		return lang.M("fleet.call.refused")
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return lang.M("fleet.call.not_pinned")
	}
	return lang.Of(err)
}
