package ssehub_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

func seqOf(t *testing.T, r record) uint64 {
	t.Helper()
	require.True(t, r.HasID, "event without id: %+v", r)
	n, err := strconv.ParseUint(r.ID, 10, 64)
	require.NoError(t, err)
	return n
}

func TestFirstEventIsSnapshot(t *testing.T) {
	f := newFixture(t, ssehub.Config{Retry: 1500 * time.Millisecond})
	f.set(board("b", 5, 0), "b")

	s := openStream(t, f.url("b"), nil)
	assert.Equal(t, http.StatusOK, s.Resp.StatusCode)
	assert.Equal(t, "text/event-stream", s.Resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", s.Resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no", s.Resp.Header.Get("X-Accel-Buffering"))

	assert.Equal(t, record{Kind: "retry", Retry: "1500"}, s.next(t))
	first := s.next(t)
	assert.Equal(t, "event", first.Kind)
	assert.Equal(t, "5", first.ID)
	assert.Equal(t, "update", first.Type)
	assert.Equal(t, string(board("b", 5, 0).Data), first.Data)
}

func TestPublishReachesOnlyThatTopicsSubscribers(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 1, 0), "b")
	f.set(board("c", 1, 0), "c")
	b1, b2 := openStream(t, f.url("b"), nil), openStream(t, f.url("b"), nil)
	c := openStream(t, f.url("c"), nil)
	for _, s := range []*rawStream{b1, b2, c} {
		require.Equal(t, "1", s.nextEvent(t).ID)
	}

	f.publish("b", 2, 0)
	f.publish("c", 9, 0)
	for _, s := range []*rawStream{b1, b2} {
		ev := s.nextEvent(t)
		assert.Equal(t, "2", ev.ID)
		assert.Equal(t, string(board("b", 2, 0).Data), ev.Data)
	}
	assert.Equal(t, "9", c.nextEvent(t).ID, "c must not see b's event")
}

