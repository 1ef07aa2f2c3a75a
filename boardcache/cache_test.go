package boardcache_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/boardcache"
	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

func board(seq uint64, top ...models.Player) *models.Board {
	for i := range top {
		top[i].Rank = i + 1
	}
	return &models.Board{ID: "b", Name: "B", Seq: seq, Top: top}
}

func put(c *boardcache.Cache, b *models.Board) { c.Put(b, event.Board(b)) }

func following(topN int) *boardcache.Cache {
	c := boardcache.New(topN)
	c.Following()
	return c
}

func TestGetAnswersThePublishedBoardWithAnETag(t *testing.T) {
	c := following(2)
	_, _, _, ok := c.Get("b")
	assert.False(t, ok, "nothing held")
	put(c, board(0))
	_, _, _, ok = c.Get("b")
	assert.False(t, ok, "seq 0 is a placeholder the listener has not published")

	put(c, board(1, models.Player{ID: "p", Name: "P", Score: 3}))
	body, etag1, _, ok := c.Get("b")
	require.True(t, ok)
	assert.JSONEq(t, `{"id":"b","name":"B","order":"desc","operator":"incr","players":[{"id":"p","name":"P","score":3,"rank":1}]}`, string(body))
	assert.Equal(t, byte('\n'), body[len(body)-1])

	put(c, board(2, models.Player{ID: "p", Name: "P", Score: 4}))
	_, etag2, _, _ := c.Get("b")
	assert.NotEqual(t, etag1, etag2)

	put(c, board(1, models.Player{ID: "p", Name: "P", Score: 3}))
	_, etag, _, _ := c.Get("b")
	assert.Equal(t, etag2, etag, "an older seq never replaces a newer one")

	renamed := board(2, models.Player{ID: "p", Name: "P", Score: 4})
	renamed.Name = "Renamed"
	put(c, renamed)
	_, etag, _, _ = c.Get("b")
	assert.NotEqual(t, etag2, etag, "same seq, other content: another ETag")
}

func TestOwnWritesMissUntilTheTopShowsThem(t *testing.T) {
	c := following(2)
	put(c, board(1, models.Player{ID: "a", Score: 10}, models.Player{ID: "b", Score: 5}))

	c.Wrote("b", "b", 6, false) // b's add: not shown yet
	_, _, _, ok := c.Get("b")
	assert.False(t, ok)
	put(c, board(2, models.Player{ID: "a", Score: 10}, models.Player{ID: "b", Score: 6}))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok, "the top shows the add")

	c.Wrote("b", "c", 6, false) // a new player that ties the lowest: not in a full top
	_, _, _, ok = c.Get("b")
	assert.True(t, ok, "a full top whose lowest score it does not beat already agrees")

	c.Wrote("b", "c", 7, false) // now it beats b
	_, _, _, ok = c.Get("b")
	assert.False(t, ok)
	put(c, board(3, models.Player{ID: "a", Score: 10}, models.Player{ID: "c", Score: 7}))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok)

	c.Wrote("b", "a", 0, true) // deleted
	_, _, _, ok = c.Get("b")
	assert.False(t, ok)
	put(c, board(4, models.Player{ID: "c", Score: 7}))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok)

	c.Wrote("b", "d", 1, false) // a top that is not full lacks no one
	_, _, _, ok = c.Get("b")
	assert.False(t, ok)
}

// A board where lower scores rank higher: the top's order says so.
func TestOwnWritesOnABoardSortedAscending(t *testing.T) {
	c := following(2)
	put(c, board(1, models.Player{ID: "a", Score: 3}, models.Player{ID: "b", Score: 8}))
	c.Wrote("b", "c", 9, false) // worse than the worst: not in the top
	_, _, _, ok := c.Get("b")
	assert.True(t, ok)
	c.Wrote("b", "c", 5, false) // better than b: must show
	_, _, _, ok = c.Get("b")
	assert.False(t, ok)
	put(c, board(2, models.Player{ID: "a", Score: 3}, models.Player{ID: "c", Score: 5}))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok)
}

func TestResetDeleteAndFill(t *testing.T) {
	c := boardcache.New(2)
	put(c, board(1))
	_, _, _, ok := c.Get("b")
	assert.False(t, ok, "not answering until Following")
	c.Following()
	_, _, gen, ok := c.Get("b")
	require.True(t, ok)

	c.Reset()
	_, _, gen, ok = c.Get("b")
	assert.False(t, ok)
	c.Following()
	_, _, gen, ok = c.Get("b")
	assert.False(t, ok, "Reset empties")

	c.Delete("b")
	c.Fill(gen, board(1)) // read before the delete
	_, _, gen, ok = c.Get("b")
	assert.False(t, ok, "a fill that raced a delete is dropped")

	c.Fill(gen, board(1))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok)
}

func TestDeletedThroughThisProcess(t *testing.T) {
	c := boardcache.New(2)
	c.Following()
	put(c, board(1))
	_, _, _, ok := c.Get("b")
	require.True(t, ok)

	c.Deleted("b")
	_, _, gen, ok := c.Get("b")
	assert.False(t, ok, "a board deleted here is not answered")
	put(c, board(2)) // the feed, still carrying a change from before the delete
	_, _, _, ok = c.Get("b")
	assert.False(t, ok, "what the feed carried from before the delete is ignored")
	c.Fill(gen, board(2))
	_, _, _, ok = c.Get("b")
	assert.False(t, ok)

	c.Delete("b") // the feed reports the deletion
	put(c, board(3))
	_, _, _, ok = c.Get("b")
	assert.True(t, ok, "after the feed's report, a board of that id is answered again")
}
