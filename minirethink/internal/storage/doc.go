// Package storage keeps the embedded server's data on disk: a write-ahead
// log of checksummed records with group commit, and snapshots that let the
// log be cut. It knows nothing of ReQL; records are opaque bytes, replayed in
// the order they were appended.
//
// A data directory holds:
//
//	LOCK                       flock(2)ed by the process that owns the directory; holds its pid
//	snapshot.mrdb              the last complete snapshot (written aside, then renamed into place)
//	wal-0000000000000007.log   the log since the snapshot of generation 7
//
// Every file starts with an 8-byte magic, then frames:
//
//	[length uint32 LE][CRC-32C of the payload uint32 LE][payload]
//
// A snapshot ends with a trailer frame (length 0xFFFFFFFF, then the number of
// records it holds): one without it is incomplete. The snapshot of generation
// G holds everything written before wal-G began, so a start reads the
// snapshot, then wal-G, wal-G+1, ... in order.
//
// Recovery: a log ends wherever the process stopped, possibly in the middle of
// a frame, or (after a power loss) with garbage the disk never finished. The
// last log file is read up to its last complete frame whose checksum holds,
// the rest is truncated away and a warning says how many bytes were dropped
// and why. Damage anywhere else (an earlier log file, the snapshot) is not a
// torn tail but lost data: Open refuses with an error naming the file.
package storage