func TestLastEventID(t *testing.T) {
	// The board is at seq 5 when the client connects; then 6 and 10 are published.
	// want is what the client gets. Only an id equal to the board's seq skips the
	// snapshot: any other id, including one the server has never issued (ahead of
	// the board after a database restore, or garbage), gets the current board at
	// once and then every newer one, never silence.
	const (
		header = "Last-Event-ID"
		query  = "lastEventId"
	)
	tests := []struct {
		name  string
		from  string // header or query; empty: none sent
		id    string
		query string // lastEventId as well as the header
		want  []uint64
	}{
		{name: "none: current board", want: []uint64{5, 6, 10}},
		{name: "equal: no duplicate", from: header, id: "5", want: []uint64{6, 10}},
		{name: "one behind", from: header, id: "4", want: []uint64{5, 6, 10}},
		{name: "far behind", from: header, id: "0", want: []uint64{5, 6, 10}},
		{name: "one ahead", from: header, id: "6", want: []uint64{5, 6, 10}},
		{name: "far ahead (restored database)", from: header, id: "999999", want: []uint64{5, 6, 10}},
		{name: "max uint64", from: header, id: "18446744073709551615", want: []uint64{5, 6, 10}},
		{name: "beyond uint64", from: header, id: "18446744073709551616", want: []uint64{5, 6, 10}},
		{name: "huge", from: header, id: strings.Repeat("9", 4000), want: []uint64{5, 6, 10}},
		{name: "non-integer", from: header, id: "abc", want: []uint64{5, 6, 10}},
		{name: "negative", from: header, id: "-1", want: []uint64{5, 6, 10}},
		{name: "empty", from: header, id: "", want: []uint64{5, 6, 10}},
		{name: "query: equal", from: query, id: "5", want: []uint64{6, 10}},
		{name: "query: far ahead", from: query, id: "999999", want: []uint64{5, 6, 10}},
		{name: "query: max uint64", from: query, id: "18446744073709551615", want: []uint64{5, 6, 10}},
		{name: "query: garbage", from: query, id: "abc", want: []uint64{5, 6, 10}},
		{name: "query: empty", from: query, id: "", want: []uint64{5, 6, 10}},
		{name: "header wins over query", from: header, id: "5", query: "1", want: []uint64{6, 10}},
		{name: "header ahead wins over query equal", from: header, id: "999999", query: "5", want: []uint64{5, 6, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ssehub.Config{})
			f.set(board("b", 5, 0), "b")
			u := f.url("b")
			q := url.Values{}
			if tt.from == query {
				q.Set(query, tt.id)
			}
			if tt.query != "" {
				q.Set(query, tt.query)
			}
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			h := http.Header{}
			if tt.from == header {
				h[header] = []string{tt.id} // sent even when empty
			}
			s := openStream(t, u, h)
			require.Equal(t, http.StatusOK, s.Resp.StatusCode)
			// The response headers come after the subscription, so these cannot be
			// missed; a duplicate snapshot would arrive before them.
			f.publish("b", 6, 0)
			f.publish("b", 10, 0)
			var got []uint64
			for range tt.want {
				got = append(got, seqOf(t, s.nextEvent(t)))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNeverOlderThanAlreadySeen(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 5, 0), "b")
	s := openStream(t, f.url("b"), nil)
	require.Equal(t, uint64(5), seqOf(t, s.nextEvent(t)))

	// A late or repeated republish (two web processes, a changefeed replay after a
	// reconnect) must not take the client back.
	for _, seq := range []uint64{7, 6, 7, 5, 8} {
		f.publish("b", seq, 0)
	}
	assert.Equal(t, uint64(7), seqOf(t, s.nextEvent(t)))
	assert.Equal(t, uint64(8), seqOf(t, s.nextEvent(t)))
}

// The window between subscribing and reading the snapshot: whatever is published
// in it is neither lost nor delivered twice nor delivered out of order.
func TestSubscribeSnapshotRace(t *testing.T) {
	tests := []struct {
		name   string
		before func(f *fixture) // inside snapshot, before the store is read
		after  func(f *fixture) // inside snapshot, after
		want   []uint64         // then 7 is published and must come next
	}{
		{
			name:   "published before the snapshot read",
			before: func(f *fixture) { f.publish("b", 6, 0) },
			want:   []uint64{6},
		},
		{
			name:  "published after the snapshot read",
			after: func(f *fixture) { f.publish("b", 6, 0) },
			want:  []uint64{5, 6},
		},
		{
			name: "stored before the read, changefeed delivers it after",
			before: func(f *fixture) {
				f.set(board("b", 6, 0), "b")
			},
			after: func(f *fixture) { f.Hub.Broadcast(board("b", 6, 0)) },
			want:  []uint64{6},
		},
		{
			name: "older event still in flight when the snapshot is newer",
			before: func(f *fixture) {
				f.set(board("b", 6, 0), "b")
				f.Hub.Broadcast(board("b", 5, 0))
			},
			want: []uint64{6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ssehub.Config{})
			f.set(board("b", 5, 0), "b")
			var once sync.Once
			f.beforeSnapshot = func(string) {
				once.Do(func() {
					if tt.before != nil {
						tt.before(f)
					}
				})
			}
			var onceAfter sync.Once
			f.afterSnapshot = func(string) {
				onceAfter.Do(func() {
					if tt.after != nil {
						tt.after(f)
					}
				})
			}
			s := openStream(t, f.url("b"), nil)
			f.publish("b", 7, 0)
			var got []uint64
			for range len(tt.want) + 1 {
				got = append(got, seqOf(t, s.nextEvent(t)))
			}
			assert.Equal(t, append(tt.want, 7), got)
		})
	}
}

func TestSnapshotErrorLeavesStatusToCaller(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	resp, err := http.Get(f.url("missing"))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.ErrorIs(t, f.nextServed(t), errNoBoard)
	assert.Empty(t, f.Hub.Topics(), "a failed subscribe must not leave its topic behind")
}

func TestKeepAlive(t *testing.T) {
	f := newFixture(t, ssehub.Config{KeepAlive: 10 * time.Millisecond})
	f.set(board("b", 1, 0), "b")
	s := openStream(t, f.url("b"), nil)
	require.Equal(t, "retry", s.next(t).Kind)
	require.Equal(t, "event", s.next(t).Kind)
	for range 3 {
		assert.Equal(t, record{Kind: "comment", Comment: "keep-alive"}, s.next(t))
	}
	// Keep-alives are about silence: an event still gets through between them.
	f.publish("b", 2, 0)
	assert.Equal(t, uint64(2), seqOf(t, s.nextEvent(t)))
}

// Deleting a board and shutting down end streams on purpose: each client gets a
// final close event saying why, and a response that ends properly (the chunked
// encoding's zero-length chunk), not a connection cut mid-chunk.
func TestHubEndsStreamsCleanly(t *testing.T) {
	tests := []struct {
		name   string
		end    func(*ssehub.Hub)
		reason string
		served error
	}{
		{"board deleted", func(h *ssehub.Hub) { h.CloseTopic("b") }, `{"reason":"board deleted"}`, ssehub.ErrTopicClosed},
		{"server shutting down", (*ssehub.Hub).Close, `{"reason":"server shutting down"}`, ssehub.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ssehub.Config{})
			f.set(board("b", 1, 0), "b")
			c := openChunked(t, f.Srv.URL, "/boards/b/")
			require.Equal(t, http.StatusOK, c.Status)
			c.readUntil(t, "id: 1\n")
			tt.end(f.Hub)

			body, terminated, err := c.readToEnd(t)
			require.NoError(t, err, "connection cut; body so far: %q", body)
			assert.True(t, terminated, "the response must end with its zero-length chunk")
			recs := parseRecords(t, []byte(body))
			require.Len(t, recs, 3, "%q", body)
			assert.Equal(t, "retry", recs[0].Kind)
			assert.Equal(t, "1", recs[1].ID)
			assert.Equal(t, record{Kind: "event", Type: "close", Data: tt.reason}, recs[2],
				"a close event without an id, so the client's Last-Event-ID stays its last board's")
			assert.ErrorIs(t, f.nextServed(t), tt.served)
		})
	}
}

