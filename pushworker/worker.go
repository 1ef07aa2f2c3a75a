// Package pushworker is the push service's share of the worker process:
// it stamps events that other programs insert raw into the events table
// (giving each its channel's next seq, which web processes wait for before
// they deliver it) and prunes expired history and tokens. It must run in one
// process per deployment, the one that runs dblistener (in embedded mode,
// web itself): stamping is the single writer of raw events.
package pushworker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/models"
)

// Config tunes the worker.
type Config struct {
	// PruneInterval is how often expired history and tokens are pruned.
	// Default 1m.
	PruneInterval time.Duration
	Backoff       backoff.Policy
	Logger        *slog.Logger
}

// pruneBatch and pruneBatches bound one round of pruning.
const (
	pruneBatch   = 500
	pruneBatches = 20
)

// Run stamps raw events and prunes until ctx is done.
func Run(ctx context.Context, push *models.Push, cfg Config) {
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = time.Minute
	}
	if cfg.Backoff == (backoff.Policy{}) {
		cfg.Backoff = backoff.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "pushworker")
	done := make(chan struct{})
	go func() {
		defer close(done)
		prune(ctx, push, cfg.PruneInterval, log)
	}()
	for attempt := 0; ; attempt++ {
		err := stampOnce(ctx, push, log, func() { attempt = 0 })
		if ctx.Err() != nil {
			break
		}
		log.Warn("events changefeed lost, reconnecting", "err", err, "attempt", attempt+1)
		if cfg.Backoff.Sleep(ctx, attempt) != nil {
			break
		}
	}
	<-done
}

// stampOnce follows the events feed and stamps raw events, after stamping
// those inserted while no feed was open.
func stampOnce(ctx context.Context, push *models.Push, log *slog.Logger, healthy func()) error {
	feed, err := push.Events.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	for {
		ids, err := push.Events.Pending(ctx, 100)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := stamp(ctx, push, id, log); err != nil {
				return err
			}
		}
		if len(ids) < 100 {
			break
		}
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.RawID != nil {
			if err := stamp(ctx, push, change.RawID, log); err != nil {
				return err
			}
		}
	}
}

// stamp stamps one raw event; a refused one is logged, not retried.
func stamp(ctx context.Context, push *models.Push, id any, log *slog.Logger) error {
	err := push.Events.Stamp(ctx, id)
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrForbidden) || errors.Is(err, models.ErrInvalid) {
		log.Warn("deleted a raw event that cannot be delivered", "err", err)
		return nil
	}
	return err
}

// prune deletes expired history and tokens every interval.
func prune(ctx context.Context, push *models.Push, interval time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var from time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		for range pruneBatches {
			next, n, err := push.Events.PruneExpired(ctx, from, pruneBatch)
			if err != nil {
				log.Warn("prune expired events failed, will retry", "err", err)
				break
			}
			from = next
			if n < pruneBatch {
				from = time.Time{} // the end: start over next time
				break
			}
		}
		if _, err := push.Tokens.DeleteExpired(ctx, time.Now(), pruneBatch*pruneBatches); err != nil {
			log.Warn("delete expired tokens failed, will retry", "err", err)
		}
	}
}
