package models

import (
	"context"
	"errors"
	"log/slog"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/metrics"
)

// Follower keeps one changefeed followed: RethinkDB does not replay what
// happened while a feed was down, so each (re)open resyncs, and a feed that
// ends is opened again after a backoff. The relay, the push relay and the
// listener all follow their feeds through it.
type Follower struct {
	Name    string // the feed, in logs and metrics: "boards", "players", ...
	Store   *Store // re-creates the schema when a feed finds it missing
	Backoff backoff.Policy
	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// Run calls follow until ctx is done. follow opens the feed, resyncs, calls
// healthy, then reads the feed until it ends; Run then backs off and calls
// it again. healthy resets the backoff and counts the (re)open.
func (f Follower) Run(ctx context.Context, follow func(ctx context.Context, healthy func()) error) {
	lost := false
	for attempt := 0; ; attempt++ {
		following := false
		err := follow(ctx, func() {
			attempt, following = 0, true
			f.Metrics.FeedOpened(f.Name, lost)
		})
		if ctx.Err() != nil {
			return
		}
		if following {
			lost = true
			f.Metrics.FeedLost(f.Name)
		}
		f.Logger.Warn(f.Name+" changefeed lost, reconnecting", "err", err, "attempt", attempt+1)
		if errors.Is(err, ErrSchemaMissing) {
			f.Store.Repair(ctx, f.Logger, err)
		}
		if f.Backoff.Sleep(ctx, attempt) != nil {
			return
		}
	}
}

// Repair creates the schema again after cause found part of it missing (a
// database that restarted empty). A failure is only logged: whoever finds
// it missing next tries again.
func (st *Store) Repair(ctx context.Context, log *slog.Logger, cause error) {
	st.repairing.Lock()
	defer st.repairing.Unlock()
	log.Warn("the database lacks part of the schema (restarted empty?), creating it again", "err", cause)
	if err := st.EnsureSchema(ctx); err != nil {
		if ctx.Err() == nil {
			log.Warn("creating the schema failed, will retry", "err", err)
		}
		return
	}
	log.Info("schema created again")
}
