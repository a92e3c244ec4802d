package services

import (
	"sync/atomic"

	"bangui/fail2ban"
)

// Fail2ban holds the client for the currently configured socket. The socket
// can change once, when setup completes, so the client is swapped atomically.
type Fail2ban struct {
	client atomic.Pointer[fail2ban.Client]
	opts   []fail2ban.Option
}

// NewFail2ban returns a holder connected to socket.
func NewFail2ban(socket string, opts ...fail2ban.Option) *Fail2ban {
	f := &Fail2ban{opts: opts}
	f.Connect(socket)
	return f
}

// Connect switches to the given socket path.
func (f *Fail2ban) Connect(socket string) {
	f.client.Store(fail2ban.NewClient(socket, f.opts...))
}

// Client returns the current client.
func (f *Fail2ban) Client() *fail2ban.Client { return f.client.Load() }
