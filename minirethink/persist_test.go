package minirethink

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Durable mode (WithDataDir): what a server wrote, a server started on the
// same directory afterwards has, however the first one ended.

// startDurable starts a server on dir, and a session to it.
func startDurable(t *testing.T, dir string, opts ...Option) (*Server, *r.Session) {
	t.Helper()
	srv, err := Run(append([]Option{WithDataDir(dir)}, opts...)...)
	require.NoError(t, err)
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close(); srv.Close() })
	return srv, s
}

func stopDurable(srv *Server, s *r.Session) {
	s.Close()
	srv.Close()
}

func readAll(t *testing.T, s *r.Session, q r.Term) []map[string]any {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, q.ReadAll(&rows, s), "%s", q)
	return rows
}

func ids(rows []map[string]any) []string {
	var out []string
	for _, row := range rows {
		out = append(out, row["id"].(string))
	}
	sort.Strings(out)
	return out
}

func TestDataDirKeepsSchemaIndexesAndDocuments(t *testing.T) {
	dir := t.TempDir()
	srv, s := startDurable(t, dir)
	_, err := r.DBCreate("game").RunWrite(s)
	require.NoError(t, err)
	_, err = r.DB("game").TableCreate("players").RunWrite(s)
	require.NoError(t, err)
	_, err = r.DB("game").TableCreate("events", r.TableCreateOpts{PrimaryKey: "key", Durability: "soft"}).RunWrite(s)
	require.NoError(t, err)
	players := r.DB("game").Table("players")
	_, err = players.IndexCreateFunc("rank", func(p r.Term) any {
		return []any{p.Field("board"), p.Field("score")}
	}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.IndexCreate("tags", r.IndexCreateOpts{Multi: true}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.Insert([]any{
		map[string]any{"id": "a", "board": "b1", "score": 3, "tags": []any{"x", "y"}},
		map[string]any{"id": "b", "board": "b1", "score": 7, "tags": []any{"y"}},
		map[string]any{"id": "c", "board": "b2", "score": 1},
	}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.Get("a").Update(map[string]any{"score": r.Row.Field("score").Add(10)}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.Get("c").Delete(r.DeleteOpts{Durability: "soft"}).RunWrite(s)
	require.NoError(t, err)
	_, err = r.DB("game").Table("events").Insert(map[string]any{"key": 1, "what": "soft table"}).RunWrite(s)
	require.NoError(t, err)
	_, err = r.DB("test").TableCreate("gone").RunWrite(s)
	require.NoError(t, err)
	_, err = r.DB("test").TableDrop("gone").RunWrite(s)
	require.NoError(t, err)
	var statusBefore []map[string]any
	require.NoError(t, players.IndexStatus().ReadAll(&statusBefore, s))
	stopDurable(srv, s)

	_, s = startDurable(t, dir)
	var dbs []string
	require.NoError(t, r.DBList().ReadAll(&dbs, s))
	assert.Equal(t, []string{"game", "rethinkdb", "test"}, dbs)
	var tables []string
	require.NoError(t, r.DB("game").TableList().ReadAll(&tables, s))
	assert.Equal(t, []string{"events", "players"}, tables)
	require.NoError(t, r.DB("test").TableList().ReadAll(&tables, s))
	assert.Empty(t, tables, "a dropped table stays dropped")

	var statusAfter []map[string]any
	require.NoError(t, players.IndexStatus().ReadAll(&statusAfter, s))
	assert.Equal(t, statusBefore, statusAfter, "index functions come back as they were")

	rows := readAll(t, s, players.OrderBy(r.OrderByOpts{Index: r.Desc("rank")}))
	require.Len(t, rows, 2)
	assert.Equal(t, "a", rows[0]["id"], "the index is rebuilt with the updated score")
	assert.Equal(t, 13.0, rows[0]["score"])
	assert.Equal(t, []string{"a", "b"}, ids(readAll(t, s, players.GetAllByIndex("tags", "y"))))

	var ev map[string]any
	require.NoError(t, r.DB("game").Table("events").Get(1).ReadOne(&ev, s))
	assert.Equal(t, "soft table", ev["what"])
	var cfg map[string]any
	require.NoError(t, r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"name": "events"}).
		Nth(0).ReadOne(&cfg, s))
	assert.Equal(t, "soft", cfg["durability"], "table options come back")
	assert.Equal(t, "key", cfg["primary_key"])
}

// insertN inserts documents {id: prefix-i, n: i} one query each.
func insertN(t *testing.T, s *r.Session, tb r.Term, prefix string, n int) {
	t.Helper()
	for i := range n {
		_, err := tb.Insert(map[string]any{"id": prefix + "-" + itoa(i), "n": i}).RunWrite(s)
		require.NoError(t, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "wal-*.log"))
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A process killed in the middle of writing a record leaves it cut short;
// a power loss can leave garbage instead. Either way the server starts with
// every write up to the last whole one, and says what it dropped.
func TestDataDirRecoversATornLogTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
		reason string
	}{
		{"cut short", func(t *testing.T, path string, size int64) {
			require.NoError(t, os.Truncate(path, size-5))
		}, "cut short"},
		{"garbage", func(t *testing.T, path string, size int64) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			defer f.Close()
			_, err = f.WriteAt([]byte("garbage!"), size-8)
			require.NoError(t, err)
		}, "checksum"},
		{"half a header", func(t *testing.T, path string, size int64) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			defer f.Close()
			_, err = f.Write([]byte{1, 2, 3})
			require.NoError(t, err)
		}, "header cut short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv, s := startDurable(t, dir)
			tb := createTestTable(t, s, "test", "t")
			insertN(t, s, tb, "k", 10)
			stopDurable(srv, s)

			files := logFiles(t, dir)
			require.Len(t, files, 1)
			info, err := os.Stat(files[0])
			require.NoError(t, err)
			tc.damage(t, files[0], info.Size())

			var logs syncBuffer
			srv, s = startDurable(t, dir, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			want := 10
			if tc.name != "half a header" {
				want = 9 // the last insert was the damaged record
			}
			var n int
			require.NoError(t, tb.Count().ReadOne(&n, s))
			assert.Equal(t, want, n, "every write up to the last whole record")
			assert.Contains(t, logs.String(), "dropping a torn or damaged tail")
			assert.Contains(t, logs.String(), tc.reason)
			assert.Contains(t, logs.String(), files[0], "the line names the file")

			// The log goes on from the last good record.
			insertN(t, s, tb, "after", 2)
			stopDurable(srv, s)
			_, s = startDurable(t, dir)
			require.NoError(t, tb.Count().ReadOne(&n, s))
			assert.Equal(t, want+2, n)
		})
	}
}

