//go:build linux

package agenttest

import "syscall"

// sysProcAttr makes the kernel kill the agent when the thread that started
// it ends, so a test binary that dies leaves no agent listening.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
