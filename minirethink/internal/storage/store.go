package storage

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrLocked is Open's error when another process owns the data directory.
var ErrLocked = errors.New("data directory locked")

const (
	lockName     = "LOCK"
	snapshotName = "snapshot.mrdb"
	walPrefix    = "wal-"
	walSuffix    = ".log"
)

// Options tune a Store.
type Options struct {
	// Logger receives recovery warnings (default discarded).
	Logger *slog.Logger
	// FlushInterval is how often writes that nobody waits for (soft
	// durability) are written and synced (default 100ms).
	FlushInterval time.Duration
}

// Store is an open data directory: the log being appended to and the
// snapshot it continues. Append is called by one goroutine at a time (the
// engine's writer, under its lock), so the log's order is the commit order;
// Sync may be called by any number of goroutines at once, and they share
// the fsyncs (group commit).
type Store struct {
	dir  string
	log  *slog.Logger
	lock *os.File

	// snapGen is the generation of snapshot.mrdb (0: none); walGens the
	// log files found at Open, in order.
	snapGen uint64
	walGens []uint64

	mu       sync.Mutex
	cond     *sync.Cond
	f        *os.File // the log file appended to
	gen      uint64   // its generation
	size     int64    // its size, counting what is buffered
	buf      []byte   // appended, not yet written to f
	appended uint64   // bytes appended since Open: the LSN of the last record
	synced   uint64   // bytes written and fsynced
	syncing  bool     // a goroutine is writing and syncing outside mu
	err      error    // sticky: after a failed write or fsync, every Sync fails
	closed   bool
	fsyncs   int // how many fsyncs the log took (tests of group commit)

	stopFlush chan struct{}
	flushDone chan struct{}
}

// Open locks dir (creating it if needed) and finds its files. Replay then
// reads them; appending starts after Replay.
func Open(dir string, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create data directory: %w", err)
	}
	lock, err := lockDir(dir, filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, log: o.Logger, lock: lock, stopFlush: make(chan struct{}), flushDone: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	if err := s.scan(); err != nil {
		lock.Close()
		return nil, err
	}
	go s.flushLoop(o.FlushInterval)
	return s, nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) walPath(gen uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%016d%s", walPrefix, gen, walSuffix))
}

func (s *Store) snapshotPath() string { return filepath.Join(s.dir, snapshotName) }

// scan finds the snapshot's generation and the log files that follow it.
func (s *Store) scan() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("storage: read data directory: %w", err)
	}
	if f, err := os.Open(s.snapshotPath()); err == nil {
		gen, err := readSnapshotGen(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("storage: %s is unreadable: %w", s.snapshotPath(), err)
		}
		s.snapGen = gen
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, walPrefix) || !strings.HasSuffix(name, walSuffix) {
			continue
		}
		gen, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, walPrefix), walSuffix), 10, 64)
		if err != nil {
			continue
		}
		if gen < s.snapGen {
			// Covered by the snapshot; a crash came between writing it and
			// removing these.
			_ = os.Remove(filepath.Join(s.dir, name))
			continue
		}
		s.walGens = append(s.walGens, gen)
	}
	sort.Slice(s.walGens, func(i, j int) bool { return s.walGens[i] < s.walGens[j] })
	return nil
}

// readSnapshotGen reads the generation a snapshot covers, the first record
// after its magic: "gen N".
func readSnapshotGen(f *os.File) (uint64, error) {
	if err := checkMagic(f, snapMagic); err != nil {
		return 0, err
	}
	fr := newFrameReader(f, int64(len(snapMagic)))
	rec, trailer, _, err := fr.next()
	if err != nil || trailer {
		return 0, fmt.Errorf("no generation record (%v)", err)
	}
	var gen uint64
	if _, err := fmt.Sscanf(string(rec), "gen %d", &gen); err != nil {
		return 0, fmt.Errorf("bad generation record %q", rec)
	}
	return gen, nil
}

func checkMagic(r io.Reader, magic string) error {
	b := make([]byte, len(magic))
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("no file header: %w", err)
	}
	if string(b) != magic {
		return fmt.Errorf("not a minirethink file (header %q, want %q)", b, magic)
	}
	return nil
}

// ReplayStats says what Replay read.
type ReplayStats struct {
	SnapshotRecords int
	LogRecords      int
	LogFiles        int
	// DroppedBytes were cut from the end of the last log (a torn tail).
	DroppedBytes int64
}

