//go:build linux

package e2e

import "syscall"

// childAttr makes the kernel kill a child when the thread that started it
// ends, so a crashed test run leaves no nginx or bangui behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
