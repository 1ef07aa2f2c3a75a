package reql

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// In-engine write and feed benchmarks: no sockets, no driver; what the
// engine itself costs. The driver-level ones are in minirethink/.
//
//	go test -run '^$' -bench . -benchtime 2s ./minirethink/internal/reql/

// incrementScore is update({score: r.row('score').add(1)}) on get(id), as
// JSON.
func incrementScore(id int) string {
	return fmt.Sprintf(`[53,[[16,[[15,["players"]],%d]],[69,[[2,[1]],{"score":[24,[[31,[[10,[1]],"score"]],1]]}]]]]`, id)
}

func benchEngine(b *testing.B, docs int) *Memory {
	b.Helper()
	m := New()
	db := m.dbs["test"]
	tb := newTable(db, newUUID(), "players", "id")
	db.tables["players"] = tb
	ec := &evalCtx{ctx: context.Background(), m: m, db: "test"}
	for i := range docs {
		tb.commit(ec, float64(i), nil, map[string]any{"id": float64(i), "score": 0.0})
	}
	return m
}

// mustRunBench runs the query term, decoded each time as a query from the
// wire is.
func mustRunBench(b *testing.B, m *Memory, term string) {
	if _, err := m.Run(context.Background(), Query{Term: decoded(term)}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpdateOneDocument: one client incrementing one document.
func BenchmarkUpdateOneDocument(b *testing.B) {
	m := benchEngine(b, 1)
	q := incrementScore(0)
	b.ReportAllocs()
	for b.Loop() {
		mustRunBench(b, m, q)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkUpdateParallel: GOMAXPROCS clients, on one hot document and
// spread over 1000; writes serialise on the engine lock either way.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, docs := range []int{1, 1000} {
		b.Run(fmt.Sprintf("docs=%d", docs), func(b *testing.B) {
			m := benchEngine(b, docs)
			queries := make([]string, docs)
			for i := range queries {
				queries[i] = incrementScore(i)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mustRunBench(b, m, queries[int(next.Add(1))%docs])
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkUpdateWithFeeds: the cost a write pays per open feed (each
// observer runs inside the commit).
func BenchmarkUpdateWithFeeds(b *testing.B) {
	for _, feeds := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("table-feeds=%d", feeds), func(b *testing.B) {
			m := benchEngine(b, 1)
			for range feeds {
				res, err := m.Run(context.Background(), Query{Term: decoded(`[152,[[15,["players"]]],{"squash":true}]`)})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(res.Feed.Close)
			}
			q := incrementScore(0)
			for b.Loop() {
				mustRunBench(b, m, q)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkFeedDelivery: from the start of a write to the change coming out
// of a feed's Next in another goroutine (which waits for it), median.
func BenchmarkFeedDelivery(b *testing.B) {
	m := benchEngine(b, 1)
	res, err := m.Run(context.Background(), Query{Term: decoded(`[152,[[16,[[15,["players"]],0]]]]`)})
	if err != nil {
		b.Fatal(err)
	}
	defer res.Feed.Close()
	arrived := make(chan time.Time, 1)
	go func() {
		for {
			docs, err := res.Feed.Next(context.Background(), true)
			if err != nil {
				return
			}
			now := time.Now()
			for range docs {
				arrived <- now
			}
		}
	}()
	q := incrementScore(0)
	lat := make([]time.Duration, 0, 1024)
	for b.Loop() {
		start := time.Now()
		mustRunBench(b, m, q)
		lat = append(lat, (<-arrived).Sub(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
}
