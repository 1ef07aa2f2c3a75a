package ssehub_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/ssehub"
)

// countingWriter is an in-process response: it counts the frames Serve writes
// and throws them away, so the benchmarks measure the hub, not the network.
type countingWriter struct {
	header http.Header
	writes *atomic.Int64
}

func (w countingWriter) Header() http.Header { return w.header }
func (w countingWriter) WriteHeader(int)     {}
func (w countingWriter) Flush()              {}
func (w countingWriter) Write(b []byte) (int, error) {
	w.writes.Add(1)
	return len(b), nil
}

const benchBoardSize = 1 << 10 // about a top-10 board

func quietHub() *ssehub.Hub {
	return ssehub.New(ssehub.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func BenchmarkPublishUnsubscribed(b *testing.B) {
	h := quietHub()
	defer h.Close()
	ev := board("b", 1, benchBoardSize)
	b.ReportAllocs()
	for b.Loop() {
		h.Broadcast(ev)
	}
}

// BenchmarkFanout publishes one board per op and waits until every subscriber's
// Serve loop has written it: ns/op is the whole fan-out of one event, and
// publish-ns/op the part the publisher itself spends (it never waits for a
// subscriber).
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			h := quietHub()
			var writes atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			snapshot := func(context.Context) (event.Event, error) { return board("b", 0, benchBoardSize), nil }
			for range subs {
				w := countingWriter{header: http.Header{}, writes: &writes}
				r := httptest.NewRequest(http.MethodGet, "/boards/b/", nil).WithContext(ctx)
				wg.Go(func() { _ = h.Serve(ctx, w, r, "b", snapshot) })
			}
			// Each subscriber writes the retry hint and the snapshot first.
			waitWrites(&writes, int64(2*subs))

			evs := make([]event.Event, 64)
			for i := range evs {
				evs[i] = board("b", 0, benchBoardSize)
			}
			var publishing time.Duration
			seq := uint64(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				ev := evs[seq%uint64(len(evs))]
				ev.Seq = seq
				start := time.Now()
				h.Broadcast(ev)
				publishing += time.Since(start)
				waitWrites(&writes, int64(subs)*int64(2+seq))
			}
			b.ReportMetric(float64(publishing.Nanoseconds())/float64(b.N), "publish-ns/op")
			cancel()
			wg.Wait()
			h.Close()
		})
	}
}

func waitWrites(writes *atomic.Int64, n int64) {
	for writes.Load() < n {
		runtime.Gosched()
	}
}
