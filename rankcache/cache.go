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
// the models count in the database instead. A rank is only answered for a
// player whose exact index entry (score, time reached, id) the cache holds,
// so a player's own write that the feed has not yet brought is waited for
// (briefly), never answered from the previous score.
package rankcache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/models"
)

// Wait is how long a rank question waits for the feed to bring the entry
// it asks about before the caller falls back to counting.
const Wait = 200 * time.Millisecond

// Cache is one process's standings of every board.
type Cache struct {
	mu     sync.RWMutex
	boards map[string]*tree
	ready  bool
	// changed, when not nil, is closed at the next change applied: a
	// question waiting for an entry takes it.
	changed chan struct{}
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
		n += t.n
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
	building := map[string]*tree{}
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
	c.mu.Lock()
	c.boards, c.ready = building, true
	c.wakeLocked()
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
		c.wakeLocked()
		c.mu.Unlock()
	}
}

// apply makes one change to boards.
func apply(boards map[string]*tree, ch models.StandingChange) {
	if o := ch.Old; o != nil {
		if t := boards[o.Board]; t != nil {
			t.delete(o.Key)
			if t.n == 0 {
				delete(boards, o.Board)
			}
		}
	}
	if n := ch.New; n != nil {
		t := boards[n.Board]
		if t == nil {
			t = newTree()
			boards[n.Board] = t
		}
		t.insert(n.Key)
	}
}

func (c *Cache) wakeLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

func (c *Cache) setUnready() {
	c.mu.Lock()
	c.ready, c.boards = false, nil
	c.wakeLocked()
	c.mu.Unlock()
}

var errNotReady = errors.New("rank cache not ready")

// withEntry runs f under the read lock once the cache holds entry k of
// board, waiting up to Wait for the feed to bring it.
func (c *Cache) withEntry(ctx context.Context, board string, k models.EntryKey, f func(t *tree)) error {
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	for {
		c.mu.RLock()
		if !c.ready {
			c.mu.RUnlock()
			return errNotReady
		}
		if t := c.boards[board]; t != nil && t.contains(k) {
			f(t)
			c.mu.RUnlock()
			return nil
		}
		c.mu.RUnlock()
		c.mu.Lock()
		if t := c.boards[board]; !c.ready || (t != nil && t.contains(k)) {
			c.mu.Unlock()
			continue // it changed meanwhile: look again
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		wait := c.changed
		c.mu.Unlock()
		select {
		case <-wait:
		case <-timer.C:
			return errNotReady
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Rank implements models.Ranker.
func (c *Cache) Rank(ctx context.Context, board string, k models.EntryKey) (rank int, ok bool) {
	err := c.withEntry(ctx, board, k, func(t *tree) { rank = t.rank(k) })
	return rank, err == nil
}

// Position implements models.Ranker.
func (c *Cache) Position(ctx context.Context, board string, k models.EntryKey) (pos, rank int, ok bool) {
	err := c.withEntry(ctx, board, k, func(t *tree) {
		pos = t.n - 1 - t.countLess(k)
		rank = t.rank(k)
	})
	return pos, rank, err == nil
}

// At implements models.Ranker.
func (c *Cache) At(board string, pos int) (k models.EntryKey, tiesBefore, n int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return k, 0, 0, false
	}
	t := c.boards[board]
	if t == nil {
		return k, 0, 0, true
	}
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
