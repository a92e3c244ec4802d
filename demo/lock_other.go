//go:build !unix

package demo

import "os"

// lockDir creates path as the demo's marker; without flock there is no
// lock against a second demo on the same data dir.
func lockDir(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
