package ssehub_test

// Measurements of ssehub and github.com/r3labs/sse/v2 on the paths our
// requirements care about; doc.go quotes them. They are benchmarks so that they
// cost nothing in a plain go test, and they report what each library delivers
// and keeps (b.ReportMetric) rather than asserting it. Run them with
//
//	go test -run '^$' -bench 'Stalled|ReplayLog|R3labs' -benchtime 1x ./ssehub/
//
// and revisit doc.go when a release of r3labs/sse changes the numbers.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

// smallSendBuffer is an http.Server.ConnContext hook for the r3labs server: a
// 4 KiB kernel send buffer, so that a client that stops reading blocks the
// server's writes after a few KiB, as ssehub.Config.SendBuffer does for ours.
func smallSendBuffer(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return ctx
}

// r3labsServer serves a new sse.Server with one stream, "b", on a real listener;
// subscribed receives +1/-1 as streams come and go, so callers can wait for them.
// The caller closes both servers.
func r3labsServer(tb testing.TB, autoReplay bool, connContext func(context.Context, net.Conn) context.Context) (*sse.Server, *httptest.Server, chan int) {
	tb.Helper()
	subscribed := make(chan int, 64)
	s := sse.NewWithCallback(
		func(string, *sse.Subscriber) { subscribed <- 1 },
		func(string, *sse.Subscriber) { subscribed <- -1 },
	)
	s.AutoReplay = autoReplay
	s.CreateStream("b")
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnContext = connContext
	srv.Start()
	return s, srv, subscribed
}

func waitCount(tb testing.TB, ch chan int, want int) {
	tb.Helper()
	n := 0
	for n != want {
		select {
		case d := <-ch:
			n += d
		case <-time.After(waitFor):
			require.FailNow(tb, fmt.Sprintf("want %d subscribers, have %d", want, n))
		}
	}
}

