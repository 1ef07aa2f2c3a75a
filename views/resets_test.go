package views_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/resets"
)

// fakeClock is the reset schedulers' clock, which a test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type periodShown struct {
	Period  int       `json:"period"`
	EndedAt time.Time `json:"ended_at"`
	Players []ranked  `json:"players"`
}

// A daily board resets at midnight in its time zone: the standings are
// archived (GET ?period=previous), the board starts empty, and streams get
// the empty board; the next reset is the next midnight.
func TestDailyResetAtMidnight(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	require.NoError(t, err)
	clk := &fakeClock{t: time.Date(2026, 12, 1, 23, 59, 58, 0, oslo)}
	a := testapp.Start(t, testapp.Options{APIKeys: []string{key}, Now: clk.Now, ResetPoll: 5 * time.Millisecond})
	a.DB.SetTime(clk.Now())
	b := createBoard(t, a, `{"name": "Daily", "reset": "daily", "reset_tz": "Europe/Oslo"}`)
	var shown struct {
		Reset, ResetTZ string
		NextResetAt    time.Time `json:"next_reset_at"`
	}
	a.Do(t, "GET", "/boards/"+b+"/", nil).JSON(t, &shown)
	assert.Equal(t, "daily", shown.Reset)
	midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, oslo)
	assert.True(t, midnight.Equal(shown.NextResetAt), "next reset %s", shown.NextResetAt)

	ann := createPlayer(t, a, b, "Ann", 30)
	createPlayer(t, a, b, "Bob", 20)
	stream := testapp.OpenStream(t, a.Client(), a.URL+"/boards/"+b+"/")
	testapp.Until(t, stream, func(bd testapp.BoardData) bool { return len(bd.Players) == 2 })

	// One second before midnight nothing happens.
	clk.Set(midnight.Add(-time.Second))
	time.Sleep(30 * time.Millisecond) // several polls of the scheduler: an absence has no event to await
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+b+"/?period=previous", nil).Status)
	assert.Equal(t, int64(30), scoreOf(t, a, b, ann))

	clk.Set(midnight.Add(300 * time.Millisecond))
	a.DB.SetTime(clk.Now())
	var prev periodShown
	require.Eventually(t, func() bool {
		res := a.Do(t, "GET", "/boards/"+b+"/?period=previous", nil)
		if res.Status != http.StatusOK {
			return false
		}
		res.JSON(t, &prev)
		return true
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 0, prev.Period)
	assert.True(t, midnight.Equal(prev.EndedAt), "ended at %s", prev.EndedAt)
	assert.Equal(t, "Ann:1 Bob:2", names(prev.Players))
	testapp.Until(t, stream, func(bd testapp.BoardData) bool { return len(bd.Players) == 0 })
	a.Do(t, "GET", "/boards/"+b+"/", nil).JSON(t, &shown)
	assert.True(t, midnight.AddDate(0, 0, 1).Equal(shown.NextResetAt), "next reset %s", shown.NextResetAt)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+b+"/players/"+ann+"/", nil).Status, "players start again")

	// The new period fills and ends at the next midnight.
	createPlayer(t, a, b, "Cy", 5)
	clk.Set(midnight.AddDate(0, 0, 1))
	require.Eventually(t, func() bool {
		var p periodShown
		a.Do(t, "GET", "/boards/"+b+"/?period=previous", nil).JSON(t, &p)
		return p.Period == 1 && names(p.Players) == "Cy:1"
	}, 5*time.Second, 5*time.Millisecond)

	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/boards/"+b+"/", nil, auth...).Status)
	var left int
	require.NoError(t, r.DB("leaderboard").Table("board_periods").Count().ReadOne(&left, a.Session(t)))
	assert.Zero(t, left, "a deleted board's periods go with it")
}

