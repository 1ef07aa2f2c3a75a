package minirethink

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// These tests drive changefeeds through the real driver with a stub engine,
// so the protocol's side of feeds (CONTINUE, STOP, aborts, outages) is held
// to the driver independently of the engine's terms.

// feedEngine answers the term "feed" with a new testFeed and anything else
// with the reql engine's "unsupported" error.
type feedEngine struct {
	feeds chan *testFeed
}

func (e *feedEngine) Run(ctx context.Context, q reql.Query) (reql.Result, error) {
	if q.Term == "feed" {
		f := &testFeed{closed: make(chan struct{}), wake: make(chan struct{})}
		e.feeds <- f
		return reql.Result{Kind: reql.Stream, Feed: f}, nil
	}
	return reql.Result{}, reql.ErrUnsupported("this term")
}

type testFeed struct {
	mu      sync.Mutex
	buf     []any
	err     error
	closed  chan struct{}
	isClose bool
	wake    chan struct{}
}

func (f *testFeed) Notes() []ql2.Response_ResponseNote {
	return []ql2.Response_ResponseNote{ql2.Response_SEQUENCE_FEED}
}

func (f *testFeed) send(v any, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v != nil {
		f.buf = append(f.buf, v)
	}
	f.err = err
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *testFeed) Next(ctx context.Context, wait bool) ([]any, error) {
	for {
		f.mu.Lock()
		switch {
		case f.isClose:
			f.mu.Unlock()
			return nil, reql.ErrFeedClosed
		case len(f.buf) > 0:
			out := f.buf
			f.buf = nil
			f.mu.Unlock()
			return out, nil
		case f.err != nil || !wait:
			err := f.err
			f.mu.Unlock()
			return nil, err
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *testFeed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.isClose {
		f.isClose = true
		close(f.closed)
	}
}

func runFeedServer(t *testing.T) (*Server, *feedEngine, *r.Session) {
	t.Helper()
	eng := &feedEngine{feeds: make(chan *testFeed, 4)}
	srv := RunT(t, func(o *options) { o.engine = eng })
	s := target{Srv: srv, Addr: srv.Addr()}.Connect(t, func(o *r.ConnectOpts) { o.InitialCap, o.MaxOpen = 1, 1 })
	return srv, eng, s
}

func openFeed(t *testing.T, eng *feedEngine, s *r.Session) (*r.Cursor, *testFeed) {
	t.Helper()
	cur, err := r.Expr("feed").Run(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cur.Close() })
	select {
	case f := <-eng.feeds:
		return cur, f
	case <-time.After(5 * time.Second):
		t.Fatal("no feed opened")
		return nil, nil
	}
}

func awaitDone(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

// nextAsync calls cur.Next in the background, so the driver has a CONTINUE
// outstanding; the result arrives on the returned channel.
func nextAsync(cur *r.Cursor) <-chan map[string]any {
	out := make(chan map[string]any, 1)
	go func() {
		var v map[string]any
		if cur.Next(&v) {
			out <- v
		}
		close(out)
	}()
	return out
}

func TestFeedThroughDriver(t *testing.T) {
	_, eng, s := runFeedServer(t)
	cur, f := openFeed(t, eng, s)

	next := nextAsync(cur)
	f.send(map[string]any{"new_val": map[string]any{"id": "a"}, "old_val": nil}, nil)
	assert.Equal(t, map[string]any{"new_val": map[string]any{"id": "a"}, "old_val": nil}, <-next)

	// Close with a CONTINUE outstanding: STOP, and the server closes the feed.
	next = nextAsync(cur)
	require.NoError(t, cur.Close())
	awaitDone(t, f.closed, "feed Close after the cursor's STOP")
	_, ok := <-next
	assert.False(t, ok)

	// The connection is still good for other queries.
	_, err := s.Server()
	require.NoError(t, err)
}

func TestFeedAbortedThroughDriver(t *testing.T) {
	_, eng, s := runFeedServer(t)
	cur, f := openFeed(t, eng, s)
	next := nextAsync(cur)
	abort := reql.ErrOpFailed("Changefeed aborted (unavailable).")
	abort.Backtrace = []any{}
	f.send(nil, abort)
	_, ok := <-next
	assert.False(t, ok)
	var opFailed r.RQLOpFailedError
	require.ErrorAs(t, cur.Err(), &opFailed)
	assert.Contains(t, cur.Err().Error(), "rethinkdb: Changefeed aborted (unavailable).")
	awaitDone(t, f.closed, "feed Close after its abort")
}

func TestRestartEndsFeeds(t *testing.T) {
	srv, eng, s := runFeedServer(t)
	cur, f := openFeed(t, eng, s)
	next := nextAsync(cur)

	require.NoError(t, srv.Restart())

	_, ok := <-next
	assert.False(t, ok, "a feed does not survive an outage")
	assert.True(t, isConnectionError(cur.Err()), "%T: %v", cur.Err(), cur.Err())
	awaitDone(t, f.closed, "server-side feed Close on restart")

	// A new feed can be opened once the driver has reconnected.
	var err error
	for range 3 {
		var c2 *r.Cursor
		if c2, err = r.Expr("feed").Run(s); err == nil {
			_ = c2.Close()
			break
		}
	}
	require.NoError(t, err)
}
