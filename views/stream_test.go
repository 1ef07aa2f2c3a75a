package views_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// Streams end to end: the embedded database over TCP, the listener, the
// relay, the API on a real HTTP server, and SSE clients reading the bytes.

func live(t *testing.T, o testapp.Options) *testapp.App {
	t.Helper()
	return testapp.Start(t, o)
}

func streamURL(a *testapp.App, board string) string { return a.URL + "/boards/" + board + "/" }

func TestScoreAddReachesSubscriber(t *testing.T) {
	a := live(t, testapp.Options{})
	b, ids := a.Board(t, "Cup", "Ann", "Bob")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, s, testapp.HasPlayers(2))

	res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", `{"amount": 5}`)
	require.Equal(t, http.StatusOK, res.Status)
	ev, _ := testapp.Until(t, s, testapp.ScoreIs("Bob", 5, 1))
	got := testapp.DecodeBoard(t, ev)
	assert.Equal(t, b, got.ID)
	assert.Equal(t, "Cup", got.Name)
	require.Len(t, got.Players, 2)
	assert.Equal(t, "Ann", got.Players[1].Name)
	assert.Equal(t, 2, got.Players[1].Rank)
}

func TestStreamOptInByQueryAndAccept(t *testing.T) {
	a := live(t, testapp.Options{})
	b, _ := a.Board(t, "Cup", "Ann")
	for _, tc := range []struct{ name, path, accept string }{
		{"accept among others", "/boards/" + b + "/", "application/json, text/event-stream;q=0.9"},
		{"query", "/boards/" + b + "/?stream=1", "*/*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", a.URL+tc.path, nil)
			require.NoError(t, err)
			req.Header.Set("Accept", tc.accept)
			res, err := a.Client().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, "text/event-stream", strings.Split(res.Header.Get("Content-Type"), ";")[0])
		})
	}
}

func TestDirectDatabaseWriteReachesSubscriber(t *testing.T) {
	a := live(t, testapp.Options{})
	b, ids := a.Board(t, "Cup", "Ann", "Bob")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, s, testapp.HasPlayers(2))

	// A script writing straight to the database, not through the API.
	session := a.Session(t)
	_, err := r.DB("leaderboard").Table("players").Get(ids[0]).
		Update(map[string]any{"score": 99}).RunWrite(session)
	require.NoError(t, err)
	testapp.Until(t, s, testapp.ScoreIs("Ann", 99, 1))
}

func TestRapidScoreAddsAreCoalesced(t *testing.T) {
	a := live(t, testapp.Options{PublishInterval: 200 * time.Millisecond})
	b, ids := a.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, s, testapp.HasPlayers(1))

	const adds = 100
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range adds / 10 {
				res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil)
				assert.Equal(t, http.StatusOK, res.Status)
			}
		})
	}
	wg.Wait()
	ev, events := testapp.Until(t, s, testapp.ScoreIs("Ann", adds, 1))
	assert.Less(t, events, adds/2, "100 adds must be coalesced into far fewer events")
	assert.Equal(t, int64(adds), testapp.DecodeBoard(t, ev).Players[0].Score, "the last event is exact")
	t.Logf("%d score-adds arrived as %d events", adds, events)
}

func TestDatabaseRestartIsSurvived(t *testing.T) {
	a := live(t, testapp.Options{})
	b, ids := a.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, s, testapp.HasPlayers(1))

	require.NoError(t, a.DB.Restart())
	// The API answers 503 until its connections are replaced, then 200.
	require.Eventually(t, func() bool {
		return a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", `{"amount": 7}`).Status == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	testapp.Until(t, s, testapp.ScoreIs("Ann", 7, 1))

	// And once more, after both feeds have reconnected.
	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil).Status)
	testapp.Until(t, s, testapp.ScoreIs("Ann", 8, 1))
}

func TestLastEventIDResume(t *testing.T) {
	a := live(t, testapp.Options{})
	b, ids := a.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	cur, _ := testapp.Until(t, s, testapp.HasPlayers(1))
	seq := testapp.SeqOf(t, cur)
	s.Close()

	t.Run("up to date: nothing twice", func(t *testing.T) {
		s := testapp.OpenStream(t, a.Client(), streamURL(a, b), "Last-Event-ID", strconv.FormatUint(seq, 10))
		require.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil).Status)
		ev := s.Next(t, 10*time.Second)
		assert.Greater(t, testapp.SeqOf(t, ev), seq, "the first event is the next update, not the board the client has")
	})
	t.Run("behind: current board at once", func(t *testing.T) {
		s := testapp.OpenStream(t, a.Client(), streamURL(a, b), "Last-Event-ID", "0")
		ev := s.Next(t, 10*time.Second)
		assert.Greater(t, testapp.SeqOf(t, ev), seq)
		assert.True(t, testapp.ScoreIs("Ann", 1, 1)(testapp.DecodeBoard(t, ev)))
	})
	t.Run("not a number: treated as none", func(t *testing.T) {
		s := testapp.OpenStream(t, a.Client(), streamURL(a, b), "Last-Event-ID", "abc")
		ev := s.Next(t, 10*time.Second)
		assert.True(t, testapp.ScoreIs("Ann", 1, 1)(testapp.DecodeBoard(t, ev)))
	})
	t.Run("polyfill query parameter", func(t *testing.T) {
		res := a.Do(t, "GET", "/boards/"+b+"/", nil)
		require.Equal(t, http.StatusOK, res.Status)
		s := testapp.OpenStream(t, a.Client(), streamURL(a, b)+"?lastEventId=0")
		ev := s.Next(t, 10*time.Second)
		assert.Greater(t, testapp.SeqOf(t, ev), seq)
	})
}

