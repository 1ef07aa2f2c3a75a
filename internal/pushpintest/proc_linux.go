package pushpintest

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		// Its own process group, so killGroup reaches the runner's children.
		Setpgid: true,
		// A test binary killed by -timeout runs no cleanups; this still
		// stops the runner, which stops its children.
		Pdeathsig: syscall.SIGTERM,
	}
}

// killGroup kills what is left of the process group pushpin leads.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
