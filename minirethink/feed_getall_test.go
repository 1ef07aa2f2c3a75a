package minirethink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Feeds on get_all, as RethinkDB 2.4.4 sends them: a range subscription of
// the keys (src/rdb_protocol/changefeed.cc: range_sub_t, whose copies()
// counts a key once per time get_all was given it, and msg_t::change_t's
// visitor, which pairs the old and new index values).

func TestGetAllFeedBySecondaryIndex(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.IndexCreate("board").RunWrite(s)
		require.NoError(t, err)
		_, err = players.IndexWait("board").Run(s)
		require.NoError(t, err)
		a := map[string]any{"id": "a", "board": "b"}
		c := map[string]any{"id": "c", "board": "c"}
		_, err = players.Insert([]any{a, c, map[string]any{"id": "o", "board": "o"}}).RunWrite(s)
		require.NoError(t, err)

		cur := openChanges(t, s, players.GetAll("b", "c").OptArgs(r.GetAllOpts{Index: "board"}).
			Changes(r.ChangesOpts{IncludeInitial: true, IncludeStates: true}))
		head := changeDocs(t, cur, 4)
		assert.Equal(t, map[string]any{"state": "initializing"}, head[0])
		// RethinkDB does not promise an order for the initial values.
		assert.ElementsMatch(t, []map[string]any{{"new_val": a}, {"new_val": c}}, head[1:3])
		assert.Equal(t, map[string]any{"state": "ready"}, head[3])

		xb := map[string]any{"id": "x", "board": "b"}
		xc := map[string]any{"id": "x", "board": "c"}
		runWrites(t, s,
			players.Insert(xb), // into the keys
			players.Get("x").Update(map[string]any{"board": "c"}),   // from one key to another
			players.Get("x").Update(map[string]any{"board": "o"}),   // out of the keys
			players.Get("o").Update(map[string]any{"score": 1}),     // never in them: nothing
			players.Get("x").Update(map[string]any{"board": "b"}),   // back in
			players.Insert(map[string]any{"id": "p", "board": "o"}), // nothing
			players.Get("x").Delete(),
		)
		assert.Equal(t, []map[string]any{
			{"old_val": nil, "new_val": xb},
			{"old_val": xb, "new_val": xc},
			{"old_val": xc, "new_val": nil},
			{"old_val": nil, "new_val": xb},
			{"old_val": xb, "new_val": nil},
		}, changeDocs(t, cur, 5))
	})
}

func TestGetAllFeedByPrimaryKey(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		a := map[string]any{"id": "a", "score": 1.0}
		_, err := players.Insert([]any{a, map[string]any{"id": "other"}}).RunWrite(s)
		require.NoError(t, err)

		cur := openChanges(t, s, players.GetAll("a", "z").Changes(r.ChangesOpts{IncludeInitial: true}))
		assert.Equal(t, []map[string]any{{"new_val": a}}, changeDocs(t, cur, 1))

		a2 := map[string]any{"id": "a", "score": 2.0}
		z := map[string]any{"id": "z"}
		runWrites(t, s,
			players.Get("other").Update(map[string]any{"x": 1}), // not asked for: nothing
			players.Get("a").Update(map[string]any{"score": 2}),
			players.Insert(z),
			players.Get("z").Delete(),
		)
		assert.Equal(t, []map[string]any{
			{"old_val": a, "new_val": a2},
			{"old_val": nil, "new_val": z},
			{"old_val": z, "new_val": nil},
		}, changeDocs(t, cur, 3))
	})
}

// TestGetAllFeedRepeatedKey: a key given twice counts twice
// (range_sub_t::copies), as get_all itself returns the row twice.
func TestGetAllFeedRepeatedKey(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.IndexCreate("board").RunWrite(s)
		require.NoError(t, err)
		_, err = players.IndexWait("board").Run(s)
		require.NoError(t, err)

		cur := openChanges(t, s, players.GetAll("b", "b").OptArgs(r.GetAllOpts{Index: "board"}).Changes())
		x := map[string]any{"id": "x", "board": "b"}
		_, err = players.Insert(x).RunWrite(s)
		require.NoError(t, err)
		assert.Equal(t, []map[string]any{{"old_val": nil, "new_val": x}, {"old_val": nil, "new_val": x}}, changeDocs(t, cur, 2))

		_, err = players.GetAll("b").OptArgs(r.GetAllOpts{Index: "board"}).Changes(r.ChangesOpts{IncludeOffsets: true}).Run(s)
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Cannot include offsets for range subs. in:")
	})
}
