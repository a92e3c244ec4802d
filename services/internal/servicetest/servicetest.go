// Package servicetest holds what the tests of the services packages share.
package servicetest

import "bangui/hosts"

// LocalHosts returns a registry holding only a local host described by
// opts, with fail2ban-client from PATH.
func LocalHosts(opts hosts.LocalOptions) *hosts.Registry {
	if opts.ClientPath == "" {
		opts.ClientPath = "fail2ban-client"
	}
	return hosts.NewRegistry(hosts.NewLocal(opts))
}
