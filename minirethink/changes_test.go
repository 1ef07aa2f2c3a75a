package minirethink

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Changefeeds of the real engine through the real driver, held to what
// RethinkDB 2.4.4 sends (see testdata/transcript-2.4.4.txt, recorded from a real server).
// (feed_test.go tests the protocol side of feeds with a stub engine.)

// openChanges opens a changefeed whose reads give up after a while, so that
// a missing change fails the test instead of hanging it.
func openChanges(t *testing.T, s *r.Session, q r.Term) *r.Cursor {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	cur, err := q.Run(s, r.RunOpts{Context: ctx})
	require.NoError(t, err, "%s", q)
	t.Cleanup(func() { _ = cur.Close() })
	return cur
}

// runWrites runs each write in turn and fails the test at the first error.
func runWrites(t *testing.T, s *r.Session, writes ...r.Term) {
	t.Helper()
	for _, q := range writes {
		_, err := q.RunWrite(s)
		require.NoError(t, err, "%s", q)
	}
}

// changeDocs reads n documents from a feed.
func changeDocs(t *testing.T, cur *r.Cursor, n int) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, n)
	for len(out) < n {
		var doc map[string]any
		if !cur.Next(&doc) {
			require.NoError(t, cur.Err(), "after %d of %d documents", len(out), n)
			require.FailNow(t, "feed ended", "after %d of %d documents", len(out), n)
		}
		out = append(out, doc)
	}
	return out
}

// TestTableFeedCommitOrder: 500 increments from 10 goroutines on 5
// documents; the feed sees each, and per document in the order committed.
func TestTableFeedCommitOrder(t *testing.T) {
	const docs, writers, perWriter = 5, 10, 50
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		for d := range docs {
			_, err := players.Insert(map[string]any{"id": d, "score": 0}).RunWrite(s)
			require.NoError(t, err)
		}
		cur := openChanges(t, s, players.Changes())

		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					_, err := players.Get((w + i) % docs).Update(map[string]any{"score": r.Row.Field("score").Add(1)}).RunWrite(s)
					assert.NoError(t, err)
				}
			}()
		}
		got := changeDocs(t, cur, writers*perWriter)
		wg.Wait()

		last := map[float64]float64{}
		for i, c := range got {
			oldVal, newVal := c["old_val"].(map[string]any), c["new_val"].(map[string]any)
			id := newVal["id"].(float64)
			require.Equal(t, last[id], oldVal["score"], "change %d of document %v", i, id)
			require.Equal(t, last[id]+1, newVal["score"], "change %d of document %v", i, id)
			last[id]++
		}
		for d := range docs {
			assert.Equal(t, float64(writers*perWriter/docs), last[float64(d)], "document %d", d)
		}
	})
}

