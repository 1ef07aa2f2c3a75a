//go:build !linux

package pushpintest

import (
	"os/exec"
	"syscall"
)

// Pushpin is packaged for Linux; elsewhere only the runner itself is
// signalled and killed.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
