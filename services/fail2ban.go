package services

import (
	"sync/atomic"
	"time"

	"bangui/fail2ban"
)

// Fail2ban holds the client for the configured fail2ban socket and config
// dir. They change once, when setup completes, so they are swapped atomically.
type Fail2ban struct {
	conn       atomic.Pointer[connection]
	clientPath string
	opts       []fail2ban.Option
}

type connection struct {
	client    *fail2ban.Client
	configDir string
}

// NewFail2ban returns a holder for the given socket and config dir;
// clientPath is the fail2ban-client program used for reload and restart.
func NewFail2ban(socket, configDir, clientPath string, opts ...fail2ban.Option) *Fail2ban {
	f := &Fail2ban{clientPath: clientPath, opts: opts}
	f.Connect(socket, configDir)
	return f
}

// Connect switches to another socket and config dir.
func (f *Fail2ban) Connect(socket, configDir string) {
	f.conn.Store(&connection{client: fail2ban.NewClient(socket, f.opts...), configDir: configDir})
}

// Client returns the current socket client.
func (f *Fail2ban) Client() *fail2ban.Client { return f.conn.Load().client }

// Runner returns a fail2ban-client runner for the current socket and config dir.
func (f *Fail2ban) Runner() fail2ban.Runner {
	c := f.conn.Load()
	return fail2ban.Runner{ClientPath: f.clientPath, Socket: c.client.SocketPath(), ConfigDir: c.configDir, Timeout: 60 * time.Second}
}
