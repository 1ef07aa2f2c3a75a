//go:build !unix

package connlimit

// fileLimit: no RLIMIT_NOFILE here.
func fileLimit() uint64 { return 0 }
