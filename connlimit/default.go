package connlimit

// Limits for DefaultTotal. A stream holds one file descriptor for as long as it
// lasts; the rest of the process needs some too: the listening socket, requests
// in flight (health checks, score writes, and the 503s that refuse streams over
// the cap, each an accepted connection until it is answered), the database
// driver's pool and changefeeds, the GRIP publisher's connections, log files.
const (
	// reserveMin descriptors are kept for all of that, however small the limit...
	reserveMin = 256
	// ...and a quarter of the limit when that is more: refusals in flight grow
	// with the number of clients, which grows with the limit.
	reserveFraction = 4
	// noFileCap stands in for an unlimited or absurdly high limit: by then memory
	// (tens of KiB per stream) binds first anyway.
	noFileCap = 1 << 20
)

// DefaultTotal is the recommended total cap: the process's file limit
// (RLIMIT_NOFILE, which Go raises to the hard limit at startup) less a reserve
// of a quarter of it, at least 256, at most half of it. That is 768 at a limit of
// 1024, 15,000 at 20,000 and 49,152 at 65,536. Where the limit cannot be read
// it assumes 1024.
func DefaultTotal() int {
	return totalFor(fileLimit())
}

func totalFor(nofile uint64) int {
	if nofile == 0 {
		nofile = 1024
	}
	n := int(min(nofile, noFileCap))
	reserve := min(max(n/reserveFraction, reserveMin), n/2)
	return n - reserve
}
