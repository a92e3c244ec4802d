package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
)

// fleetHost is one remote host of the fleet flow: its own fail2ban sandbox
// and a `bangui agent` (the built binary) in front of it, enrolled by one
// device's panel only, so that the devices do not meet.
type fleetHost struct {
	name    string   // shown in the panel; its id is the slug
	id      string   // the panel's host id, made from the name
	device  string   // the device whose panel enrols it
	country string   // the country of seed, in the test country database
	seed    []string // addresses banned in its sshd jail before the panel knows it

	bin     string // the bangui binary
	sb      *sandbox.Sandbox
	addr    string           // the agent's listen address, kept across restarts
	dataDir string           // the agent's data dir, kept across restarts
	logFile string           // what the agent printed, in the artifacts
	agent   *agenttest.Agent // the running (or last) agent process
	logged  *agenttest.Agent // the process whose log is saved
}

// fleetPlan is the fleet: the desktop enrols two hosts, the phone one.
// Each seeds addresses of a country the map flow does not use.
var fleetPlan = []fleetHost{
	{name: "Edge A", id: "edge-a", device: "desktop", country: "GB", seed: []string{"81.2.69.10", "81.2.69.11", "81.2.69.12"}},
	{name: "Edge B", id: "edge-b", device: "phone", country: "SE", seed: []string{"89.160.20.10", "89.160.20.11"}},
	{name: "Edge C", id: "edge-c", device: "desktop", country: "FI", seed: []string{"213.180.192.10", "213.180.192.11"}},
}

// startFleetSandboxes starts the fleet's fail2ban sandboxes in parallel
// and bans each one's seed; the returned function waits for them. They
// stop when t ends.
func startFleetSandboxes(t *testing.T) func() []*fleetHost {
	t.Helper()
	hs := make([]*fleetHost, len(fleetPlan))
	errs := make([]error, len(fleetPlan))
	var wg sync.WaitGroup
	for i, p := range fleetPlan {
		h := p
		h.dataDir = filepath.Join(t.TempDir(), "agent")
		dir := t.TempDir()
		hs[i] = &h
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), sandbox.DefaultStartTimeout+5*time.Second)
			defer cancel()
			sb, err := sandbox.Start(ctx, sandbox.Options{Dir: dir})
			if err != nil {
				errs[i] = err
				return
			}
			h.sb = sb
			args := append([]string{"set", "sshd", "banip"}, h.seed...)
			if _, err := sb.Client().Call(ctx, args...); err != nil {
				errs[i] = errors.Join(err, sb.Stop(context.Background()))
				h.sb = nil
			}
		}()
	}
	return func() []*fleetHost {
		wg.Wait()
		for _, h := range hs {
			if h.sb == nil {
				continue
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				if err := h.sb.Stop(ctx); err != nil {
					t.Errorf("fleet sandbox %s: stop: %v", h.id, err)
				}
			})
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("fleet sandboxes: %v", err)
		}
		return hs
	}
}

// startFleet starts every fleet host's agent from bin and gives each
// device's app its hosts.
func (st *stack) startFleet(t *testing.T, hs []*fleetHost, bin string) {
	t.Helper()
	for _, h := range hs {
		h.bin = bin
		h.addr = agenttest.FreeAddr(t)
		h.logFile = filepath.Join(st.artifacts, "agent-"+h.id+".log")
		_ = os.Remove(h.logFile)
		h.start(t)
		if h.Token() == "" || h.Fingerprint() == "" {
			t.Fatalf("agent %s printed no token or fingerprint:\n%s", h.id, h.agent.Log())
		}
		if a := st.apps[h.device]; a != nil {
			a.fleet = append(a.fleet, h)
		}
	}
	for _, a := range st.apps {
		a.allFleet = hs
	}
}

// start runs the host's agent on its address and data dir (again after
// stop: an enrolled agent keeps its certificate and credential). The agent
// stops when t ends, and what it printed is appended to its log file.
func (h *fleetHost) start(t *testing.T) {
	t.Helper()
	// Registered first, so it runs after agenttest's own Stop.
	t.Cleanup(func() { h.saveLog(t) })
	h.agent = agenttest.Start(t, h.bin, h.sb, h.addr, h.dataDir)
}

// stop ends the agent with SIGTERM, waits for it and saves its log.
func (h *fleetHost) stop(t *testing.T) {
	t.Helper()
	h.agent.Stop()
	h.saveLog(t)
}

// saveLog appends what the current agent process printed to the log file,
// once per process.
func (h *fleetHost) saveLog(t *testing.T) {
	a := h.agent
	if a == nil || h.logged == a {
		return
	}
	h.logged = a
	f, err := os.OpenFile(h.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	_, _ = f.WriteString(a.Log() + "---- agent stopped\n")
}

// Token is the enrolment token the agent printed at its first start.
func (h *fleetHost) Token() string { return h.agent.Token }

// Fingerprint is the certificate fingerprint the agent printed.
func (h *fleetHost) Fingerprint() string { return h.agent.Fingerprint }
