package e2e_test

import (
	"context"
	"errors"
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
	a := testapp.Start(t, testapp.Options{GripURL: pp.GripURL(), HTTPListener: l})
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
	first := testapp.DecodeBoard(t, s.Next(t, 10*time.Second))
	assert.Len(t, first.Players, 2, "the first event is the current board")
	assert.Empty(t, a.Hub.Topics(), "Pushpin holds the stream, not web")

	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", `{"amount": 3}`).Status)
	testapp.Until(t, s, testapp.ScoreIs("Bob", 3, 1))
	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", `{"amount": 4}`).Status)
	testapp.Until(t, s, testapp.ScoreIs("Ann", 4, 1))
}

// A client whose last id the server cannot place (ahead of the board after
// a database restore, or garbage) gets the board at once through the proxy
// too; only the board's own seq means "up to date".
func TestGripResumeFromAnUnknownID(t *testing.T) {
	a, pp := startGrip(t)
	b, _ := a.Board(t, "Cup", "Ann")
	published(t, a, b, 1)
	for _, id := range []string{"999999", "18446744073709551615", "abc", "-1"} {
		t.Run(id, func(t *testing.T) {
			s := testapp.OpenStream(t, http.DefaultClient, pp.ClientURL+"/boards/"+b+"/", "Last-Event-ID", id)
			assert.Len(t, testapp.DecodeBoard(t, s.Next(t, 10*time.Second)).Players, 1)
			s.Close()
		})
	}
}

// Only requests that really came through the proxy are held: a client
// talking to web directly gets the built-in stream, whatever it sends.
func TestGripHoldNeedsAValidSignature(t *testing.T) {
	a, _ := startGrip(t)
	b, _ := a.Board(t, "Cup", "Ann")
	published(t, a, b, 1)
	for _, sig := range []string{"", "forged.jwt.value"} {
		s := testapp.OpenStream(t, a.Client(), a.URL+"/boards/"+b+"/", "Grip-Sig", sig)
		assert.Empty(t, s.Response.Header.Get("Grip-Hold"))
		assert.Len(t, testapp.DecodeBoard(t, s.Next(t, 10*time.Second)).Players, 1)
		s.Close()
	}
}

func TestGrip200ConcurrentStreams(t *testing.T) {
	a, pp := startGrip(t)
	b, ids := a.Board(t, "Cup", "Ann", "Bob")
	published(t, a, b, 2)

	// Streams are opened and read in goroutines, which must not fail the
	// test themselves: each reports an error, checked here. At most 50 are
	// opening at once: Pushpin answers 502 at once to a new proxied request
	// when 100 are already queued for its HTTP client (OUT_HWM in
	// zhttpmanager.cpp, not configurable), which a burst of 200 can reach.
	// All 200 are held together all the same.
	const n = 200
	opening := make(chan struct{}, 50)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	streams := make([]*testapp.Stream, n)
	errs := make([]error, n)
	t.Cleanup(func() {
		for _, s := range streams {
			if s != nil {
				s.Close()
			}
		}
	})
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			opening <- struct{}{}
			s, err := testapp.Dial(client, pp.ClientURL+"/boards/"+b+"/")
			if err == nil {
				streams[i] = s
				_, err = s.NextEvent(20 * time.Second)
			}
			<-opening
			errs[i] = err
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "every stream opens through Pushpin and gets the board first")

	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", `{"amount": 9}`).Status)
	for i, s := range streams {
		wg.Go(func() { errs[i] = testapp.AwaitBoard(s, testapp.ScoreIs("Bob", 9, 1)) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "every stream gets the update")
}
