// Package dblistener keeps every board's materialized top N current. It
// follows the players changefeed, whoever wrote to it, marks the boards a
// change touches as dirty, and recomputes each dirty board at most once per
// publish interval. A recompute that changes the top N writes it to the
// board with seq+1 (which every web process sees on the boards changefeed)
// and, in GRIP mode, sends the board event to the proxy.
//
// It runs as the worker process (cmd/dblistener) and, in embedded mode,
// inside web.
package dblistener

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
)

// Sink is told of each board event the listener made, for a fan-out outside
// the database (a GRIP proxy).
type Sink interface {
	Send(ctx context.Context, ev event.Event) error
}

// Config tunes the listener.
type Config struct {
	TopN int
	// Interval is the coalescing window: a board is recomputed at most once
	// per Interval, with the latest state.
	Interval time.Duration
	// Workers bounds concurrent recomputes in one round.
	Workers int
	// Sink, if set, is sent every board event (GRIP).
	Sink Sink
	// HeartbeatInterval is how often the listener records that it is alive
	// (heartbeat models.WorkerHeartbeat), and HeartbeatStaleAfter how old
	// that record may get before web reports the worker gone.
	HeartbeatInterval   time.Duration
	HeartbeatStaleAfter time.Duration
	Backoff             backoff.Policy
	Logger              *slog.Logger
	// Metrics, if set, records the feed's reconnects and the publish lag.
	Metrics *metrics.Metrics
}

// Listener is the running worker.
type Listener struct {
	store *models.Store
	cfg   Config
	log   *slog.Logger

	mu    sync.Mutex
	dirty map[string]time.Time // board -> when it was first marked since its last recompute
	wake  chan struct{}
}

// Run follows the players changefeed and republishes boards until ctx is
// done, and records a heartbeat every HeartbeatInterval. It survives
// database outages: it reconnects with backoff and then recomputes every
// board, since a changefeed drops what happens while it is down; and when
// the database comes back without the schema (it restarted empty), it
// creates it again.
func Run(ctx context.Context, store *models.Store, cfg Config) error {
	l, err := newListener(store, cfg)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { l.publishLoop(ctx) })
	wg.Go(func() { l.beat(ctx) })
	l.follow(ctx)
	wg.Wait()
	return nil
}

