// Package boardcache keeps, in a web process, the boards it follows through
// the boards changefeed (relay), as GET /boards/{board}/ shows them: the
// materialized top N the listener last wrote, encoded once, with an ETag. It
// lets GET of a board be answered from memory.
//
// Consistency: an answer from the cache is the board as streams show it, at
// most one publish interval plus a changefeed hop behind the players table.
// Writes made through this process are read back at once: a score-add, a
// player create or delete marks the board pending (Wrote) until the
// materialized top reflects the write, and until then Get misses, so the
// caller reads the live index; a board deleted here is not answered again
// (Deleted). Writes through another process or straight to
// the database reach the cache with the listener's next publish.
package boardcache

import (
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

// maxPending bounds the writes waiting to be seen per board; past it the board
// is read live until the cache is reset.
const maxPending = 4096

// maxDeleted bounds the boards deleted through this process that the feed
// has not reported gone yet.
const maxDeleted = 4096

// Cache is safe for concurrent use. Its zero value is not; call New.
type Cache struct {
	topN int

	mu sync.RWMutex
	// gen grows at every Delete and Reset, so a Fill that read the database
	// before one of those cannot bring back what it removed.
	gen       uint64
	following bool
	boards    map[string]*entry
	// pending are the writes made through this process that the board's
	// cached top does not show yet: player id to score (absent: deleted).
	pending map[string]map[string]want
	// deleted are the boards deleted through this process (Deleted) whose
	// deletion the changefeed has not carried yet: until it does, what the
	// feed carries of them is older than the delete.
	deleted map[string]struct{}
}

type entry struct {
	seq    uint64
	body   []byte // the JSON answer, newline included
	etag   string
	scores map[string]int64 // the top's players
	full   bool             // the top holds topN players
	// best and worst are the first and last scores of the top, which is
	// ordered best first: they say which way the board sorts.
	best, worst int64
}

type want struct {
	score  int64
	absent bool
}

// New returns an empty cache for tops of topN players (TOP_N).
func New(topN int) *Cache {
	return &Cache{topN: topN, boards: map[string]*entry{}, pending: map[string]map[string]want{}, deleted: map[string]struct{}{}}
}

// Reset empties the cache and stops answering until Following: the
// changefeed was lost, and what it would have carried meanwhile is unknown.
func (c *Cache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.following = false
	clear(c.boards)
	clear(c.pending)
	clear(c.deleted)
}

// Following says the changefeed is open again: boards put from now on are
// current.
func (c *Cache) Following() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.following = true
}

// Put stores b, as the changefeed carried it, unless the cache holds a newer
// seq. ev is b's event (event.Board), whose data is the answer's body.
func (c *Cache) Put(b *models.Board, ev event.Event) {
	e := newEntry(b, ev, c.topN)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(b.ID, e)
}

func (c *Cache) put(id string, e *entry) {
	if old := c.boards[id]; old != nil && old.seq > e.seq {
		return
	}
	if _, gone := c.deleted[id]; gone {
		return
	}
	c.boards[id] = e
	if p := c.pending[id]; p != nil {
		for player, w := range p {
			if e.shows(player, w) {
				delete(p, player)
			}
		}
		if len(p) == 0 {
			delete(c.pending, id)
		}
	}
}

// Delete forgets a board the changefeed reported deleted.
func (c *Cache) Delete(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.boards, id)
	delete(c.pending, id)
	delete(c.deleted, id)
}

// Deleted records that this process deleted a board: it is no longer
// answered, even from what the changefeed carries of it before it carries
// the deletion (Delete).
func (c *Cache) Deleted(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.boards, id)
	delete(c.pending, id)
	if len(c.deleted) >= maxDeleted {
		// Deletions whose feed report came before Deleted; the feed has
		// long passed what it held of those boards.
		clear(c.deleted)
	}
	c.deleted[id] = struct{}{}
}

// Get returns the board's answer and ETag when the cache can give it: the
// feed is followed, the board is held and published, and no write made through this
// process is missing from it. On a miss it returns the generation to give
// Fill.
func (c *Cache) Get(id string) (body []byte, etag string, gen uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.boards[id]
	// Seq 0 is a board the listener has not published yet: its top is a
	// placeholder.
	if !c.following || e == nil || e.seq == 0 || c.pending[id] != nil {
		return nil, "", c.gen, false
	}
	return e.body, e.etag, c.gen, true
}

// Fill stores a board read from the database after a miss, unless a Delete
// or Reset came in between (gen changed) or the cache already has it.
func (c *Cache) Fill(gen uint64, b *models.Board) {
	c.mu.RLock()
	skip := !c.following || c.gen != gen || c.boards[b.ID] != nil
	c.mu.RUnlock()
	if skip {
		return
	}
	e := newEntry(b, event.Board(b), c.topN)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.following && c.gen == gen {
		c.put(b.ID, e)
	}
}

// Wrote records that this process changed player's standing on board: a
// score-add or create left it at score, or a delete removed it (absent).
// Until the cached top shows it, Get misses.
func (c *Cache) Wrote(board, player string, score int64, absent bool) {
	w := want{score: score, absent: absent}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.boards[board]; e != nil && e.shows(player, w) {
		return
	}
	p := c.pending[board]
	if p == nil {
		p = map[string]want{}
		c.pending[board] = p
	}
	if len(p) >= maxPending {
		delete(c.boards, board) // read live, and filled again once caught up
		clear(p)
	}
	p[player] = w
}

// shows reports whether the top agrees with w: the player is in it with that
// score, or is not in it and could not be (deleted, or a full top whose
// worst score it does not beat: at equal scores who got there first ranks
// higher, and the write just got there). The top's order tells which side is
// worse; a top of equal scores only tells that a score equal to them is not
// better.
func (e *entry) shows(player string, w want) bool {
	score, in := e.scores[player]
	switch {
	case w.absent:
		return !in
	case in:
		return score == w.score
	case !e.full:
		return false
	case e.best > e.worst: // higher is better
		return w.score <= e.worst
	case e.best < e.worst: // lower is better
		return w.score >= e.worst
	default:
		return w.score == e.worst
	}
}

func newEntry(b *models.Board, ev event.Event, topN int) *entry {
	e := &entry{seq: b.Seq, scores: make(map[string]int64, len(b.Top)), full: len(b.Top) >= topN}
	e.body = append(append(make([]byte, 0, len(ev.Data)+1), ev.Data...), '\n')
	for _, p := range b.Top {
		e.scores[p.ID] = p.Score
	}
	if n := len(b.Top); n > 0 {
		e.best, e.worst = b.Top[0].Score, b.Top[n-1].Score
	}
	h := fnv.New64a()
	_, _ = h.Write(e.body)
	e.etag = `"` + strconv.FormatUint(b.Seq, 10) + "-" + strconv.FormatUint(h.Sum64(), 36) + `"`
	return e
}
