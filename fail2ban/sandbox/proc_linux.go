//go:build linux

package sandbox

import "syscall"

// sysProcAttr puts the server in its own process group and makes the kernel
// kill it if the parent dies, so crashed tests leave nothing behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
