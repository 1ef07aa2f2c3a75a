// Package rankcache answers rank questions from memory: a web process keeps
// every board's standings in an order-statistic tree (tree.go), fed by one
// players changefeed, so a rank at any depth, the entry at any position, and
// hence the page of standings at any offset cost O(log n) instead of a
// count over the rank index, which RethinkDB walks in O(rank).
//
// The cache is never wrong, only sometimes unable to answer: until its feed
// has delivered every player's initial place (RethinkDB's include_initial,
// which meets the changes that follow exactly), and from the moment the feed
// is lost until a new one has delivered them again, it answers nothing and
// the models count in the database instead. A rank is asked for a player as
// the database returned it (after its own write, say): the cache ranks that
// score among the other players as it holds them, leaving out the player's
// own entry, so a write the feed has not yet brought is never counted
// against the player itself. The others are as of the feed's last change,
// microseconds behind the database, which is also all a count query
// promises: it reads them at another moment than the write.
package rankcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/models"
)

// Cache is one process's standings of every board.
type Cache struct {
	// BeforeReady, when set, is called after the initial values are
	// loaded and before the cache starts answering, with Run's context
	// (tests hold the cache warming with it). Set it before Run.
	BeforeReady func(ctx context.Context)

	mu     sync.RWMutex
	boards map[string]*standings
	ready  bool
}

var _ models.Ranker = (*Cache)(nil)

// New is an empty cache that answers nothing until Run has loaded it.
func New() *Cache { return &Cache{} }

// Ready reports whether the cache answers, and how many players it holds.
func (c *Cache) Ready() (bool, int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, t := range c.boards {
		n += t.tree.n
	}
	return c.ready, n
}

// Run keeps the cache fed until ctx is done: it opens the standings feed,
// builds every board's tree from its initial values while answering
// nothing, swaps the trees in when the feed says ready, then applies every
// change. When the feed is lost it stops answering and starts over with a
// new feed and new trees (a changefeed drops what happens while it is
// down), reconnecting with policy's backoff.
func (c *Cache) Run(ctx context.Context, store *models.Store, policy backoff.Policy, log *slog.Logger) {
	log = log.With("component", "rankcache")
	for attempt := 0; ; attempt++ {
		err := c.follow(ctx, store, log, func() { attempt = 0 })
		c.setUnready()
		if ctx.Err() != nil {
			return
		}
		log.Warn("standings feed lost: counting in the database until it is rebuilt", "err", err, "attempt", attempt+1)
		if policy.Sleep(ctx, attempt) != nil {
			return
		}
	}
}

func (c *Cache) follow(ctx context.Context, store *models.Store, log *slog.Logger, healthy func()) error {
	feed, err := store.Players.Standings(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	start := time.Now()
	building := map[string]*standings{}
	for {
		ch, err := feed.Next()
		if err != nil {
			return err
		}
		if ch.Ready {
			break
		}
		apply(building, ch)
	}
	if c.BeforeReady != nil {
		c.BeforeReady(ctx)
	}
	c.mu.Lock()
	c.boards, c.ready = building, true
	c.mu.Unlock()
	ready, n := c.Ready()
	log.Info("rank cache ready", "ready", ready, "players", n, "boards", len(building), "took", time.Since(start))
	healthy()
	for {
		ch, err := feed.Next()
		if err != nil {
			return err
		}
		if ch.Ready {
			continue
		}
		c.mu.Lock()
		apply(c.boards, ch)
		c.mu.Unlock()
	}
}

// apply makes one change to boards. The player's entry is found by its id
// (not by the change's old value), so the cache holds exactly one entry per
// player whatever it is told.
func apply(boards map[string]*standings, ch models.StandingChange) {
	var id string
	switch {
	case ch.New != nil:
		id = ch.New.Key.ID
	case ch.Old != nil:
		id = ch.Old.Key.ID
	default:
		return
	}
	if o := ch.Old; o != nil {
		if b := boards[o.Board]; b != nil {
			b.remove(id)
			if b.tree.n == 0 {
				delete(boards, o.Board)
			}
		}
	}
	if n := ch.New; n != nil {
		b := boards[n.Board]
		if b == nil {
			b = newStandings()
			boards[n.Board] = b
		}
		b.put(n.Key)
	}
}

func (c *Cache) setUnready() {
	c.mu.Lock()
	c.ready, c.boards = false, nil
	c.mu.Unlock()
}

// Rank implements models.Ranker: one more than the players whose score
// and time are better than k's, among the others as the cache has them (the
// player's own entry, at whatever score the cache last saw, is not counted).
func (c *Cache) Rank(_ context.Context, board string, k models.EntryKey) (rank int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return 0, false
	}
	b := c.boards[board]
	if b == nil {
		return 1, true
	}
	return b.rank(k), true
}

// Position implements models.Ranker.
func (c *Cache) Position(_ context.Context, board string, k models.EntryKey) (pos, rank int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return 0, 0, false
	}
	b := c.boards[board]
	if b == nil {
		return 0, 1, true
	}
	return b.position(k), b.rank(k), true
}

// At implements models.Ranker.
func (c *Cache) At(board string, pos int) (k models.EntryKey, tiesBefore, n int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return k, 0, 0, false
	}
	b := c.boards[board]
	if b == nil {
		return k, 0, 0, true
	}
	t := b.tree
	if pos < 0 || pos >= t.n {
		return k, 0, t.n, true
	}
	i := t.n - 1 - pos
	k = t.at(i)
	// Entries sharing k's S and T that sort after it come before it in
	// the standings (the index is read descending).
	tiesBefore = t.countAtMost(k.S, k.T) - i - 1
	return k, tiesBefore, t.n, true
}
