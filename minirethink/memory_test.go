package minirethink_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/minirethink"
)

// TestMemoryPerPlayer reports the heap one player document costs the
// embedded server with the players table's index (the standing index
// [board, rank_score|score, -reached_at], as models' schema has it), measured with
// runtime.MemStats after GC around inserting MEMORY_DOCS documents
// (default 100,000) spread over 10 boards. Run it alone:
//
//	go test -run TestMemoryPerPlayer -v ./minirethink/
func TestMemoryPerPlayer(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory: not in -short")
	}
	n := 100_000
	if v := os.Getenv("MEMORY_DOCS"); v != "" {
		_, err := fmt.Sscan(v, &n)
		require.NoError(t, err)
	}
	srv := minirethink.RunT(t)
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, r.TableCreate("players").Exec(s))
	players := r.Table("players")
	require.NoError(t, players.IndexCreateFunc("standing", func(p r.Term) any {
		return []any{p.Field("board"), p.Field("rank_score").Default(p.Field("score")), p.Field("reached_at").Mul(-1)}
	}).Exec(s))
	boards := make([]string, 10)
	for i := range boards {
		boards[i] = fmt.Sprintf("0b6c9e5e-7d1f-4c1a-9b55-%012d", i)
	}

	heap := func() uint64 {
		var m runtime.MemStats
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const batch = 5000
	for i := 0; i < n; i += batch {
		docs := make([]any, 0, batch)
		for j := i; j < i+batch && j < n; j++ {
			docs = append(docs, map[string]any{
				"board":      boards[j%len(boards)],
				"name":       fmt.Sprintf("Player %d", j),
				"score":      j % 1000,
				"reached_at": r.Now().ToEpochTime().Add(float64(j) / 1000),
			})
		}
		require.NoError(t, players.Insert(docs).Exec(s))
	}
	after := heap()
	var count int
	require.NoError(t, players.Count().ReadOne(&count, s))
	require.Equal(t, n, count)
	perDoc := float64(after-before) / float64(n)
	t.Logf("%d player documents with their indexes: %.0f bytes each (heap %d -> %d)", n, perDoc, before, after)
	runtime.KeepAlive(srv)
}
