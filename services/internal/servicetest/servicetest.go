// Package servicetest holds what the tests of the services packages share.
package servicetest

import (
	"net"
	"path/filepath"
	"sync"
	"testing"

	"bangui/hosts"
)

// LocalHosts returns a registry holding only a local host described by
// opts, with fail2ban-client from PATH.
func LocalHosts(opts hosts.LocalOptions) *hosts.Registry {
	if opts.ClientPath == "" {
		opts.ClientPath = "fail2ban-client"
	}
	return hosts.NewRegistry(hosts.NewLocal(opts))
}

// HungSocket listens on a unix socket in a temp dir that accepts
// connections and never answers, like a fail2ban that hangs, and returns
// its path. It closes when the test ends.
func HungSocket(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hung.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return path
}
