package ssehub_test

import (
	"context"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/cenkalti/backoff.v1"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

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
