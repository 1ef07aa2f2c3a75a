package views_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

type readiness struct {
	Status   string   `json:"status"`
	Error    string   `json:"error"`
	Problems []string `json:"problems"`
}

// awaitReadyz polls /readyz until ok accepts its answer.
func awaitReadyz(t *testing.T, a *testapp.App, what string, ok func(status int, body readiness) bool) readiness {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for tick := time.Tick(20 * time.Millisecond); ; <-tick {
		res := a.Do(t, "GET", "/readyz", nil)
		var body readiness
		res.JSON(t, &body)
		if ok(res.Status, body) {
			return body
		}
		require.True(t, time.Now().Before(deadline), "%s: /readyz still answers %d %+v", what, res.Status, body)
	}
}

// A stopped worker shows: web's /readyz turns 503 naming it, and web logs
// it once, however often it checks; a worker that comes back makes web
// ready again, logged once too. Two processes' wiring on one database:
// web with DATABASE_URL, and the worker's listener.
func TestStoppedWorkerMakesWebUnready(t *testing.T) {
	const hint = "is dblistener running? (heroku ps:scale worker=1)"
	db := minirethink.RunT(t)
	cfg := testapp.Config(testapp.Options{APIKeys: []string{key}, Config: func(c *config.Config) {
		c.DatabaseURL = "rethinkdb://" + db.Addr() + "/leaderboard"
		c.HeartbeatInterval, c.HeartbeatStaleAfter = 20*time.Millisecond, 200*time.Millisecond
	}})
	stop := testapp.StartWorker(t, testapp.ConnTo(db.Addr()), cfg)
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	require.Eventually(t, func() bool {
		hb, err := store.Heartbeats().Get(context.Background(), models.WorkerHeartbeat)
		return err == nil && hb.Found
	}, 10*time.Second, 10*time.Millisecond, "the worker beats")

	var logs testapp.SyncBuffer
	a := testapp.Start(t, testapp.Options{
		APIKeys: []string{key},
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Config:  func(c *config.Config) { *c = cfg },
	})
	staleLines := func() int { return strings.Count(logs.String(), "worker heartbeat stale") }
	freshLines := func() int { return strings.Count(logs.String(), "worker heartbeat is fresh again") }
	awaitReadyz(t, a, "worker running", func(status int, body readiness) bool {
		return status == http.StatusOK && body.Status == "ready"
	})

	stop()
	body := awaitReadyz(t, a, "worker stopped", func(status int, body readiness) bool {
		return status == http.StatusServiceUnavailable && len(body.Problems) > 0
	})
	require.Len(t, body.Problems, 1)
	assert.Regexp(t, `^worker heartbeat is [0-9.]+m?s old: `, body.Problems[0])
	assert.Contains(t, body.Problems[0], hint)
	assert.Contains(t, body.Error, body.Problems[0])
	// A second or more: long enough for the watcher to have checked dozens
	// of times.
	secondsOld := regexp.MustCompile(`^worker heartbeat is [0-9]+s old`)
	awaitReadyz(t, a, "heartbeat a second old", func(_ int, body readiness) bool {
		return len(body.Problems) == 1 && secondsOld.MatchString(body.Problems[0])
	})
	assert.Equal(t, 1, staleLines(), "a stale worker is logged once:\n%s", logs.String())

	testapp.StartWorker(t, testapp.ConnTo(db.Addr()), cfg)
	awaitReadyz(t, a, "worker restarted", func(status int, body readiness) bool {
		return status == http.StatusOK && body.Status == "ready"
	})
	deadline := time.Now().Add(10 * time.Second)
	for tick := time.Tick(20 * time.Millisecond); freshLines() < 1; <-tick {
		require.True(t, time.Now().Before(deadline), "the watcher logs the worker's return:\n%s", logs.String())
	}
	assert.Equal(t, 1, freshLines())
	assert.Equal(t, 1, staleLines())
}
