package reql

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkReadTopN is a leaderboard's top 10:
//
//	between([board, minval], [board, maxval], {index: "rank"})
//	  .orderBy({index: r.desc("rank")}).limit(10)
//
// with the board holding 10k, 100k and 1M documents among 100 other boards.
// It must be a walk of the index from the board's top, O(log n + 10): ns/op
// should barely grow with the board.
//
//	go test -run '^$' -bench ReadTopN -benchtime 2000x -count 5 ./minirethink/internal/reql/
func BenchmarkReadTopN(b *testing.B) {
	term := `[71,[[41,[[182,[[15,["players"]],[2,["b",[180,[]]]],[2,["b",[181,[]]]]],` +
		`{"index":"rank"}]],{"index":[74,["rank"]]}],10]]`
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("board=%d", size), func(b *testing.B) {
			m := topNBenchEngine(b, size)
			b.ReportAllocs()
			for b.Loop() {
				// Decoded each time, as a query from the wire is.
				res, err := m.Run(context.Background(), Query{Term: decoded(term)})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Seq) != 10 {
					b.Fatalf("got %d rows", len(res.Seq))
				}
			}
		})
	}
}

var topNBench = struct {
	sync.Mutex
	engines map[int]*Memory
}{engines: map[int]*Memory{}}

// topNBenchEngine is an engine whose table players has a rank index
// [board, score] and size documents in board "b", plus size/10 spread over
// 100 boards on either side of it. Built once per size and process: a
// million documents take seconds to index.
func topNBenchEngine(b *testing.B, size int) *Memory {
	b.Helper()
	topNBench.Lock()
	defer topNBench.Unlock()
	if m, ok := topNBench.engines[size]; ok {
		return m
	}
	m := readTestEngine(b, map[string][]map[string]any{"players": nil}, readIndex{
		table: "players", name: "rank",
		fn: `[69,[[2,[1]],[2,[[31,[[10,[1]],"board"]],[31,[[10,[1]],"score"]]]]]]`,
	})
	tb := m.dbs["test"].tables["players"]
	ec := &evalCtx{ctx: context.Background(), m: m, db: "test"}
	add := func(id int, board string, score float64) {
		doc := map[string]any{"id": float64(id), "board": board, "score": score, "name": fmt.Sprintf("player %d", id)}
		tb.commit(ec, doc["id"], nil, doc)
	}
	id := 0
	for i := range size {
		// Scores with ties, in no particular order.
		add(id, "b", float64((i*7919)%(size/2+1)))
		id++
	}
	for i := range size / 10 {
		board := fmt.Sprintf("a%02d", i%50)
		if i%2 == 1 {
			board = fmt.Sprintf("c%02d", i%50)
		}
		add(id, board, float64(i))
		id++
	}
	topNBench.engines[size] = m
	// The building's garbage is not the query's to collect.
	runtime.GC()
	return m
}
