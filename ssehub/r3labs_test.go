package ssehub_test

// Measurements of github.com/r3labs/sse/v2 on the paths our requirements care
// about. They assert the library's current behaviour, so a fixed release makes
// them fail: that is the moment to revisit the decision in doc.go.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/cenkalti/backoff.v1"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

// r3labsServer serves sse.Server s on a real listener; subscribed receives +1/-1
// as streams come and go, so tests can wait for them.
func r3labsServer(t *testing.T, autoReplay bool, opts ...fixtureOption) (*sse.Server, *httptest.Server, chan int) {
	t.Helper()
	subscribed := make(chan int, 64)
	s := sse.NewWithCallback(
		func(string, *sse.Subscriber) { subscribed <- 1 },
		func(string, *sse.Subscriber) { subscribed <- -1 },
	)
	s.AutoReplay = autoReplay
	s.CreateStream("b")
	srv := httptest.NewUnstartedServer(s)
	for _, o := range opts {
		o(srv)
	}
	srv.Start()
	return s, srv, subscribed
}

func waitCount(t *testing.T, ch chan int, want int) {
	t.Helper()
	n := 0
	for n != want {
		select {
		case d := <-ch:
			n += d
		case <-time.After(waitFor):
			require.FailNow(t, fmt.Sprintf("want %d subscribers, have %d", want, n))
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

func TestR3labsStalledSubscriberStallsFanout(t *testing.T) {
	s, srv, subscribed := r3labsServer(t, false, smallSendBuffers)
	healthy := openStream(t, srv.URL+"?stream=b", nil)
	waitCount(t, subscribed, 1)
	stalled := dialStalled(t, srv.URL, "/?stream=b")
	waitCount(t, subscribed, 1)

	const stall = 2 * time.Second
	res := lockstep(t, healthy, fanoutEvents, stall, func(seq uint64) {
		s.Publish("b", r3labsEvent(seq, fanoutEventSize))
	})
	// TryPublish only drops once the stream's own 1024-slot queue is full, and then
	// drops for everybody, the healthy client included.
	tried := 0
	for s.TryPublish("b", r3labsEvent(uint64(fanoutEvents+1+tried), 0)) {
		tried++
	}
	t.Logf("r3labs: healthy client got %d/%d events of %d KiB, then nothing for %v (stalled behind a client that does not read); TryPublish accepted %d more, then dropped",
		res.received, fanoutEvents, fanoutEventSize>>10, stall, tried)
	assert.Less(t, res.received, fanoutEvents, "r3labs no longer stalls on a slow client: revisit doc.go")

	// Only the stalled client hanging up lets the healthy one continue.
	start := time.Now()
	require.NoError(t, stalled.Close())
	ev := healthy.nextEvent(t)
	t.Logf("r3labs: the healthy client resumed %v after the stalled one hung up (event id %s)", time.Since(start).Round(time.Millisecond), ev.ID)
	assert.Equal(t, strconv.Itoa(res.received+1), ev.ID)

	healthy.Close()
	waitCount(t, subscribed, -2)
	srv.Close()
	s.Close()
}

func TestR3labsAutoReplayEventLogGrows(t *testing.T) {
	const n, size = 10000, 1 << 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	s, srv, subscribed := r3labsServer(t, true)
	for seq := uint64(1000); seq < 1000+n; seq++ {
		s.Publish("b", r3labsEvent(seq, size))
	}
	// A client joining now is sent the whole log: that both proves the log holds
	// every event and waits, race-free, until the stream goroutine added them all.
	late := openStream(t, srv.URL+"?stream=b", nil)
	first := late.nextEvent(t)
	for range n - 1 {
		late.nextEvent(t)
	}
	late.Close()
	waitCount(t, subscribed, 0)

	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("r3labs AutoReplay: %d published events of %d B => heap +%.1f MiB (%d B/event) kept, all replayed to a new client; first replayed id %q, published as %q",
		n, size, float64(grown)/(1<<20), grown/n, first.ID, "1000")
	assert.Greater(t, grown, int64(n*size), "the log should keep every event")
	assert.Equal(t, "0", first.ID, "AutoReplay rewrites ids to log positions")

	srv.Close()
	s.Close()
}

func TestR3labsLastEventIDWithAutoReplay(t *testing.T) {
	tests := []struct {
		name       string
		lastID     string
		wantStatus int
		wantFirst  string // first replayed id
	}{
		{name: "non-integer is rejected", lastID: "abc", wantStatus: http.StatusBadRequest},
		{name: "resume re-sends the event the client had", lastID: "5", wantStatus: http.StatusOK, wantFirst: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv, subscribed := r3labsServer(t, true)
			for seq := uint64(0); seq < 10; seq++ {
				s.Publish("b", r3labsEvent(seq, 0))
			}
			// Make sure the stream goroutine has logged them all before resuming.
			warm := openStream(t, srv.URL+"?stream=b", nil)
			for range 10 {
				warm.nextEvent(t)
			}
			warm.Close()
			waitCount(t, subscribed, 0)

			h := http.Header{}
			h.Set("Last-Event-ID", tt.lastID)
			s2 := openStream(t, srv.URL+"?stream=b", h)
			assert.Equal(t, tt.wantStatus, s2.Resp.StatusCode)
			if tt.wantFirst != "" {
				assert.Equal(t, tt.wantFirst, s2.nextEvent(t).ID)
				s2.Close()
				waitCount(t, subscribed, 0)
			}
			srv.Close()
			s.Close()
		})
	}
}

// RemoveStream (and Server.Close) while clients are connected leaves one goroutine
// per subscriber blocked for ever in Subscriber.close: the stream goroutine that
// would receive its deregistration has exited.
func TestR3labsRemoveStreamStrandsSubscribers(t *testing.T) {
	const subs = 10
	s, srv, subscribed := r3labsServer(t, false)
	streams := make([]*rawStream, subs)
	for i := range streams {
		streams[i] = openStream(t, srv.URL+"?stream=b", nil)
	}
	waitCount(t, subscribed, subs)
	s.Publish("b", r3labsEvent(1, 0))
	for _, st := range streams {
		st.nextEvent(t)
	}
	stuckIn := func() int {
		buf := make([]byte, 1<<20)
		return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("sse/v2.(*Subscriber).close"))
	}
	// Earlier runs of this test (-count) leave theirs behind.
	already := stuckIn()
	s.RemoveStream("b")
	for _, st := range streams {
		st.waitEnd(t)
	}

	stuck := 0
	for deadline := time.Now().Add(time.Second); stuck != subs && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		stuck = stuckIn() - already
	}
	t.Logf("r3labs RemoveStream with %d connected subscribers: %d goroutines stuck in Subscriber.close", subs, stuck)
	assert.Equal(t, subs, stuck)
	srv.Close()
}

