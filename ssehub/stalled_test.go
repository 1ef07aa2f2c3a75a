package ssehub_test

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

// A client that stops reading is dropped within seconds whatever the size of the
// events, because Serve shrinks its connection's kernel send buffer: left to
// loopback autotuning, about 3 MB is buffered first, which is minutes of small
// events. Clients that read, including one that pauses for a moment, are not
// dropped, and get every event. The events come at a steady pace, as from a busy
// board, so it is the stall that is measured rather than a publisher outrunning
// the readers.
func TestStalledSubscriberDroppedWithinSeconds(t *testing.T) {
	// Seconds of waiting on timers, not of work: overlap with other such tests.
	t.Parallel()
	const dropWithin = 10 * time.Second // generous: WriteTimeout is 5s
	tests := []struct {
		name  string
		size  int
		every time.Duration
	}{
		{"1 KiB events, 100 a second", 1 << 10, 10 * time.Millisecond},
		{"64 KiB events, 4 a second", 64 << 10, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, ssehub.Config{}) // the defaults, as served
			f.set(board("b", 0, tt.size), "b")
			healthy := collectSeqs(t, openStream(t, f.url("b"), nil))
			healthy.waitFor(t, 0)
			// Busy for a second (a GC pause, a congested link), then reads on.
			pausing := collectSeqs(t, openStreamAfter(t, f.Srv.URL, "/boards/b/", time.Second))
			stalled := dialStalled(t, f.Srv.URL, "/boards/b/")
			f.waitSubscribers(t, "b", 3)

			start := time.Now()
			tick := time.NewTicker(tt.every)
			defer tick.Stop()
			giveUp := time.After(dropWithin)
			seq := uint64(0)
		publishing:
			for {
				select {
				case err := <-f.served:
					require.ErrorIs(t, err, ssehub.ErrSlowSubscriber)
					break publishing
				case <-giveUp:
					require.FailNow(t, "stalled client still subscribed after "+dropWithin.String(),
						"%d events of %d B published", seq, tt.size)
				case <-tick.C:
					seq++
					f.publish("b", seq, tt.size)
				}
			}
			t.Logf("stalled client dropped %v after it connected, after %d events of %d B",
				time.Since(start).Round(10*time.Millisecond), seq, tt.size)
			assert.Equal(t, 2, f.Hub.Subscribers("b"), "only the stalled client is dropped")
			for range 3 {
				seq++
				f.publish("b", seq, tt.size)
			}
			for _, c := range []*seqCollector{healthy, pausing} {
				assert.Equal(t, seqRange(c.waitFor(t, seq)[0], seq), c.waitFor(t, seq), "every event, in order")
			}

			// The server hung up on the stalled client: once it reads what the
			// kernel buffered, it sees the end of the connection (and would
			// reconnect and resume).
			require.NoError(t, stalled.SetReadDeadline(time.Now().Add(waitFor)))
			_, err := io.Copy(io.Discard, stalled)
			assert.NoError(t, err, "want EOF, not a read timeout")
		})
	}
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// A write that cannot complete within WriteTimeout drops the subscriber even when
// no event ever overflows its buffer: on a quiet board only keep-alives are sent.
func TestWriteTimeoutDropsStalledSubscriberOnQuietBoard(t *testing.T) {
	f := newFixture(t, ssehub.Config{Buffer: 1000, WriteTimeout: 50 * time.Millisecond, SendBuffer: 4096})
	const size = 16 << 10 // a few fill the send and receive buffers
	f.set(board("b", 1, size), "b")
	dialStalled(t, f.Srv.URL, "/boards/b/")
	f.waitSubscribers(t, "b", 1)
	// Enough to block a write; far fewer than the buffer holds.
	for seq := uint64(2); seq < 8; seq++ {
		f.publish("b", seq, size)
	}
	assert.ErrorIs(t, f.nextServed(t), ssehub.ErrSlowSubscriber)
	assert.Empty(t, f.Hub.Topics())
}
