package pushhub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/pushhub"
)

// history is an in-memory Source: a log per channel, the first `pruned`
// events of each gone.
type history struct {
	mu     sync.Mutex
	logs   map[string][]event.Event
	pruned map[string]int
	states map[string]event.Event
	fail   bool
}

func newHistory() *history {
	return &history{logs: map[string][]event.Event{}, pruned: map[string]int{}, states: map[string]event.Event{}}
}

// add appends an event to the channel's log and returns it.
func (h *history) add(channel string) event.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq := uint64(len(h.logs[channel]) + 1)
	ev := event.Event{Topic: channel, Seq: seq, Data: []byte(fmt.Sprintf(`{"n":%d}`, seq))}
	h.logs[channel] = append(h.logs[channel], ev)
	return ev
}

func (h *history) After(_ context.Context, channel string, seq uint64, limit int) ([]event.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		return nil, errors.New("database down")
	}
	var out []event.Event
	for i, ev := range h.logs[channel] {
		if i >= h.pruned[channel] && ev.Seq > seq && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (h *history) LastSeq(_ context.Context, channel string) (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return uint64(len(h.logs[channel])), nil
}

func (h *history) State(_ context.Context, channel string) (event.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.states[channel], nil
}

func connect(t *testing.T, hub *pushhub.Hub) *pushhub.Conn {
	t.Helper()
	c, err := hub.Connect("u1", "tok", time.Now().Add(time.Hour))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(nil) })
	return c
}

func next(t *testing.T, c *pushhub.Conn) *pushhub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Next(ctx)
	require.NoError(t, err)
	return m
}

func seqs(t *testing.T, c *pushhub.Conn, n int) []uint64 {
	t.Helper()
	var out []uint64
	for len(out) < n {
		m := next(t, c)
		require.Equal(t, pushhub.TypeEvent, m.Type, "%s", m.JSON())
		out = append(out, m.Seq)
	}
	return out
}

func upTo(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

func TestSubscribeWithSinceReplaysThenGoesLive(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h, Batch: 3})
	for range 10 {
		h.add("news")
	}
	c := connect(t, hub)
	since := uint64(0)
	require.NoError(t, c.Subscribe(context.Background(), "news", pushhub.Log, &since))
	assert.Equal(t, pushhub.TypeSubscribed, next(t, c).Type)
	// Events published while the subscription is catching up are neither
	// lost nor sent twice.
	for range 5 {
		hub.Publish(h.add("news"))
	}
	assert.Equal(t, upTo(15), seqs(t, c, 15))
	hub.Publish(h.add("news"))
	assert.Equal(t, []uint64{16}, seqs(t, c, 1))
	hub.Publish(event.Event{Topic: "news", Seq: 16}) // a duplicate
	hub.Publish(h.add("news"))
	assert.Equal(t, []uint64{17}, seqs(t, c, 1))
}

func TestAGapIsFilledFromHistory(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h})
	c := connect(t, hub)
	require.NoError(t, c.Subscribe(context.Background(), "news", pushhub.Log, nil))
	assert.Equal(t, pushhub.TypeSubscribed, next(t, c).Type)
	require.Eventually(t, func() bool { return len(hub.Channels(pushhub.Log)) == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the subscription start
	h.add("news")
	h.add("news") // 1 and 2 never published here (a feed was down)
	hub.Publish(h.add("news"))
	assert.Equal(t, upTo(3), seqs(t, c, 3))
	// A resync says the channel moved on: the subscription catches up.
	h.add("news")
	hub.Observe("news", 4)
	assert.Equal(t, []uint64{4}, seqs(t, c, 1))
}

func TestMissedHistoryIsReported(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h})
	for range 10 {
		h.add("news")
	}
	h.pruned["news"] = 6
	c := connect(t, hub)
	since := uint64(2)
	require.NoError(t, c.Subscribe(context.Background(), "news", pushhub.Log, &since))
	assert.Equal(t, pushhub.TypeSubscribed, next(t, c).Type)
	m := next(t, c)
	assert.Equal(t, pushhub.TypeError, m.Type)
	assert.True(t, m.Reset)
	assert.JSONEq(t, `{"type":"error","channel":"news","reset":true,"error":"history: events 3 to 6 of channel news are no longer retained"}`, string(m.JSON()))
	assert.Equal(t, []uint64{7, 8, 9, 10}, seqs(t, c, 4))
}

