package realtime_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/pushpintest"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// GRIP mode end to end: a real Pushpin in front of web, the listener
// publishing to Pushpin's control API, clients connected to Pushpin.

func startGrip(t *testing.T) (*testapp.App, *pushpintest.Pushpin) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pp := pushpintest.Start(t, l.Addr().String())
	a := live(t, testapp.Options{GripURL: pp.GripURL(), HTTPListener: l})
	return a, pp
}

// published waits until the listener has materialized the board's top with
// n players, so the stream's first event is predictable.
func published(t *testing.T, a *testapp.App, board string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		b, err := a.Store.Boards.Get(context.Background(), board)
		return err == nil && len(b.Top) == n
	}, 10*time.Second, 10*time.Millisecond)
}

func TestGripStreamThroughPushpin(t *testing.T) {
	a, pp := startGrip(t)
	b, ids := a.Board(t, "Cup", "Ann", "Bob")
	published(t, a, b, 2)

	s := testapp.OpenStream(t, http.DefaultClient, pp.ClientURL+"/boards/"+b+"/")
	for _, h := range []string{"Grip-Hold", "Grip-Channel", "Grip-Link", "Grip-Keep-Alive"} {
		assert.Empty(t, s.Response.Header.Get(h), "Pushpin strips %s", h)
	}
	first := decodeBoard(t, s.Next(t, 10*time.Second))
	assert.Len(t, first.Players, 2, "the first event is the current board")
	assert.Empty(t, a.Hub.Topics(), "Pushpin holds the stream, not web")

	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", `{"amount": 3}`).Status)
	until(t, s, scoreIs("Bob", 3, 1))
	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", `{"amount": 4}`).Status)
	until(t, s, scoreIs("Ann", 4, 1))
}

// Only requests that really came through the proxy are held: a client
// talking to web directly gets the built-in stream, whatever it sends.
func TestGripHoldNeedsAValidSignature(t *testing.T) {
	a, _ := startGrip(t)
	b, _ := a.Board(t, "Cup", "Ann")
	published(t, a, b, 1)
	for _, sig := range []string{"", "forged.jwt.value"} {
		s := testapp.OpenStream(t, a.Server.Client(), a.URL+"/boards/"+b+"/", "Grip-Sig", sig)
		assert.Empty(t, s.Response.Header.Get("Grip-Hold"))
		assert.Len(t, decodeBoard(t, s.Next(t, 10*time.Second)).Players, 1)
		s.Close()
	}
}

func TestGrip200ConcurrentStreams(t *testing.T) {
	a, pp := startGrip(t)
	b, ids := a.Board(t, "Cup", "Ann", "Bob")
	published(t, a, b, 2)

	const n = 200
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	streams := make([]*testapp.Stream, n)
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			streams[i] = testapp.OpenStream(t, client, pp.ClientURL+"/boards/"+b+"/")
			streams[i].Next(t, 20*time.Second)
		})
	}
	wg.Wait()

	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", `{"amount": 9}`).Status)
	for _, s := range streams {
		wg.Go(func() { until(t, s, scoreIs("Bob", 9, 1)) })
	}
	wg.Wait()
}
