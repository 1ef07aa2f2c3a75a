package testapp

import (
	"context"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/dblistener"
	"github.com/leaderboardhq/leaderboard/models"
)

// StartWorker runs the worker process's listener against conn with cfg's
// settings, as cmd/dblistener does, until the returned stop is called (or
// the test ends). stop waits for it to finish.
func StartWorker(t testing.TB, conn models.ConnConfig, cfg config.Config) (stop func()) {
	t.Helper()
	store := OpenStore(t, conn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- dblistener.Run(ctx, store, dblistener.Config{
			TopN: cfg.TopN, Interval: cfg.PublishInterval, Backoff: Fast, Logger: Logger(),
			HeartbeatInterval: cfg.HeartbeatInterval, HeartbeatStaleAfter: cfg.HeartbeatStaleAfter,
		})
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("worker did not stop within 10s")
		}
	}
	t.Cleanup(stop)
	return stop
}
