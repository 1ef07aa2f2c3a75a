package views_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
)

// A database that comes back empty (its data lost) is repaired by the
// processes themselves, web and the worker. Until then every API call is a 503 with
// Retry-After, never a 500; afterwards boards can be created, written and
// streamed again, and the streams of boards that are gone end.
func TestEmptiedDatabaseIsRepaired(t *testing.T) {
	db := minirethink.RunT(t)
	addr := db.Addr()
	cfg := testapp.Config(testapp.Options{APIKeys: []string{key}, Config: func(c *config.Config) {
		c.DatabaseURL = "rethinkdb://" + addr + "/leaderboard"
		c.HeartbeatInterval, c.HeartbeatStaleAfter = 50*time.Millisecond, 5*time.Second
	}})
	a := testapp.Start(t, testapp.Options{Config: func(c *config.Config) { *c = cfg }})
	testapp.StartWorker(t, testapp.ConnTo(addr), cfg)
	old, oldIDs := a.Board(t, "Old", "Ann")
	oldStream := testapp.OpenStream(t, a.Client(), streamURL(a, old))
	testapp.Until(t, oldStream, testapp.HasPlayers(1))

	// The database comes back empty, on the same address.
	db.Close()
	db, err := minirethink.StartAddr(addr)
	require.NoError(t, err)
	t.Cleanup(db.Close)

	// Each request answers 503 until the schema is back, then as an empty
	// database makes it answer.
	requests := []struct {
		method, path string
		body         any
		repaired     int
	}{
		{"GET", "/readyz", nil, http.StatusOK},
		{"GET", "/boards/", nil, http.StatusOK},
		{"GET", "/boards/" + old + "/", nil, http.StatusNotFound},
		{"POST", "/boards/" + old + "/players/" + oldIDs[0] + "/score-add/", nil, http.StatusNotFound},
		{"POST", "/boards/" + old + "/players/", `{"name": "Bob"}`, http.StatusNotFound},
	}
	repaired := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for tick := time.Tick(20 * time.Millisecond); len(repaired) < len(requests); <-tick {
		require.True(t, time.Now().Before(deadline), "not repaired within 20s, only %v", repaired)
		for _, req := range requests {
			res := a.Do(t, req.method, req.path, req.body, auth...)
			name := req.method + " " + req.path
			switch res.Status {
			case req.repaired:
				repaired[name] = true
			case http.StatusServiceUnavailable:
				require.False(t, repaired[name], "%s: 503 after it was repaired: %s", name, res.Body)
				require.Equal(t, "5", res.Header.Get("Retry-After"), name)
			default:
				require.Failf(t, "unexpected status", "%s: %d %s", name, res.Status, res.Body)
			}
		}
	}
	assert.True(t, oldStream.Ended(10*time.Second), "the streams of a board that is gone end")

	// The repaired database works end to end.
	res := a.Do(t, "POST", "/boards/", `{"name": "New"}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var b board
	res.JSON(t, &b)
	res = a.Do(t, "POST", "/boards/"+b.ID+"/players/", `{"name": "Cat"}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var cat player
	res.JSON(t, &cat)
	s := testapp.OpenStream(t, a.Client(), streamURL(a, b.ID))
	testapp.Until(t, s, testapp.HasPlayers(1))
	res = a.Do(t, "POST", "/boards/"+b.ID+"/players/"+cat.ID+"/score-add/", `{"amount": 3}`, auth...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	testapp.Until(t, s, testapp.ScoreIs("Cat", 3, 1))
}
