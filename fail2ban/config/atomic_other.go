//go:build !unix

package config

import (
	"context"
	"fmt"
	"io/fs"
	"os"
)

func sameOwner(*os.File, fs.FileInfo) error { return nil }

// Lock does nothing on systems without flock; fail2ban runs on unix. It
// fails only when ctx has ended, as the unix Lock would.
func Lock(ctx context.Context, dir string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEditRunning, err)
	}
	return func() {}, nil
}