// Replay calls apply with every record, the snapshot's first, then the
// logs', in order, and opens the log for appending. A torn or damaged end
// of the last log is cut off (and logged); any other damage is an error
// naming the file.
func (s *Store) Replay(apply func(rec []byte) error) (ReplayStats, error) {
	var st ReplayStats
	if s.snapGen > 0 {
		n, err := s.replaySnapshot(apply)
		if err != nil {
			return st, err
		}
		st.SnapshotRecords = n
	}
	for i, gen := range s.walGens {
		last := i == len(s.walGens)-1
		n, dropped, err := s.replayLog(gen, last, apply)
		st.LogRecords += n
		st.DroppedBytes += dropped
		st.LogFiles++
		if err != nil {
			return st, err
		}
	}
	gen := s.snapGen
	if len(s.walGens) > 0 {
		gen = s.walGens[len(s.walGens)-1]
	}
	if gen == 0 {
		gen = 1
	}
	if err := s.openLog(gen); err != nil {
		return st, err
	}
	return st, nil
}

func (s *Store) replaySnapshot(apply func([]byte) error) (int, error) {
	path := s.snapshotPath()
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	if err := checkMagic(f, snapMagic); err != nil {
		return 0, fmt.Errorf("storage: %s is unreadable: %w", path, err)
	}
	fr := newFrameReader(f, int64(len(snapMagic)))
	n := 0
	for first := true; ; first = false {
		rec, trailer, count, err := fr.next()
		if err != nil {
			if err == io.EOF {
				err = errors.New("it ends without its trailer (incomplete)")
			}
			return n, fmt.Errorf("storage: %s is unreadable at offset %d: %w", path, fr.off, err)
		}
		if trailer {
			if int(count) != n+1 {
				return n, fmt.Errorf("storage: %s is unreadable: its trailer counts %d records, it holds %d", path, count, n+1)
			}
			return n, nil
		}
		if first {
			continue // the generation record
		}
		if err := apply(rec); err != nil {
			return n, fmt.Errorf("storage: %s: record at offset %d: %w", path, fr.off, err)
		}
		n++
	}
}

// replayLog applies one log file's records; in the last file a bad frame
// ends the log there, and the file is truncated to its last good record.
func (s *Store) replayLog(gen uint64, last bool, apply func([]byte) error) (n int, dropped int64, err error) {
	path := s.walPath(gen)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("storage: %w", err)
	}
	if err := checkMagic(f, walMagic); err != nil {
		if last && info.Size() < int64(len(walMagic)) {
			// Created, then the process died before its header was on disk.
			return 0, info.Size(), s.truncateTail(f, path, 0, info.Size(), "a file header cut short", 0)
		}
		return 0, 0, fmt.Errorf("storage: %s is unreadable: %w", path, err)
	}
	fr := newFrameReader(f, int64(len(walMagic)))
	for {
		rec, trailer, _, err := fr.next()
		if err == io.EOF {
			return n, 0, nil
		}
		var torn *errTorn
		if trailer {
			err = &errTorn{"a snapshot trailer in a log"}
		}
		if errors.As(err, &torn) {
			if !last {
				return n, 0, fmt.Errorf("storage: %s is damaged at offset %d (%s), and it is not the last log: "+
					"the writes after it cannot be trusted", path, fr.off, torn.reason)
			}
			dropped = info.Size() - fr.off
			return n, dropped, s.truncateTail(f, path, fr.off, dropped, torn.reason, n)
		}
		if err != nil {
			return n, 0, fmt.Errorf("storage: read %s: %w", path, err)
		}
		if err := apply(rec); err != nil {
			return n, 0, fmt.Errorf("storage: %s: record at offset %d: %w", path, fr.off, err)
		}
		n++
	}
}

func (s *Store) truncateTail(f *os.File, path string, off, dropped int64, reason string, kept int) error {
	s.log.Warn("storage: recovered the log to its last good write, dropping a torn or damaged tail",
		"file", path, "offset", off, "dropped_bytes", dropped, "reason", reason, "records_kept", kept)
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("storage: truncate %s to %d: %w", path, off, err)
	}
	return f.Sync()
}

// openLog opens (or creates) the log of generation gen for appending.
func (s *Store) openLog(gen uint64) error {
	path := s.walPath(gen)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("storage: %w", err)
	}
	size := info.Size()
	if size == 0 {
		if _, err := f.WriteString(walMagic); err != nil {
			f.Close()
			return fmt.Errorf("storage: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("storage: %w", err)
		}
		if err := syncDir(s.dir); err != nil {
			f.Close()
			return err
		}
		size = int64(len(walMagic))
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("storage: %w", err)
	}
	s.mu.Lock()
	s.f, s.gen, s.size = f, gen, size
	s.mu.Unlock()
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", dir, err)
	}
	return nil
}

