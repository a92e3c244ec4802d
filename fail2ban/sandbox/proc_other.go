//go:build !unix

package sandbox

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the process itself; there are no process groups here.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// groupGone is true: there are no process groups here.
func groupGone(int) bool { return true }
