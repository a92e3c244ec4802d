//go:build !unix

package config

import (
	"context"
	"io/fs"
	"os"
)

func sameOwner(*os.File, fs.FileInfo) error { return nil }

// Lock does nothing on systems without flock; fail2ban runs on unix.
func Lock(ctx context.Context, dir string) (func(), error) {
	return func() {}, ctx.Err()
}