// r3labs' client is an independent SSE implementation: it must read our streams,
// see the close event that ends a closed topic's stream, and resume with
// Last-Event-ID without a duplicate board.
func TestR3labsClientResumesFromHub(t *testing.T) {
	f := newFixture(t, ssehub.Config{})
	f.set(board("b", 5, 0), "b")

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := sse.NewClient(f.url("b"))
	c.ReconnectStrategy = backoff.WithContext(backoff.NewConstantBackOff(10*time.Millisecond), ctx)
	events := make(chan *sse.Event, 16)
	subscribe := func() chan error {
		done := make(chan error, 1)
		go func() {
			done <- c.SubscribeRawWithContext(ctx, func(m *sse.Event) {
				if len(m.Data) > 0 { // the client also hands over retry-only records
					events <- m
				}
			})
		}()
		return done
	}
	next := func() *sse.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(waitFor):
			require.FailNow(t, "r3labs client got no event")
			return nil
		}
	}

	done := subscribe()
	ev := next()
	assert.Equal(t, "5", string(ev.ID))
	assert.Equal(t, "update", string(ev.Event))
	assert.Equal(t, string(board("b", 5, 0).Data), string(ev.Data))
	f.publish("b", 6, 0)
	assert.Equal(t, "6", string(next().ID))

	f.Hub.CloseTopic("b")
	ev = next()
	assert.Equal(t, "close", string(ev.Event))
	assert.JSONEq(t, `{"reason":"board deleted"}`, string(ev.Data))
	require.ErrorIs(t, f.nextServed(t), ssehub.ErrTopicClosed)
	// To this client a response that ended properly is a finished subscription
	// (a browser's EventSource reconnects by itself). Subscribing again sends the
	// Last-Event-ID it kept, 6, the board's seq: the next thing it sees is 7, not
	// 6 again.
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitFor):
		require.FailNow(t, "r3labs client still subscribed after the stream ended")
	}
	done = subscribe()
	f.waitSubscribers(t, "b", 1)
	f.publish("b", 7, 0)
	assert.Equal(t, "7", string(next().ID))
	cancel()
	<-done
}
