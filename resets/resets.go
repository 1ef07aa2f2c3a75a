// Package resets runs boards' reset schedules (and, once an hour, sweeps
// expired idempotency keys): at each scheduled time a
// board's standings are archived (its last period, GET ?period=previous)
// and its players deleted, so scores start again; streams then get the
// empty board from the listener like any other change.
//
// Every process runs it (each web and the worker); the database decides who
// resets: the next reset time lives in the board, and a process resets only
// after moving it on in one atomic update that succeeds for exactly one of
// them (models.Boards.ClaimReset). A reset missed while nothing ran happens
// at start, once.
package resets

import (
	"context"
	"log/slog"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/models"
)

// Config tunes the scheduler.
type Config struct {
	// Now is the clock the schedules are read with (default time.Now).
	// It should be the one the Store was opened with (models.Options.Now).
	Now func() time.Time
	// Poll is the longest the scheduler sleeps before looking again for
	// boards due (default 1s): a new board's first reset, or a clock that
	// a test moves, is seen within it. It sleeps less when a reset is due
	// sooner.
	Poll    time.Duration
	Backoff backoff.Policy
	Logger  *slog.Logger
}

// Run resets boards as they come due, until ctx is done.
func Run(ctx context.Context, store *models.Store, cfg Config) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Backoff == (backoff.Policy{}) {
		cfg.Backoff = backoff.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "resets")
	failures := 0
	var swept time.Time
	for {
		if time.Since(swept) > time.Hour {
			// Housekeeping that every process may do at any time:
			// forget idempotency keys past their window.
			if n, err := store.Idempotency().Sweep(ctx); err == nil {
				swept = time.Now()
				log.Debug("swept expired idempotency keys", "deleted", n)
			}
		}
		wait, err := runDue(ctx, store, cfg, log)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("board resets failed, will retry", "err", err)
			if cfg.Backoff.Sleep(ctx, failures) != nil {
				return
			}
			failures++
			continue
		}
		failures = 0
		if backoff.Wait(ctx, wait) != nil {
			return
		}
	}
}

// Stale is how long after its claim a reset still unfinished is taken to
// have lost its claimer (the process died half way) and is finished by
// whoever sees it.
const Stale = 30 * time.Second

// runDue resets every board that is due and says how long to wait.
func runDue(ctx context.Context, store *models.Store, cfg Config, log *slog.Logger) (time.Duration, error) {
	now := cfg.Now()
	unfinished, err := store.Boards.Unfinished(ctx, now, Stale)
	if err != nil {
		return 0, err
	}
	for _, b := range unfinished {
		if err := store.Boards.EndPeriod(ctx, b.ID, b.Period, b.NextReset()); err != nil {
			return 0, err
		}
		log.Warn("finished a board reset its claimer left half done", "board", b.ID, "period_ended", b.Period)
	}
	due, err := store.Boards.DueForReset(ctx, now)
	if err != nil {
		return 0, err
	}
	for i := range due {
		b := &due[i]
		won, err := store.Boards.ClaimReset(ctx, b, now)
		if err != nil {
			return 0, err
		}
		if !won {
			continue // another process has it
		}
		if err := store.Boards.EndPeriod(ctx, b.ID, b.Period, b.NextReset()); err != nil {
			return 0, err
		}
		log.Info("board reset", "board", b.ID, "period_ended", b.Period, "scheduled", b.NextReset(), "late", now.Sub(b.NextReset()))
	}
	wait := cfg.Poll
	next, ok, err := store.Boards.NextReset(ctx)
	if err != nil {
		return 0, err
	}
	if ok {
		if d := next.Sub(cfg.Now()); d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	return wait, nil
}