func TestCloseEndsEveryStream(t *testing.T) {
	t.Parallel() // a second of waiting for the stalled client's write to be cut
	// A write timeout far longer than the test: Close must not wait for it.
	f := newFixture(t, ssehub.Config{Buffer: 64, WriteTimeout: time.Minute, SendBuffer: 4096})
	f.set(board("b", 1, 0), "b")
	f.set(board("c", 1, 0), "c")
	streams := []*rawStream{openStream(t, f.url("b"), nil), openStream(t, f.url("b"), nil), openStream(t, f.url("c"), nil)}
	for _, s := range streams {
		require.Equal(t, "1", s.nextEvent(t).ID)
	}
	// One more that stops reading, with its handler blocked in a write: Close
	// must cut that write short rather than wait for the client.
	dialStalled(t, f.Srv.URL, "/boards/b/")
	f.waitSubscribers(t, "b", 3)
	for seq := uint64(2); seq < 12; seq++ {
		f.publish("b", seq, 16<<10)
	}

	closed := make(chan struct{})
	go func() {
		f.Hub.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(waitFor):
		require.FailNow(t, "Close still waiting after "+waitFor.String()+" (WriteTimeout is a minute)")
	}

	for _, s := range streams {
		assert.Equal(t, `{"reason":"server shutting down"}`, s.closeReason(t))
		assert.Equal(t, io.EOF, s.waitEnd(t), "a clean end of the response")
	}
	for range 4 {
		assert.ErrorIs(t, f.nextServed(t), ssehub.ErrClosed)
	}
	assert.Empty(t, f.Hub.Topics())

	// A stream opened after Close is a 200 that ends at once, so EventSource
	// retries (elsewhere) instead of giving up as it would on an error status.
	late := openStream(t, f.url("b"), nil)
	assert.Equal(t, http.StatusOK, late.Resp.StatusCode)
	assert.Equal(t, "retry", late.next(t).Kind)
	assert.Equal(t, `{"reason":"server shutting down"}`, late.closeReason(t))
	assert.Equal(t, io.EOF, late.waitEnd(t))
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrClosed)
}

func TestCloseTopic(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 1, 0), "b")
	f.set(board("c", 1, 0), "c")
	b1, b2, c := openStream(t, f.url("b"), nil), openStream(t, f.url("b"), nil), openStream(t, f.url("c"), nil)
	for _, s := range []*rawStream{b1, b2, c} {
		require.Equal(t, "1", s.nextEvent(t).ID)
	}
	require.Equal(t, []string{"b", "c"}, f.Hub.Topics())

	f.Hub.CloseTopic("b")
	for _, s := range []*rawStream{b1, b2} {
		assert.Equal(t, `{"reason":"board deleted"}`, s.closeReason(t))
		assert.Equal(t, io.EOF, s.waitEnd(t))
	}
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrTopicClosed)
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrTopicClosed)
	assert.Equal(t, []string{"c"}, f.Hub.Topics())

	f.publish("c", 2, 0)
	assert.Equal(t, "2", c.nextEvent(t).ID, "other topics keep streaming")
	f.Hub.CloseTopic("nobody") // no subscribers: nothing to do
}

