// Package worker is the worker process's work, wired once: the listener
// that keeps every board's top N (dblistener) and the push service's single
// writer of raw events (pushworker). cmd/dblistener runs it, web runs it
// in-process in embedded mode, and the tests run the very same thing.
package worker

import (
	"context"
	"log/slog"
	"sync"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/dblistener"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushworker"
)

// Options are what the caller decides beyond the configuration.
type Options struct {
	Logger  *slog.Logger
	Backoff backoff.Policy // default backoff.Default
	Metrics *metrics.Metrics
}

// Start checks cfg, records a first heartbeat (so /readyz never reports a
// worker that is only starting) and starts the work on store; wait blocks
// until ctx is done and everything has stopped, and returns the listener's
// error if it could not run.
func Start(ctx context.Context, store *models.Store, cfg config.Config, o Options) (wait func() error, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Backoff == (backoff.Policy{}) {
		o.Backoff = backoff.Default
	}
	var sink dblistener.Sink
	if cfg.GripURL != "" {
		g, err := grip.ParseURL(cfg.GripURL)
		if err != nil {
			return nil, err
		}
		sink = dblistener.GripSink{Publisher: grip.NewPublisher(g)}
	}
	if err := store.Heartbeats().Beat(ctx, models.WorkerHeartbeat, cfg.HeartbeatStaleAfter); err != nil {
		return nil, err
	}
	push := models.NewPush(store, models.History{Size: cfg.HistorySize, TTL: cfg.HistoryTTL})
	var (
		wg     sync.WaitGroup
		runErr error
	)
	wg.Go(func() {
		runErr = dblistener.Run(ctx, store, dblistener.Config{
			TopN: cfg.TopN, Interval: cfg.PublishInterval, Sink: sink, Backoff: o.Backoff, Logger: o.Logger,
			HeartbeatInterval: cfg.HeartbeatInterval, HeartbeatStaleAfter: cfg.HeartbeatStaleAfter,
			Metrics: o.Metrics,
		})
		if runErr != nil {
			o.Logger.Error("listener stopped: streams will not move", "err", runErr)
		}
	})
	wg.Go(func() { pushworker.Run(ctx, push, pushworker.Config{Backoff: o.Backoff, Logger: o.Logger}) })
	o.Logger.Info("worker started", "top_n", cfg.TopN, "publish_interval", cfg.PublishInterval,
		"grip", sink != nil, "heartbeat_interval", cfg.HeartbeatInterval)
	return func() error { wg.Wait(); return runErr }, nil
}
