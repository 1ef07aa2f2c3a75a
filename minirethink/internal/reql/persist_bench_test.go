package reql

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Durable mode in the engine: what a write pays for the disk, and how long
// a start takes.
//
//	go test -run '^$' -bench 'Durable' -count 6 ./minirethink/internal/reql/
//	MINIRETHINK_OPEN_PLAYERS=1000000 go test -run TestOpenPlayers -v ./minirethink/internal/reql/
//	MINIRETHINK_OPEN_DIR=/tmp/players-1m ...   # keep the directory; run again to time a fresh process

func mustRunTerm(tb testing.TB, m *Memory, term string) {
	tb.Helper()
	if _, err := m.Run(context.Background(), Query{Term: decoded(term)}); err != nil {
		tb.Fatalf("%s: %v", term, err)
	}
}

// playersSchema creates the service's players table and its indexes.
func playersSchema(tb testing.TB, m *Memory, durability string) {
	tb.Helper()
	opts := ""
	if durability != "" {
		opts = fmt.Sprintf(`,{"durability":%q}`, durability)
	}
	mustRunTerm(tb, m, `[60,[[14,["test"]],"players"]`+opts+`]`)
	mustRunTerm(tb, m, `[75,[[15,[[14,["test"]],"players"]],"board"]]`)
	// rank: [board, score, reached_at * -1], as models/schema.go.
	mustRunTerm(tb, m, `[75,[[15,[[14,["test"]],"players"]],"rank",[69,[[2,[1]],[2,[[31,[[10,[1]],"board"]],[31,[[10,[1]],"score"]],[26,[[31,[[10,[1]],"reached_at"]],-1]]]]]]]]`)
}

// insertPlayers inserts n players over boards boards, batch per query.
func insertPlayers(tb testing.TB, m *Memory, n, boards, batch int) {
	tb.Helper()
	for i := 0; i < n; i += batch {
		docs := make([]any, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			docs = append(docs, map[string]any{
				"id":         fmt.Sprintf("%08x-0000-4000-8000-%012x", j, j),
				"board":      fmt.Sprintf("board-%03d", j%boards),
				"name":       "player " + strconv.Itoa(j),
				"score":      float64(j * 7919 % 100000),
				"reached_at": 1.7e9 + float64(j)/1000,
			})
		}
		b, _ := json.Marshal(docs)
		mustRunTerm(tb, m, `[56,[[15,[[14,["test"]],"players"]],[2,`+string(b)+`]]]`)
	}
}

// BenchmarkDurableScoreAdd: 16 writers incrementing one player's score,
// in memory and with a data directory (hard: every answer waits for the
// disk, shared by group commit; soft: the table's durability).
func BenchmarkDurableScoreAdd(b *testing.B) {
	for _, mode := range []string{"memory", "hard", "soft"} {
		b.Run(mode, func(b *testing.B) {
			var m *Memory
			if mode == "memory" {
				m = New()
			} else {
				var err error
				if m, err = Open(b.TempDir(), OpenOptions{}); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = m.Close() })
			}
			durability := ""
			if mode == "soft" {
				durability = "soft"
			}
			playersSchema(b, m, durability)
			insertPlayers(b, m, 1, 1, 1)
			term := `[53,[[16,[[15,[[14,["test"]],"players"]],"00000000-0000-4000-8000-000000000000"]],` +
				`[69,[[2,[1]],{"score":[24,[[31,[[10,[1]],"score"]],1]]}]]]]`
			b.SetParallelism(8) // 16 writers on 2 cores
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// Decoded each time, as a query from the wire is.
					if _, err := m.Run(context.Background(), Query{Term: decoded(term)}); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			})
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "adds/s")
		})
	}
}

// TestOpenPlayers: a start with MINIRETHINK_OPEN_PLAYERS players (from the
// log, then from a snapshot) must stay under 10 seconds at a million. With
// MINIRETHINK_OPEN_DIR the directory is kept and reused, so a second run
// times the starts in a fresh process, as a restarted server would.
func TestOpenPlayers(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MINIRETHINK_OPEN_PLAYERS"))
	if n == 0 {
		t.Skip("set MINIRETHINK_OPEN_PLAYERS=1000000 to time a start with that many players")
	}
	dir := os.Getenv("MINIRETHINK_OPEN_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if _, err := os.Stat(dir); err != nil {
		m, err := Open(dir, OpenOptions{CheckpointBytes: 1 << 40}) // all of it in the log first
		if err != nil {
			t.Fatal(err)
		}
		playersSchema(t, m, "")
		start := time.Now()
		insertPlayers(t, m, n, 1000, 1000)
		t.Logf("inserted %d players in %s", n, time.Since(start))
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		// As a fresh process would: the previous engine's heap is garbage,
		// not something the start's collections have to walk.
		runtime.GC()
		files := sizes(dir)
		start := time.Now()
		m, err := Open(dir, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("start: %s (%s)", took, files)
		if got := m.dbs["test"].tables["players"].Len(); got != n {
			t.Errorf("loaded %d players, want %d", got, n)
		}
		if n >= 1_000_000 && took > 10*time.Second {
			t.Errorf("a start with %d players took %s, more than 10s", n, took)
		}
		// A start that found a big log snapshots it in the background;
		// Close waits for that, so the next start reads the snapshot.
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func sizes(dir string) string {
	entries, _ := os.ReadDir(dir)
	var out string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Size() > 0 {
			out += fmt.Sprintf("%s %d MB; ", e.Name(), info.Size()>>20)
		}
	}
	return out
}