func TestTopicReleasedAfterLastSubscriber(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 1, 0), "b")
	f.set(board("c", 1, 0), "c")
	assert.Empty(t, f.Hub.Topics())

	b1, b2, c := openStream(t, f.url("b"), nil), openStream(t, f.url("b"), nil), openStream(t, f.url("c"), nil)
	assert.Equal(t, []string{"b", "c"}, f.Hub.Topics())

	b1.Close()
	assert.NoError(t, f.nextServed(t), "a client hanging up is a normal end")
	assert.Equal(t, []string{"b", "c"}, f.Hub.Topics())
	b2.Close()
	assert.NoError(t, f.nextServed(t))
	assert.Equal(t, []string{"c"}, f.Hub.Topics())
	c.Close()
	assert.NoError(t, f.nextServed(t))
	assert.Empty(t, f.Hub.Topics())

	f.publish("b", 2, 0) // no subscribers: a lookup, no state
	assert.Empty(t, f.Hub.Topics())
}

func TestNoGoroutineLeakAfterSubscribeCycles(t *testing.T) {
	cycles := 1000
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 1, 0), "b")
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)

	before := runtime.NumGoroutine()
	if os.Getenv("SSEHUB_PARK") != "" {
		// A parked stream learns that its client hung up at the next sweep (up
		// to a second), and the first one starts the hub's writers.
		cycles = 5
		before += max(2, runtime.GOMAXPROCS(0)) + 1
	}
	for i := range cycles {
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url("b"), nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err, "cycle %d", i)
		// Read raw bytes up to the end of the first event (retry hint, snapshot).
		buf := make([]byte, 0, 256)
		chunk := make([]byte, 256)
		for !containsEventEnd(buf) {
			n, err := resp.Body.Read(chunk)
			require.NoError(t, err)
			buf = append(buf, chunk[:n]...)
		}
		cancel()
		_ = resp.Body.Close()
		require.NoError(t, f.nextServed(t))
	}
	tr.CloseIdleConnections()
	// Polled here rather than with assert.Eventually, whose condition runs in a
	// goroutine of its own and would be counted.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(waitFor); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%d subscribe/unsubscribe cycles: goroutines %d before, %d after", cycles, before, after)
	assert.LessOrEqual(t, after, before, "goroutines leaked")
	assert.Empty(t, f.Hub.Topics())
}

// containsEventEnd reports whether b holds the retry hint and one full event.
func containsEventEnd(b []byte) bool {
	n := 0
	for i := 1; i < len(b); i++ {
		if b[i] == '\n' && b[i-1] == '\n' {
			n++
		}
	}
	return n >= 2
}

// Two publishers (two web processes' changefeeds) race through the same seqs while
// clients come and go: every client's ids only ever increase, and those still
// connected end on the last board.
func TestConcurrentPublishersNeverGoBackwards(t *testing.T) {
	const last, clients = 300, 8
	f := newFixture(t, ssehub.Config{Buffer: 2 * last})
	f.set(board("b", 0, 0), "b")
	streams := make([]*rawStream, clients)
	for i := range streams {
		streams[i] = openStream(t, f.url("b"), nil)
		require.Equal(t, "0", streams[i].nextEvent(t).ID)
	}

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for seq := uint64(1); seq <= last; seq++ {
				f.publish("b", seq, 0)
			}
		})
	}
	wg.Go(func() { // churn: subscribers joining and leaving mid-stream
		for range 20 {
			s := openStream(t, f.url("b"), nil)
			s.nextEvent(t)
			s.Close()
		}
	})
	wg.Wait()
	for _, s := range streams {
		prev := uint64(0)
		for prev < last {
			seq := seqOf(t, s.nextEvent(t))
			require.Greater(t, seq, prev, "went backwards")
			prev = seq
		}
	}
}