func TestDataDirDamageBeforeTheTailIsAnErrorNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	srv, s := startDurable(t, dir)
	insertN(t, s, createTestTable(t, s, "test", "t"), "k", 3)
	stopDurable(srv, s)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "snapshot.mrdb"), []byte("MRDBSNP1 nonsense"), 0o600))

	_, err := Run(WithDataDir(dir))
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "snapshot.mrdb"))
	assert.Contains(t, err.Error(), "unreadable")
}

func TestDataDirIsOwnedByOneServer(t *testing.T) {
	dir := t.TempDir()
	startDurable(t, dir)
	_, err := Run(WithDataDir(dir))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrDataDirLocked), "%v", err)
	assert.Contains(t, err.Error(), "is in use by another process (pid ")
	assert.Contains(t, err.Error(), filepath.Join(dir, "LOCK"))
}

// The lock is the kernel's: a process that dies holding it releases it.
// Here another process holds it (flock(1)), and then lets it go.
func TestDataDirLockedByAnotherProcess(t *testing.T) {
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) is not installed")
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "LOCK")
	require.NoError(t, os.WriteFile(lock, nil, 0o600))
	cmd := exec.Command(flock, lock, "sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // flock and its sleep, ended together
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		srv, err := Run(WithDataDir(dir))
		if err == nil {
			srv.Close()
			return false
		}
		return errors.Is(err, ErrDataDirLocked)
	}, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL))
	_ = cmd.Wait()
	// The lock goes with the last process holding it (sleep, killed with
	// flock but not waited for here).
	require.Eventually(t, func() bool {
		srv, err := Run(WithDataDir(dir))
		if err != nil {
			return false
		}
		srv.Close()
		return true
	}, 5*time.Second, 20*time.Millisecond)
}

