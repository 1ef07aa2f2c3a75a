package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
)

// watchWorker reads the worker's heartbeat every interval and logs when it
// goes stale or missing (a stopped dblistener: no stream moves any more)
// and when it is fresh again: once per change, not at every check, so a
// dead worker shows in the logs as well as in /readyz. A database that
// cannot be read changes nothing: its own errors are logged elsewhere.
func watchWorker(ctx context.Context, store *models.Store, interval time.Duration, log *slog.Logger, m *metrics.Metrics) {
	log = log.With("component", "worker-watch")
	stale := false
	for {
		if backoff.Wait(ctx, interval) != nil {
			return
		}
		hb, err := store.Heartbeats().Get(ctx, models.WorkerHeartbeat)
		if err != nil {
			continue
		}
		m.HeartbeatAge(hb.Age, hb.Found)
		switch {
		case hb.Stale() && !stale:
			log.Warn("worker heartbeat stale: streams will not move", "reason", models.WorkerProblem(hb), "heartbeat_age", hb.Age, "stale_after", hb.StaleAfter)
		case !hb.Stale() && stale:
			log.Info("worker heartbeat is fresh again", "heartbeat_age", hb.Age)
		}
		stale = hb.Stale()
	}
}