// With two web processes and the worker's scheduler all running, every
// reset happens once; a reset missed while everything was down happens
// once at start.
func TestResetsHappenOnceAcrossProcesses(t *testing.T) {
	db := minirethink.RunT(t)
	url := "rethinkdb://admin@" + db.Addr() + "/leaderboard"
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: start}
	web := func() *testapp.App {
		return testapp.Start(t, testapp.Options{APIKeys: []string{key}, Now: clk.Now, ResetPoll: 2 * time.Millisecond,
			Config: func(c *config.Config) { c.DatabaseURL = url }})
	}
	w1, w2 := web(), web()
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		resets.Run(ctx, store, resets.Config{Now: clk.Now, Poll: 2 * time.Millisecond, Logger: testapp.Logger()})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	b := createBoard(t, w1, `{"name": "Tick", "reset": "@every 10s"}`)
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	periods := func() []int {
		var ps []int
		require.NoError(t, r.DB("leaderboard").Table("board_periods").OrderBy("period").Field("period").ReadAll(&ps, session))
		return ps
	}
	for i := range 5 {
		createPlayer(t, w2, b, "P", int64(i))
		clk.Set(start.Add(time.Duration(i+1) * 10 * time.Second))
		require.Eventually(t, func() bool { return len(periods()) == i+1 }, 5*time.Second, 2*time.Millisecond)
		time.Sleep(20 * time.Millisecond) // many polls of three schedulers
		require.Len(t, periods(), i+1, "reset %d happened once", i)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4}, periods())

	// Everything goes down for an hour: 360 resets missed, one done at start.
	cancel()
	wg.Wait()
	require.NoError(t, w1.Close())
	require.NoError(t, w2.Close())
	clk.Set(start.Add(time.Hour + 5*time.Second))
	w3 := web()
	require.Eventually(t, func() bool { return len(periods()) == 6 }, 5*time.Second, 2*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, periods())
	var board struct {
		NextResetAt time.Time `json:"next_reset_at"`
	}
	w3.Do(t, "GET", "/boards/"+b+"/", nil).JSON(t, &board)
	assert.True(t, start.Add(time.Hour+15*time.Second).Equal(board.NextResetAt), "next %s", board.NextResetAt)
}

// A reset whose claimer died after claiming it (the next reset time moved
// on, the period not yet archived nor the players deleted) is finished by
// another process once the claim is stale, once.
func TestAResetLeftHalfDoneIsFinished(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: start}
	a := testapp.Start(t, testapp.Options{APIKeys: []string{key}, Now: clk.Now, ResetPoll: 2 * time.Millisecond})
	b := createBoard(t, a, `{"name": "Crash", "reset": "@every 1h"}`)
	createPlayer(t, a, b, "Ann", 7)
	// A process claims the reset at 13:00 and dies.
	board, err := a.Store.Boards.Get(t.Context(), b)
	require.NoError(t, err)
	won, err := a.Store.Boards.ClaimReset(t.Context(), board, start.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, won)
	clk.Set(start.Add(time.Hour + 10*time.Second))
	time.Sleep(20 * time.Millisecond) // the claim is fresh: nobody touches it (an absence to check)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+b+"/?period=previous", nil).Status)

	clk.Set(start.Add(time.Hour + 31*time.Second))
	var prev periodShown
	require.Eventually(t, func() bool {
		res := a.Do(t, "GET", "/boards/"+b+"/?period=previous", nil)
		res.JSON(t, &prev)
		return res.Status == http.StatusOK
	}, 5*time.Second, 2*time.Millisecond)
	assert.Equal(t, "Ann:1", names(prev.Players))
	assert.True(t, start.Add(time.Hour).Equal(prev.EndedAt))
	assert.Empty(t, getPage(t, a, "/boards/"+b+"/players/").Players)
	var left []map[string]any
	require.NoError(t, r.DB("leaderboard").Table("boards").Between(r.MinVal, r.MaxVal, r.BetweenOpts{Index: "ending_period"}).
		ReadAll(&left, a.Session(t)))
	assert.Empty(t, left, "no reset left unfinished")
}