// A log past WithCheckpointBytes becomes a snapshot and a new log; a start
// reads both.
func TestDataDirCheckpoints(t *testing.T) {
	dir := t.TempDir()
	srv, s := startDurable(t, dir, WithCheckpointBytes(4096))
	tb := createTestTable(t, s, "test", "t")
	_, err := tb.IndexCreate("n").RunWrite(s)
	require.NoError(t, err)
	insertN(t, s, tb, "k", 300)
	_, err = tb.Filter(r.Row.Field("n").Lt(100)).Delete().RunWrite(s)
	require.NoError(t, err)
	stopDurable(srv, s)
	_, err = os.Stat(filepath.Join(dir, "snapshot.mrdb"))
	require.NoError(t, err, "a snapshot was written")
	assert.LessOrEqual(t, len(logFiles(t, dir)), 2, "the logs it covers are gone")

	_, s = startDurable(t, dir)
	var n int
	require.NoError(t, tb.Count().ReadOne(&n, s))
	assert.Equal(t, 200, n)
	rows := readAll(t, s, tb.Between(250, r.MaxVal, r.BetweenOpts{Index: "n"}))
	assert.Len(t, rows, 50, "indexes are rebuilt from the snapshot and the log")
}

// Backup is a consistent snapshot while the server runs; a data directory
// holding it starts with the same data.
func TestDataDirBackupRestores(t *testing.T) {
	srv, s := startDurable(t, t.TempDir())
	tb := createTestTable(t, s, "test", "t")
	insertN(t, s, tb, "k", 20)
	var backup bytes.Buffer
	require.NoError(t, srv.Backup(&backup))
	insertN(t, s, tb, "later", 5)

	restored := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(restored, "snapshot.mrdb"), backup.Bytes(), 0o600))
	_, s2 := startDurable(t, restored)
	var n int
	require.NoError(t, tb.Count().ReadOne(&n, s2))
	assert.Equal(t, 20, n, "the backup holds what was written before it")
	insertN(t, s2, tb, "restored", 1)
}

// Backup works in memory too: a test's data, saved to start a durable
// server with.
func TestBackupOfAnInMemoryServer(t *testing.T) {
	srv := RunT(t)
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr()})
	require.NoError(t, err)
	defer s.Close()
	insertN(t, s, createTestTable(t, s, "test", "t"), "k", 3)
	var backup bytes.Buffer
	require.NoError(t, srv.Backup(&backup))
	assert.True(t, bytes.HasPrefix(backup.Bytes(), []byte("MRDBSNP1")))
}

// table_config's durability, changed as on RethinkDB, is kept and decides
// whether the table's writes wait for the disk.
func TestDataDirKeepsATableDurabilityChange(t *testing.T) {
	dir := t.TempDir()
	srv, s := startDurable(t, dir)
	createTestTable(t, s, "test", "t")
	rows := r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"name": "t"})
	_, err := rows.Update(map[string]any{"durability": "soft"}).RunWrite(s)
	require.NoError(t, err)
	insertN(t, s, r.Table("t"), "k", 3)
	stopDurable(srv, s)

	_, s = startDurable(t, dir)
	var cfg map[string]any
	require.NoError(t, rows.Nth(0).ReadOne(&cfg, s))
	assert.Equal(t, "soft", cfg["durability"])
	var n int
	require.NoError(t, r.Table("t").Count().ReadOne(&n, s))
	assert.Equal(t, 3, n, "soft writes are synced within the flush interval and at close")
}
