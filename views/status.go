package views

import (
	"bangui/lang"
	"bangui/models"
)

// FleetStatus is the status bar's data: one host's status, or with several
// hosts the sum over those that answered, naming the ones that did not.
type FleetStatus struct {
	models.ServerStatus           // one host's, or the sum; Online when any host is
	Hosts               int       // hosts summed; 0 or 1: a single host's bar
	OnlineHosts         int       // of those, online
	Offline             []HostErr // the hosts that are offline, with why
}

// HostErr names a host and what went wrong with it.
type HostErr struct {
	Name  string
	Error lang.Message
}

// Combined reports whether the bar sums several hosts.
func (s FleetStatus) Combined() bool { return s.Hosts > 1 }
