package testapp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/worker"
	"github.com/leaderboardhq/leaderboard/models"
)

// StartWorker runs the worker process's work against conn with cfg's
// settings, as cmd/dblistener does (internal/worker), until the returned stop is called (or
// the test ends). stop waits for it to finish.
func StartWorker(t testing.TB, conn models.ConnConfig, cfg config.Config) (stop func()) {
	t.Helper()
	store := OpenStore(t, conn)
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := worker.Start(ctx, store, cfg, worker.Options{Backoff: Fast, Logger: Logger()})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- wait() }()
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