// TestTopNFeedAsTranscript replays the transcript's top-2 feed: the initial
// top 2 with states and types, then a player overtaking one of them is one
// change, the leaving row as old_val and the entering one as new_val.
func TestTopNFeedAsTranscript(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.IndexCreateFunc("board_score", func(row r.Term) any {
			return []any{row.Field("board"), row.Field("score")}
		}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.IndexWait("board_score").Run(s)
		require.NoError(t, err)
		a := map[string]any{"board": "b", "id": "a", "name": "A", "score": 11.0}
		c := map[string]any{"board": "b", "id": "c", "name": "C", "score": 6.0}
		d := map[string]any{"board": "b", "id": "d", "name": "D", "score": 3.0}
		_, err = players.Insert([]any{a, c, d,
			map[string]any{"board": "b", "name": "x", "score": 1},
			map[string]any{"board": "other", "id": "o", "score": 1000}}).RunWrite(s)
		require.NoError(t, err)

		top2 := players.Between([]any{"b", r.MinVal}, []any{"b", r.MaxVal}, r.BetweenOpts{Index: "board_score"}).
			OrderBy(r.OrderByOpts{Index: r.Desc("board_score")}).Limit(2)
		cur := openChanges(t, s, top2.Changes(r.ChangesOpts{IncludeInitial: true, IncludeStates: true, IncludeTypes: true}))
		assert.Equal(t, []map[string]any{
			{"state": "initializing", "type": "state"},
			{"new_val": a, "type": "initial"},
			{"new_val": c, "type": "initial"},
			{"state": "ready", "type": "state"},
		}, changeDocs(t, cur, 4))

		// Another board's write and a write below the top 2 send nothing;
		// D overtaking C is one change.
		_, err = players.Get("o").Update(map[string]any{"score": 2000}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.Get("d").Update(map[string]any{"score": 4}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.Get("d").Update(map[string]any{"score": 100}).RunWrite(s)
		require.NoError(t, err)
		d100 := map[string]any{"board": "b", "id": "d", "name": "D", "score": 100.0}
		assert.Equal(t, []map[string]any{{"old_val": c, "new_val": d100, "type": "change"}}, changeDocs(t, cur, 1))

		// D changing in place; D leaving, C taking its place back.
		_, err = players.Get("d").Update(map[string]any{"score": 101}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.Get("d").Delete().RunWrite(s)
		require.NoError(t, err)
		d101 := map[string]any{"board": "b", "id": "d", "name": "D", "score": 101.0}
		assert.Equal(t, []map[string]any{
			{"old_val": d100, "new_val": d101, "type": "change"},
			{"old_val": d101, "new_val": c, "type": "change"},
		}, changeDocs(t, cur, 2))
	})
}

func TestFeedInitialValuesAndStates(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		a := map[string]any{"id": "a", "score": 1.0}
		b := map[string]any{"id": "b", "score": 2.0}
		_, err := players.Insert([]any{a, b}).RunWrite(s)
		require.NoError(t, err)

		table := openChanges(t, s, players.Changes(r.ChangesOpts{IncludeInitial: true, IncludeStates: true}))
		point := openChanges(t, s, players.Get("a").Changes(r.ChangesOpts{IncludeInitial: true}))
		states := openChanges(t, s, players.Get("b").Changes(r.ChangesOpts{IncludeStates: true}))

		first := changeDocs(t, table, 4)
		assert.Equal(t, map[string]any{"state": "initializing"}, first[0])
		// RethinkDB does not promise an order for the initial values.
		assert.ElementsMatch(t, []map[string]any{{"new_val": a}, {"new_val": b}}, first[1:3])
		assert.Equal(t, map[string]any{"state": "ready"}, first[3])
		assert.Equal(t, []map[string]any{{"new_val": a}}, changeDocs(t, point, 1))
		assert.Equal(t, []map[string]any{{"state": "ready"}}, changeDocs(t, states, 1))

		_, err = players.Get("a").Update(map[string]any{"score": 5}).RunWrite(s)
		require.NoError(t, err)
		a5 := map[string]any{"id": "a", "score": 5.0}
		assert.Equal(t, []map[string]any{{"old_val": a, "new_val": a5}}, changeDocs(t, table, 1))
		assert.Equal(t, []map[string]any{{"old_val": a, "new_val": a5}}, changeDocs(t, point, 1))

		_, err = players.Get("b").Delete().RunWrite(s)
		require.NoError(t, err)
		assert.Equal(t, []map[string]any{{"old_val": b, "new_val": nil}}, changeDocs(t, states, 1))
	})
}

func TestTableDropAbortsFeed(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.Insert(map[string]any{"id": "a"}).RunWrite(s)
		require.NoError(t, err)
		cur := openChanges(t, s, players.Get("a").Changes(r.ChangesOpts{IncludeInitial: true}))
		assert.Equal(t, []map[string]any{{"new_val": map[string]any{"id": "a"}}}, changeDocs(t, cur, 1))

		_, err = r.DB(db).TableDrop("players").RunWrite(s)
		require.NoError(t, err)
		var doc map[string]any
		assert.False(t, cur.Next(&doc), "the feed ends")
		var opFailed r.RQLOpFailedError
		require.ErrorAs(t, cur.Err(), &opFailed)
		assert.Contains(t, cur.Err().Error(), "rethinkdb: Changefeed aborted (unavailable).")
	})
}
