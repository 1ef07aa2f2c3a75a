package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// The worker as the Procfile runs it: against DATABASE_URL, sharing the
// database with a web process that ensures the schema at the same time,
// republishing a board after a write made directly to the database.
func TestWorkerRepublishesBoards(t *testing.T) {
	db := minirethink.RunT(t)
	cfg := config.Defaults()
	cfg.DatabaseURL = "rethinkdb://" + db.Addr() + "/leaderboard"
	cfg.TopN = 3
	cfg.PublishInterval = 10 * time.Millisecond
	cfg.MetricsAddr = freeAddr(t)
	cfg.MetricsToken = "mt"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, testapp.Logger()) }()

	// Both processes ensure the schema at start, possibly at once.
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	board := &models.Board{Name: "Cup"}
	require.NoError(t, store.Boards.Save(ctx, board))
	ann := &models.Player{Board: board.ID, Name: "Ann"}
	require.NoError(t, store.Players.Save(ctx, ann))
	_, err := store.Players.AddScore(ctx, board.ID, ann.ID, 7)
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		b, err := store.Boards.Get(ctx, board.ID)
		return err == nil && len(b.Top) == 1 && b.Top[0].Score == 7 && b.Top[0].Rank == 1
	}, 10*time.Second, 10*time.Millisecond, "the worker writes the board's top N")

	// The worker serves its metrics on METRICS_ADDR, behind METRICS_TOKEN.
	req, err := http.NewRequest("GET", "http://"+cfg.MetricsAddr+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer mt")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(body), `leaderboard_changefeed_resyncs_total{feed="players"} 1`)
	assert.Contains(t, string(body), `leaderboard_publish_lag_seconds_count`)

	stop()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("dblistener did not stop")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestWorkerNeedsADatabaseURL(t *testing.T) {
	err := run(context.Background(), config.Config{}, testapp.Logger())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATABASE_URL is not set")
}

// The worker stamps events other programs insert raw: they get their
// channel's next id, which is what web processes wait for to deliver them.
func TestWorkerStampsRawEvents(t *testing.T) {
	db := minirethink.RunT(t)
	cfg := config.Defaults()
	cfg.DatabaseURL = "rethinkdb://" + db.Addr() + "/leaderboard"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, testapp.Logger()) }()

	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	push := models.NewPush(store, models.History{Size: cfg.HistorySize, TTL: cfg.HistoryTTL})
	_, err := push.Channels.Create(ctx, "news", models.Fanout)
	require.NoError(t, err)
	_, _, err = push.Events.Post(ctx, "news", "first")
	require.NoError(t, err)
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	defer session.Close()
	_, err = r.DB("leaderboard").Table("events").Insert(map[string]any{"channel": "news", "data": "raw"}).RunWrite(session)
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		evs, err := push.Events.After(ctx, "news", 1, 10)
		return err == nil && len(evs) == 1 && evs[0].Seq == 2 && evs[0].Data == "raw"
	}, 10*time.Second, 10*time.Millisecond, "the worker stamps the raw event")
	// The copy is made before the raw event is deleted.
	assert.Eventually(t, func() bool {
		pending, err := push.Events.Pending(ctx, 10)
		return err == nil && len(pending) == 0
	}, 10*time.Second, 10*time.Millisecond, "the raw event is deleted once stamped")

	stop()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("dblistener did not stop")
	}
}