func TestStateChannelStartsWithTheStateAndNeverGoesBack(t *testing.T) {
	h := newHistory()
	h.states["board-1"] = event.Event{Topic: "board-1", Seq: 5, Data: []byte(`{"v":5}`)}
	hub := pushhub.New(pushhub.Config{Source: h})
	c := connect(t, hub)
	require.NoError(t, c.Subscribe(context.Background(), "board-1", pushhub.State, nil))
	assert.Equal(t, pushhub.TypeSubscribed, next(t, c).Type)
	m := next(t, c)
	assert.JSONEq(t, `{"type":"event","channel":"board-1","id":5,"data":{"v":5}}`, string(m.JSON()))
	hub.Publish(event.Event{Topic: "board-1", Seq: 4, Data: []byte(`{}`)})
	hub.Publish(event.Event{Topic: "board-1", Seq: 7, Data: []byte(`{"v":7}`)})
	assert.Equal(t, uint64(7), next(t, c).Seq, "a gap is fine: each event is whole")
}

func TestSlowConnectionIsDropped(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h, Buffer: 4})
	c := connect(t, hub)
	require.NoError(t, c.Subscribe(context.Background(), "news", pushhub.Log, nil))
	require.Eventually(t, func() bool {
		// Started: a published event goes to the queue.
		return c.Queued() > 0
	}, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	for range 10 {
		hub.Publish(h.add("news"))
	}
	select {
	case <-c.Done():
		assert.ErrorIs(t, c.Err(), pushhub.ErrSlow)
	case <-time.After(2 * time.Second):
		t.Fatal("the slow connection was not dropped")
	}
}

func TestRevocationsAndLimits(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h, MaxSubscriptions: 2})
	c := connect(t, hub)
	require.NoError(t, c.Subscribe(context.Background(), "a", pushhub.Log, nil))
	require.NoError(t, c.Subscribe(context.Background(), "b", pushhub.Log, nil))
	assert.ErrorIs(t, c.Subscribe(context.Background(), "c", pushhub.Log, nil), pushhub.ErrTooManySubscriptions)
	require.NoError(t, c.Subscribe(context.Background(), "b", pushhub.Log, nil), "again is not one more")
	hub.Revoke("a", "u1", "no longer a member of channel a")
	assert.False(t, c.Subscribed("a"))
	hub.RevokeToken("tok")
	<-c.Done()
	assert.ErrorIs(t, c.Err(), pushhub.ErrRevoked)

	c2, err := hub.Connect("u2", "t2", time.Now().Add(50*time.Millisecond))
	require.NoError(t, err)
	<-c2.Done()
	assert.ErrorIs(t, c2.Err(), pushhub.ErrExpired)

	hub.Close()
	_, err = hub.Connect("u3", "t3", time.Now().Add(time.Hour))
	assert.ErrorIs(t, err, pushhub.ErrClosed)
	var v map[string]any
	require.NoError(t, json.Unmarshal(pushhub.Notice("", "x").JSON(), &v))
}

// A transport that writes from shared goroutines is told of every queued
// message and of the end, and an idle connection holds no goroutine: the
// catch-up goroutine ends once history is read.
func TestNotifyAndNoGoroutineWhileIdle(t *testing.T) {
	h := newHistory()
	hub := pushhub.New(pushhub.Config{Source: h})
	for range 3 {
		h.add("news")
	}
	before := runtime.NumGoroutine()
	const conns = 50
	var notified atomic.Int32
	cs := make([]*pushhub.Conn, conns)
	for i := range cs {
		cs[i] = connect(t, hub)
		cs[i].Notify(func() { notified.Add(1) })
		since := uint64(0)
		require.NoError(t, cs[i].Subscribe(context.Background(), "news", pushhub.Log, &since))
	}
	for _, c := range cs {
		assert.Equal(t, pushhub.TypeSubscribed, next(t, c).Type)
		var got []uint64
		require.Eventually(t, func() bool {
			c.Drain(func(m *pushhub.Message) { got = append(got, m.Seq) })
			return len(got) == 3
		}, 2*time.Second, time.Millisecond)
		assert.Equal(t, upTo(3), got)
	}
	// Once at Notify, then once a message (told just after it is queued).
	assert.Eventually(t, func() bool { return notified.Load() == conns*(1+1+3) }, 2*time.Second, 5*time.Millisecond)
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 2*time.Second, 5*time.Millisecond,
		"goroutines: %d before %d idle connections, %d after", before, conns, runtime.NumGoroutine())

	n := notified.Load()
	cs[0].Close(pushhub.ErrRevoked)
	assert.Equal(t, n+1, notified.Load(), "told of the end")
}

func TestMessageIsFramedOnce(t *testing.T) {
	m := &pushhub.Message{Type: pushhub.TypePong}
	calls := 0
	frame := func(b []byte) []byte { calls++; return append([]byte("<"), append(b, '>')...) }
	assert.Equal(t, `<{"type":"pong"}>`, string(m.Frame(frame)))
	assert.Equal(t, `<{"type":"pong"}>`, string(m.Frame(frame)))
	assert.Equal(t, 1, calls)
}
