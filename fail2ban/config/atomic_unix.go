//go:build unix

package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// sameOwner gives f the owner and group of like, when they differ and the
// process may change them (it runs as root).
func sameOwner(f *os.File, like fs.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	if st.Uid == uint32(os.Geteuid()) && st.Gid == uint32(os.Getegid()) {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}

// Lock takes an exclusive advisory lock (flock) on the configuration
// directory itself, so that edits by several BanGUI processes on one host
// (and one process's concurrent requests) run one after the other: write,
// test, reload and, when needed, roll back. Nothing is written to the
// directory for it. It waits until ctx ends; call the returned function to
// release the lock.
func Lock(ctx context.Context, dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("config: lock: %w", err)
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
				d.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			d.Close()
			return nil, fmt.Errorf("config: lock: %w", err)
		}
		select {
		case <-ctx.Done():
			d.Close()
			return nil, fmt.Errorf("%w: %w", ErrEditRunning, ctx.Err())
		case <-tick.C:
		}
	}
}