// Append adds a record to the log and returns its LSN, for Sync. It is
// buffered: nothing is on disk until a Sync (or the background flush)
// covers it. Calls must not overlap.
func (s *Store) Append(rec []byte) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = appendFrame(s.buf, rec)
	n := uint64(headerLen + len(rec))
	s.appended += n
	s.size += int64(n)
	return s.appended
}

// Err is the error that stopped the log, nil while it is healthy: after a
// failed write or fsync nothing more is made durable.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Flush writes and syncs everything appended so far.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(s.appended)
}

// Pending reports whether some appended records are not yet on disk
// (soft writes the background flush has not reached).
func (s *Store) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced < s.appended
}

// LogSize is the size of the current log file, counting what is buffered.
func (s *Store) LogSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Sync returns once the record of LSN lsn, and everything before it, is on
// disk. Concurrent callers share the work: one writes and fsyncs all that
// is buffered while the others wait, so a thousand writers need far fewer
// than a thousand fsyncs.
func (s *Store) Sync(lsn uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(lsn)
}

func (s *Store) syncLocked(lsn uint64) error {
	for s.synced < lsn {
		if s.err != nil {
			return s.err
		}
		if s.syncing {
			s.cond.Wait()
			continue
		}
		s.syncing = true
		buf, upto, f := s.buf, s.appended, s.f
		s.buf = nil
		s.mu.Unlock()
		_, err := f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		s.mu.Lock()
		s.syncing = false
		if err != nil {
			// The state on disk is unknown from here on: no write is
			// acknowledged as durable again.
			s.err = fmt.Errorf("storage: write %s: %w", s.walPath(s.gen), err)
			s.cond.Broadcast()
			return s.err
		}
		s.synced = upto
		s.fsyncs++
		if cap(s.buf) == 0 && cap(buf) <= 1<<20 {
			s.buf = buf[:0] // reuse the buffer when nothing came meanwhile
		}
		s.cond.Broadcast()
	}
	return s.err
}

// flushLoop writes and syncs, every interval, what soft writes left
// buffered.
func (s *Store) flushLoop(interval time.Duration) {
	defer close(s.flushDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopFlush:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.f != nil && s.synced < s.appended && s.err == nil {
			if err := s.syncLocked(s.appended); err != nil {
				s.log.Error("storage: background flush failed", "err", err)
			}
		}
		s.mu.Unlock()
	}
}

// Rotate syncs the current log and starts the next generation's, which
// the next snapshot will continue. Calls must not overlap with Append.
func (s *Store) Rotate() (gen uint64, err error) {
	s.mu.Lock()
	if err := s.syncLocked(s.appended); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	old, next := s.f, s.gen+1
	s.mu.Unlock()
	if err := s.openLog(next); err != nil {
		return 0, err
	}
	_ = old.Close()
	return next, nil
}

// WriteSnapshot writes the snapshot of generation gen (everything before
// log gen), filled by fill, aside, then renames it into place and removes
// the logs it covers. A crash at any point leaves either the old snapshot
// and its logs or the new one.
func (s *Store) WriteSnapshot(gen uint64, fill func(w *SnapshotWriter) error) error {
	tmp := s.snapshotPath() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	sw := NewSnapshotWriter(f)
	err = sw.Add([]byte("gen " + strconv.FormatUint(gen, 10)))
	if err == nil {
		err = fill(sw)
	}
	if err == nil {
		err = sw.Finish()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.snapshotPath())
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("storage: write snapshot: %w", err)
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, walPrefix) || !strings.HasSuffix(name, walSuffix) {
			continue
		}
		g, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, walPrefix), walSuffix), 10, 64)
		if err == nil && g < gen {
			_ = os.Remove(filepath.Join(s.dir, name))
		}
	}
	return nil
}

// Close writes and syncs what is buffered, closes the log and releases the
// directory.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stopFlush)
	<-s.flushDone
	s.mu.Lock()
	var err error
	if s.f != nil {
		err = s.syncLocked(s.appended)
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
		s.f = nil
	}
	s.mu.Unlock()
	if cerr := s.lock.Close(); err == nil {
		err = cerr
	}
	return err
}
