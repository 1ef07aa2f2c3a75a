package ssehub_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

// The fan-out measurement shared by ssehub and r3labs/sse (r3labs_test.go): one
// client that never reads, on sockets with small kernel buffers, and one healthy
// client. Events 1..n of fanoutEventSize bytes are published in lock step: each
// only once the healthy client has the previous one, so a publisher that merely
// outruns a healthy reader cannot be mistaken for a stall.
const (
	fanoutEvents    = 200
	fanoutEventSize = 16 << 10 // 16 KiB: a few fill the stalled client's socket buffers
)

type lockstepResult struct {
	received int           // events the healthy client got before the first stall
	elapsed  time.Duration // time to receive them
}

func lockstep(t *testing.T, healthy *rawStream, n int, stall time.Duration, publish func(seq uint64)) lockstepResult {
	t.Helper()
	start := time.Now()
	for seq := uint64(1); seq <= uint64(n); seq++ {
		publish(seq)
		ev, ok := healthy.tryNextEvent(stall)
		if !ok {
			return lockstepResult{received: int(seq) - 1, elapsed: time.Since(start)}
		}
		require.Equal(t, strconv.FormatUint(seq, 10), ev.ID)
	}
	return lockstepResult{received: n, elapsed: time.Since(start)}
}

func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	const buffer = 4
	f := newFixture(t, ssehub.Config{Buffer: buffer}, smallSendBuffers)
	f.set(board("b", 0, 0), "b")
	healthy := openStream(t, f.url("b"), nil)
	require.Equal(t, "0", healthy.nextEvent(t).ID)
	stalled := dialStalled(t, f.Srv.URL, "/boards/b/")
	f.waitSubscribers(t, "b", 2)

	droppedAt := uint64(0)
	res := lockstep(t, healthy, fanoutEvents, waitFor, func(seq uint64) {
		f.publish("b", seq, fanoutEventSize)
		if droppedAt == 0 && f.Hub.Subscribers("b") == 1 {
			droppedAt = seq
		}
	})
	t.Logf("ssehub: healthy client got %d/%d events of %d KiB in %v (%v per event); the stalled one was gone by event %d (Buffer %d)",
		res.received, fanoutEvents, fanoutEventSize>>10, res.elapsed.Round(time.Millisecond),
		(res.elapsed / time.Duration(max(res.received, 1))).Round(time.Microsecond), droppedAt, buffer)
	assert.Equal(t, fanoutEvents, res.received, "the healthy client must not wait for the stalled one")
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrSlowSubscriber)
	assert.Equal(t, 1, f.Hub.Subscribers("b"))

	// The server hung up on the stalled client: once it reads what the kernel
	// buffered, it sees the end of the connection (and would reconnect and resume).
	require.NoError(t, stalled.SetReadDeadline(time.Now().Add(waitFor)))
	_, err := io.Copy(io.Discard, stalled)
	assert.NoError(t, err, "want EOF, not a read timeout")
}

// A write that cannot complete within WriteTimeout drops the subscriber even when
// no event ever overflows its buffer: on a quiet board only keep-alives are sent.
func TestWriteTimeoutDropsStalledSubscriberOnQuietBoard(t *testing.T) {
	f := newFixture(t, ssehub.Config{Buffer: 1000, WriteTimeout: 50 * time.Millisecond}, smallSendBuffers)
	f.set(board("b", 1, fanoutEventSize), "b")
	dialStalled(t, f.Srv.URL, "/boards/b/")
	f.waitSubscribers(t, "b", 1)
	// Enough to block a write; far fewer than the buffer holds.
	for seq := uint64(2); seq < 8; seq++ {
		f.publish("b", seq, fanoutEventSize)
	}
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrSlowSubscriber)
	assert.Empty(t, f.Hub.Topics())
}
