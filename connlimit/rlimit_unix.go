//go:build unix

package connlimit

import "syscall"

// fileLimit is the soft RLIMIT_NOFILE, or 0 when it cannot be read.
func fileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}