func r3labsEvent(seq uint64, pad int) *sse.Event {
	return &sse.Event{
		ID:    []byte(strconv.FormatUint(seq, 10)),
		Event: []byte("update"),
		Data:  fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, seq, strings.Repeat("x", pad)),
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The fan-out measurement: one client that never reads, on small kernel buffers,
// and one healthy client. Events 1..n of fanoutEventSize bytes are published in
// lock step: each only once the healthy client has the previous one, so a
// publisher that merely outruns a healthy reader cannot be mistaken for a stall.
const (
	fanoutEvents    = 200
	fanoutEventSize = 16 << 10 // 16 KiB: a few fill the stalled client's buffers
	fanoutStall     = 2 * time.Second
)

type lockstepResult struct {
	received int           // events the healthy client got before the first stall
	elapsed  time.Duration // time to receive them (the stall not included)
}

func lockstep(tb testing.TB, healthy *rawStream, n int, stall time.Duration, publish func(seq uint64)) lockstepResult {
	tb.Helper()
	var res lockstepResult
	start := time.Now()
	for seq := uint64(1); seq <= uint64(n); seq++ {
		publish(seq)
		ev, ok := healthy.tryNextEvent(stall)
		if !ok {
			break
		}
		require.Equal(tb, strconv.FormatUint(seq, 10), ev.ID)
		res = lockstepResult{received: int(seq), elapsed: time.Since(start)}
	}
	return res
}

func (r lockstepResult) report(b *testing.B) {
	b.ReportMetric(float64(r.received), "delivered")
	b.ReportMetric(float64(r.elapsed.Microseconds())/float64(max(r.received, 1)), "µs/delivered")
}

// BenchmarkStalledSubscriber: how many of fanoutEvents the healthy client gets
// while another client has stopped reading (delivered; it stops at the first
// wait of fanoutStall), and how long each took.
func BenchmarkStalledSubscriber(b *testing.B) {
	b.Run("hub=ssehub", func(b *testing.B) {
		var res lockstepResult
		droppedAt := uint64(0)
		for b.Loop() {
			f := newFixture(b, ssehub.Config{SendBuffer: 4096, Logger: quietLogger()})
			f.set(board("b", 0, 0), "b")
			healthy := openStream(b, f.url("b"), nil)
			require.Equal(b, "0", healthy.nextEvent(b).ID)
			dialStalled(b, f.Srv.URL, "/boards/b/")
			f.waitSubscribers(b, "b", 2)
			droppedAt = 0
			res = lockstep(b, healthy, fanoutEvents, fanoutStall, func(seq uint64) {
				f.publish("b", seq, fanoutEventSize)
				if droppedAt == 0 && f.Hub.Subscribers("b") == 1 {
					droppedAt = seq
				}
			})
		}
		res.report(b)
		b.ReportMetric(float64(droppedAt), "stalled-dropped-by-event")
	})
	b.Run("hub=r3labs", func(b *testing.B) {
		var res lockstepResult
		var resumed time.Duration
		tried := 0
		for b.Loop() {
			s, srv, subscribed := r3labsServer(b, false, smallSendBuffer)
			healthy := openStream(b, srv.URL+"?stream=b", nil)
			waitCount(b, subscribed, 1)
			stalled := dialStalled(b, srv.URL, "/?stream=b")
			waitCount(b, subscribed, 1)
			res = lockstep(b, healthy, fanoutEvents, fanoutStall, func(seq uint64) {
				s.Publish("b", r3labsEvent(seq, fanoutEventSize))
			})
			// TryPublish drops only once the stream's own queue is full, and then
			// for everybody, the healthy client included.
			tried = 0
			for s.TryPublish("b", r3labsEvent(uint64(fanoutEvents+1+tried), 0)) {
				tried++
			}
			// Only the stalled client hanging up lets the healthy one go on.
			start := time.Now()
			require.NoError(b, stalled.Close())
			healthy.nextEvent(b)
			resumed = time.Since(start)
			healthy.Close()
			waitCount(b, subscribed, -2)
			srv.Close()
			s.Close()
		}
		res.report(b)
		b.ReportMetric(float64(tried), "trypublish-accepted")
		b.ReportMetric(float64(resumed.Microseconds()), "µs-to-resume-after-hangup")
	})
}

// BenchmarkReplayLog: the heap each published event leaves behind (retained-B/event)
// once a client has received them all. ssehub keeps no history; r3labs with
// AutoReplay, the default of sse.New, keeps every event for ever and replays them
// all to each new client, with ids rewritten to log positions
// (first-replayed-id; published from 1000).
func BenchmarkReplayLog(b *testing.B) {
	const n, size = 10000, 1 << 10
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	b.Run("hub=ssehub", func(b *testing.B) {
		var grown int64
		for b.Loop() {
			f := newFixture(b, ssehub.Config{Buffer: n, Logger: quietLogger()})
			f.set(board("b", 999, 0), "b")
			reader := collectSeqs(b, openStream(b, f.url("b"), nil))
			reader.waitFor(b, 999)
			before := heap()
			for seq := uint64(1000); seq < 1000+n; seq++ {
				f.Hub.Broadcast(board("b", seq, size))
			}
			reader.waitFor(b, 1000+n-1)
			grown = heap() - before
			f.Hub.Close()
		}
		b.ReportMetric(float64(grown)/n, "retained-B/event")
	})
	b.Run("hub=r3labs-autoreplay", func(b *testing.B) {
		var grown int64
		var firstID uint64
		for b.Loop() {
			before := heap()
			s, srv, subscribed := r3labsServer(b, true, nil)
			for seq := uint64(1000); seq < 1000+n; seq++ {
				s.Publish("b", r3labsEvent(seq, size))
			}
			// A client joining now is sent the whole log: that both shows the log
			// holds every event and waits until the stream goroutine added them all.
			late := openStream(b, srv.URL+"?stream=b", nil)
			first := late.nextEvent(b)
			for range n - 1 {
				late.nextEvent(b)
			}
			late.Close()
			waitCount(b, subscribed, 0)
			grown = heap() - before
			var err error
			firstID, err = strconv.ParseUint(first.ID, 10, 64)
			require.NoError(b, err)
			srv.Close()
			s.Close()
		}
		b.ReportMetric(float64(grown)/n, "retained-B/event")
		b.ReportMetric(float64(firstID), "first-replayed-id")
	})
}

// BenchmarkR3labsResume: how r3labs with AutoReplay answers a Last-Event-ID that
// is not an integer (non-integer-id-status; ssehub sends the current board), and
// how many events a client that resumes from the last id it got is sent again
// (resent-on-resume; ssehub: none).
func BenchmarkR3labsResume(b *testing.B) {
	var status, resent int
	for b.Loop() {
		s, srv, subscribed := r3labsServer(b, true, nil)
		for seq := uint64(0); seq < 10; seq++ {
			s.Publish("b", r3labsEvent(seq, 0))
		}
		// Make sure the stream goroutine has logged them all before resuming.
		warm := openStream(b, srv.URL+"?stream=b", nil)
		for range 10 {
			warm.nextEvent(b)
		}
		warm.Close()
		waitCount(b, subscribed, 0)

		h := http.Header{}
		h.Set("Last-Event-ID", "abc")
		bad := openStream(b, srv.URL+"?stream=b", h)
		status = bad.Resp.StatusCode
		bad.Close()

		h.Set("Last-Event-ID", "5")
		resumed := openStream(b, srv.URL+"?stream=b", h)
		resent = 0
		for {
			id := resumed.nextEvent(b).ID
			if id == "9" {
				break
			}
			n, err := strconv.Atoi(id)
			require.NoError(b, err)
			if n <= 5 {
				resent++
			}
		}
		resumed.Close()
		waitCount(b, subscribed, 0)
		srv.Close()
		s.Close()
	}
	b.ReportMetric(float64(status), "non-integer-id-status")
	b.ReportMetric(float64(resent), "resent-on-resume")
}

// BenchmarkR3labsRemoveStream: RemoveStream (and Server.Close) while clients are
// connected leaves one goroutine per subscriber blocked for ever in
// Subscriber.close, because the stream goroutine that would receive its
// deregistration has exited (stranded, of 10 subscribers; each op leaks them).
// ssehub's CloseTopic leaves none (TestCloseTopic, TestNoGoroutineLeak...).
func BenchmarkR3labsRemoveStream(b *testing.B) {
	const subs = 10
	stuckIn := func() int {
		buf := make([]byte, 4<<20)
		return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("sse/v2.(*Subscriber).close"))
	}
	stuck := 0
	for b.Loop() {
		s, srv, subscribed := r3labsServer(b, false, nil)
		streams := make([]*rawStream, subs)
		for i := range streams {
			streams[i] = openStream(b, srv.URL+"?stream=b", nil)
		}
		waitCount(b, subscribed, subs)
		s.Publish("b", r3labsEvent(1, 0))
		for _, st := range streams {
			st.nextEvent(b)
		}
		already := stuckIn() // earlier iterations leave theirs behind
		s.RemoveStream("b")
		for _, st := range streams {
			_ = st.waitEnd(b)
		}
		// The goroutines get stuck after the streams end; nothing to await.
		stuck = 0
		for deadline := time.Now().Add(time.Second); stuck != subs && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			stuck = stuckIn() - already
		}
		srv.Close()
	}
	b.ReportMetric(float64(stuck), "stranded")
}
