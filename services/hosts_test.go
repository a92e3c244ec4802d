package services

import "bangui/hosts"

// localHosts returns a registry holding only a local host described by
// opts, with fail2ban-client from PATH.
func localHosts(opts hosts.LocalOptions) *hosts.Registry {
	if opts.ClientPath == "" {
		opts.ClientPath = "fail2ban-client"
	}
	return hosts.NewRegistry(hosts.NewLocal(opts))
}