func newListener(store *models.Store, cfg Config) (*Listener, error) {
	if cfg.TopN <= 0 || cfg.Interval <= 0 || cfg.HeartbeatInterval <= 0 || cfg.HeartbeatStaleAfter <= 0 {
		return nil, errors.New("dblistener: Config needs TopN, Interval, HeartbeatInterval and HeartbeatStaleAfter (config.Defaults has them)")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Backoff == (backoff.Policy{}) {
		cfg.Backoff = backoff.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Listener{
		store: store,
		cfg:   cfg,
		log:   cfg.Logger.With("component", "dblistener"),
		dirty: map[string]time.Time{},
		wake:  make(chan struct{}, 1),
	}, nil
}

// follow keeps a players changefeed open, resyncing after every (re)open.
func (l *Listener) follow(ctx context.Context) {
	f := models.Follower{Name: "players", Store: l.store, Backoff: l.cfg.Backoff, Logger: l.log, Metrics: l.cfg.Metrics}
	f.Run(ctx, l.followOnce)
}

func (l *Listener) followOnce(ctx context.Context, healthy func()) error {
	feed, err := l.store.Players.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	// The feed is open before the resync reads, so nothing falls between
	// the two: what the resync misses, the feed brings.
	ids, err := l.store.Boards.IDs(ctx)
	if err != nil {
		return err
	}
	l.mark(ids...)
	l.log.Info("following players changefeed", "boards_resynced", len(ids))
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		l.mark(change.Boards()...)
	}
}

func (l *Listener) mark(ids ...string) {
	if len(ids) == 0 {
		return
	}
	now := time.Now()
	l.mu.Lock()
	for _, id := range ids {
		if _, ok := l.dirty[id]; !ok {
			l.dirty[id] = now
		}
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// take empties the dirty set and returns it.
func (l *Listener) take() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	dirty := l.dirty
	l.dirty = make(map[string]time.Time, len(dirty))
	return dirty
}

// publishLoop runs rounds: wait for a dirty board, wait out the rest of the
// interval since the last round, recompute every board dirty by then. A
// board marked during a round is recomputed in the next, so each board is
// recomputed at most once per interval and always ends at its latest state.
// The first change after a quiet spell goes out at once.
func (l *Listener) publishLoop(ctx context.Context) {
	var last time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		if wait := time.Until(last.Add(l.cfg.Interval)); wait > 0 {
			if backoff.Wait(ctx, wait) != nil {
				return
			}
		}
		last = time.Now()
		failed, err := l.round(ctx, l.take())
		if len(failed) == 0 {
			failures = 0
			continue
		}
		if errors.Is(err, models.ErrSchemaMissing) {
			l.repair(ctx, err)
		}
		// Never dropped for good: failed boards go back in the set and are
		// retried after a backoff (the database is likely down).
		l.mark(failed...)
		if l.cfg.Backoff.Sleep(ctx, failures) != nil {
			return
		}
		failures++
	}
}

// round recomputes boards concurrently and returns those that failed, and
// the errors.
func (l *Listener) round(ctx context.Context, dirty map[string]time.Time) ([]string, error) {
	var (
		mu     sync.Mutex
		failed []string
		errs   []error
		wg     sync.WaitGroup
		sem    = make(chan struct{}, l.cfg.Workers)
	)
	for id, since := range dirty {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := l.recompute(ctx, id, since); err != nil {
				if ctx.Err() == nil {
					l.log.Warn("recompute board failed, will retry", "board", id, "err", err)
				}
				mu.Lock()
				failed = append(failed, id)
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failed, errors.Join(errs...)
}

// recompute reads the board's top N and stores it if it changed; since is
// when the first change it answers reached the listener.
func (l *Listener) recompute(ctx context.Context, id string, since time.Time) error {
	top, err := l.store.Players.TopForBoard(ctx, id, l.cfg.TopN)
	if err != nil {
		return err
	}
	board, changed, err := l.store.Boards.SaveTop(ctx, id, top)
	if errors.Is(err, models.ErrNotFound) {
		return nil // deleted meanwhile: nothing to show
	}
	if err != nil || !changed {
		return err
	}
	l.cfg.Metrics.PublishLag(time.Since(since))
	l.log.Debug("republished board", "board", id, "seq", board.Seq)
	if l.cfg.Sink != nil {
		// Not retried here: the GRIP publisher retries on its own, and a
		// proxy that misses an item sees the gap in the next item's prev-id
		// and refetches the stream.
		ev := event.Board(board)
		if err := l.cfg.Sink.Send(ctx, ev); err != nil {
			l.log.Error("send board event to GRIP proxy failed", "event", ev, "err", err)
		}
	}
	return nil
}

// repair creates the schema again after a query found part of it missing
// (the database restarted empty, a table was dropped). Failures are only
// logged: whoever found the schema missing retries, and repairs again.
func (l *Listener) repair(ctx context.Context, cause error) {
	l.store.Repair(ctx, l.log, cause)
}

// beat records the listener's heartbeat now and every HeartbeatInterval,
// so web can tell when no worker runs. A failure is logged once, and its
// end once.
func (l *Listener) beat(ctx context.Context) {
	failing := false
	for {
		err := l.store.Heartbeats().Beat(ctx, models.WorkerHeartbeat, l.cfg.HeartbeatStaleAfter)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && failing:
			l.log.Info("heartbeat recorded again")
			failing = false
		case err != nil:
			if !failing {
				l.log.Warn("cannot record heartbeat, will retry", "err", err)
			}
			failing = true
			if errors.Is(err, models.ErrSchemaMissing) {
				l.repair(ctx, err)
			}
		}
		if backoff.Wait(ctx, l.cfg.HeartbeatInterval) != nil {
			return
		}
	}
}

// GripSink sends each board event to a GRIP proxy's channel of the same name,
// as the same SSE event the built-in streams send, with id and prev-id so the
// proxy can detect a gap.
type GripSink struct {
	Publisher *grip.Publisher
}

// Send implements Sink.
func (g GripSink) Send(ctx context.Context, ev event.Event) error {
	item := grip.Item{
		Channel: ev.Topic,
		ID:      strconv.FormatUint(ev.Seq, 10),
		Content: string(ev.SSE()),
	}
	if ev.Seq > 0 {
		item.PrevID = strconv.FormatUint(ev.Seq-1, 10)
	}
	return g.Publisher.Publish(ctx, item)
}