func TestStreamOfUnknownBoardIs404(t *testing.T) {
	a := live(t, testapp.Options{})
	res := a.Do(t, "GET", "/boards/nope/", nil, "Accept", "text/event-stream")
	assert.Equal(t, http.StatusNotFound, res.Status)
	assert.JSONEq(t, `{"error": "board not found"}`, string(res.Body))
}

func TestRetryHintAndKeepAlive(t *testing.T) {
	a := live(t, testapp.Options{KeepAlive: 50 * time.Millisecond})
	b, _ := a.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	var retry, keepAlive bool
	for i := 0; i < 100 && !(retry && keepAlive); i++ {
		ev, ok := s.Raw(5 * time.Second)
		require.True(t, ok, "stream ended")
		retry = retry || ev.Retry != ""
		keepAlive = keepAlive || ev.Comment != ""
	}
	assert.True(t, retry, "a retry: hint")
	assert.True(t, keepAlive, "keep-alive comments on a quiet board")
}

func TestDeletedBoardEndsItsStreams(t *testing.T) {
	a := live(t, testapp.Options{})
	b, _ := a.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, s, testapp.HasPlayers(1))
	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/boards/"+b+"/", nil).Status)
	assert.True(t, s.Ended(10*time.Second))
}

// A client that never reads must not hold up the others: the publisher
// never blocks on it, and it is dropped once its buffer is full.
func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	a := live(t, testapp.Options{TopN: 100, StreamBuffer: 4, Config: func(c *config.Config) {
		// Little kept in kernel buffers: the stalled client is noticed
		// sooner, and the test reads less of what it left unread.
		c.StreamWriteTimeout = time.Second
		c.StreamSendBuffer = 4096
	}})
	names := make([]string, 100)
	for i := range names {
		// Long names make each event ~12 KiB, so a few fill the socket
		// buffers of a client that does not read.
		names[i] = fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 96))
	}
	b, ids := a.Board(t, "Big", names...)

	stalled := a.StalledStream(t, b)
	healthy := testapp.OpenStream(t, a.Client(), streamURL(a, b))
	testapp.Until(t, healthy, testapp.HasPlayers(100))

	for i := range 12 {
		res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[i%len(ids)]+"/score-add/", `{"amount": 1000}`)
		require.Equal(t, http.StatusOK, res.Status)
		// One event per add: wait for it before the next.
		testapp.Until(t, healthy, testapp.ScoreIs(names[i%len(ids)], 1000, 1))
		res = a.Do(t, "POST", "/boards/"+b+"/players/"+ids[i%len(ids)]+"/score-add/", `{"amount": -1000}`)
		require.Equal(t, http.StatusOK, res.Status)
	}
	// The stalled client was dropped: once it reads, its stream ends
	// instead of going on forever.
	require.NoError(t, stalled.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, err := io.Copy(io.Discard, stalled)
	assert.NoError(t, err, "the server closed the stalled stream (EOF), rather than the read timing out")
}

func TestNoGoroutineLeakAfter1000Streams(t *testing.T) {
	// A parked stream learns that its client hung up at the hub's next sweep
	// (within a second), so 1000 streams in a row from one address would meet
	// MAX_STREAMS_PER_CLIENT first (RATE_LIMIT_STREAMS keeps real clients
	// far below that pace).
	a := live(t, testapp.Options{Config: func(c *config.Config) { c.MaxStreamsPerClient = 2000 }})
	b, _ := a.Board(t, "Cup", "Ann")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	first := testapp.OpenStream(t, client, streamURL(a, b))
	testapp.Until(t, first, testapp.HasPlayers(1))
	first.Close()
	runtime.GC()
	before := runtime.NumGoroutine()

	for range 1000 {
		s := testapp.OpenStream(t, client, streamURL(a, b))
		s.Next(t, 10*time.Second)
		s.Close()
	}
	// The server sees each hang-up a moment after the client makes it.
	assert.Eventually(t, func() bool {
		return runtime.NumGoroutine() <= before+5
	}, 10*time.Second, 20*time.Millisecond, "goroutines: %d before, %d after", before, runtime.NumGoroutine())
	assert.Eventually(t, func() bool { return len(a.Hub.Topics()) == 0 },
		10*time.Second, 20*time.Millisecond, "the board's stream is released after its last subscriber")
}
