//go:build linux

package sandbox

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the server in its own process group and makes the kernel
// kill it if the parent dies, so crashed tests leave nothing behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// groupGone reports whether no process of the group led by pid is left.
func groupGone(pid int) bool {
	return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
}
