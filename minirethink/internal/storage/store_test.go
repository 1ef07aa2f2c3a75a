package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func open(t *testing.T, dir string) (*Store, []string) {
	t.Helper()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	var recs []string
	_, err = s.Replay(func(rec []byte) error { recs = append(recs, string(rec)); return nil })
	require.NoError(t, err)
	return s, recs
}

// Writers that wait at the same moment share one fsync.
func TestConcurrentSyncsShareFsyncs(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	const writers, each = 16, 50
	var mu sync.Mutex // the engine's write lock: appends never overlap
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				mu.Lock()
				lsn := s.Append(fmt.Appendf(nil, "w%d-%d", w, i))
				mu.Unlock()
				assert.NoError(t, s.Sync(lsn))
			}
		})
	}
	wg.Wait()
	s.mu.Lock()
	fsyncs := s.fsyncs
	s.mu.Unlock()
	t.Logf("%d durable appends, %d fsyncs", writers*each, fsyncs)
	assert.Less(t, fsyncs, writers*each/2, "group commit shares the fsyncs")
	require.NoError(t, s.Close())

	s, recs := open(t, dir)
	defer s.Close()
	assert.Len(t, recs, writers*each)
}

// Damage in a log that is not the last is lost data, not a torn tail.
func TestDamageInAnEarlierLogIsAnError(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	s.Sync(s.Append([]byte("one")))
	_, err := s.Rotate()
	require.NoError(t, err)
	s.Sync(s.Append([]byte("two")))
	require.NoError(t, s.Close())
	first := s.walPath(1)
	info, err := os.Stat(first)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(first, info.Size()-1))

	s, err = Open(dir, Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Replay(func([]byte) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), first)
	assert.Contains(t, err.Error(), "not the last log")
}

// A snapshot covers the logs before its generation, which go away.
func TestSnapshotReplacesTheLogsItCovers(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	s.Sync(s.Append([]byte("old")))
	gen, err := s.Rotate()
	require.NoError(t, err)
	s.Sync(s.Append([]byte("new")))
	require.NoError(t, s.WriteSnapshot(gen, func(w *SnapshotWriter) error { return w.Add([]byte("snap")) }))
	require.NoError(t, s.Close())
	_, err = os.Stat(s.walPath(1))
	assert.ErrorIs(t, err, os.ErrNotExist)

	s, recs := open(t, dir)
	defer s.Close()
	assert.Equal(t, []string{"snap", "new"}, recs)
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	assert.Empty(t, matches)
}

// After a failed write or fsync the log is broken for good: the state on
// disk is unknown, so nothing more is acknowledged as durable.
func TestAFailedSyncIsSticky(t *testing.T) {
	s, _ := open(t, t.TempDir())
	require.NoError(t, s.Sync(s.Append([]byte("one"))))
	s.f.Close() // the disk goes away
	err := s.Sync(s.Append([]byte("two")))
	require.Error(t, err)
	assert.Equal(t, err, s.Err())
	assert.Equal(t, err, s.Sync(s.Append([]byte("three"))))
	assert.Contains(t, err.Error(), s.walPath(1))
}
