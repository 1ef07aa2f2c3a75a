package minirethink

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Transformations after changes, as RethinkDB 2.4.4 applies them: a
// changefeed is an eager stream (src/rdb_protocol/changefeed.cc: stream_t
// extends eager_datum_stream_t), whose add_transformation
// (datum_stream.cc) runs the transformation on every document the feed
// sends, state documents and initial values included; filter drops a
// document whose predicate meets a missing field (or a null), get_field
// skips one without the field (obj_or_seq.cc: SKIP_MAP).

// feedValues reads n values of any type from a feed.
func feedValues(t *testing.T, cur *r.Cursor, n int) []any {
	t.Helper()
	out := make([]any, 0, n)
	for len(out) < n {
		var v any
		if !cur.Next(&v) {
			require.NoError(t, cur.Err(), "after %d of %d values", len(out), n)
			require.FailNow(t, "feed ended", "after %d of %d values", len(out), n)
		}
		out = append(out, v)
	}
	return out
}

func TestFeedTransformations(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		a5 := map[string]any{"id": "a", "score": 5.0}
		_, err := players.Insert(a5).RunWrite(s)
		require.NoError(t, err)

		states := r.ChangesOpts{IncludeStates: true}
		initial := r.ChangesOpts{IncludeStates: true, IncludeInitial: true}
		filtered := openChanges(t, s, players.Changes(initial).Filter(r.Row.Field("new_val").Field("score").Gt(10)))
		mapped := openChanges(t, s, players.Changes().Map(func(c r.Term) any {
			return []any{c.Field("old_val").Field("score").Default(nil), c.Field("new_val").Field("score").Default(nil)}
		}))
		field := openChanges(t, s, players.Changes(states).Field("new_val"))
		bracket := openChanges(t, s, players.Changes().AtIndex("new_val").AtIndex("score"))
		plucked := openChanges(t, s, players.Changes(states).Pluck("new_val"))
		without := openChanges(t, s, players.Changes(initial).Without("old_val"))
		merged := openChanges(t, s, players.Changes(states).Merge(map[string]any{"seen": true}))
		hasFields := openChanges(t, s, players.Changes(states).HasFields("old_val"))
		chained := openChanges(t, s, players.Changes().Filter(func(c r.Term) r.Term {
			return c.Field("new_val").Ne(nil)
		}).Field("new_val").Pluck("id"))

		// The states and initial values go through the transformation.
		assert.Equal(t, []any{map[string]any{}}, feedValues(t, plucked, 1), "pluck of {state: ready}")
		assert.Equal(t, []any{
			map[string]any{"state": "initializing"}, map[string]any{"new_val": a5}, map[string]any{"state": "ready"},
		}, feedValues(t, without, 3))
		assert.Equal(t, []any{map[string]any{"state": "ready", "seen": true}}, feedValues(t, merged, 1))

		_, err = players.Get("a").Update(map[string]any{"score": 20}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.Insert(map[string]any{"id": "b", "score": 1}).RunWrite(s)
		require.NoError(t, err)
		_, err = players.Get("a").Delete().RunWrite(s)
		require.NoError(t, err)
		a20 := map[string]any{"id": "a", "score": 20.0}
		b1 := map[string]any{"id": "b", "score": 1.0}

		// The filter dropped the states (no new_val), the initial a5, b1,
		// and the delete (null's score is missing); the update passes.
		assert.Equal(t, []any{map[string]any{"old_val": a5, "new_val": a20}}, feedValues(t, filtered, 1))
		assert.Equal(t, []any{[]any{5.0, 20.0}, []any{nil, 1.0}, []any{20.0, nil}}, feedValues(t, mapped, 3))
		assert.Equal(t, []any{a20, b1, nil}, feedValues(t, field, 3), "the state has no new_val: skipped")
		assert.Equal(t, []any{20.0, 1.0}, feedValues(t, bracket, 2), "the delete's null new_val has no score: skipped")
		assert.Equal(t, []any{
			map[string]any{"new_val": a20}, map[string]any{"new_val": b1}, map[string]any{"new_val": nil},
		}, feedValues(t, plucked, 3))
		assert.Equal(t, []any{
			map[string]any{"new_val": a20}, map[string]any{"new_val": b1}, map[string]any{"new_val": nil},
		}, feedValues(t, without, 3))
		assert.Equal(t, []any{
			map[string]any{"old_val": a5, "new_val": a20, "seen": true},
			map[string]any{"old_val": nil, "new_val": b1, "seen": true},
			map[string]any{"old_val": a20, "new_val": nil, "seen": true},
		}, feedValues(t, merged, 3))
		assert.Equal(t, []any{
			map[string]any{"old_val": a5, "new_val": a20}, map[string]any{"old_val": a20, "new_val": nil},
		}, feedValues(t, hasFields, 2), "has_fields: the state and the insert (old_val null) fail it")
		assert.Equal(t, []any{map[string]any{"id": "a"}, map[string]any{"id": "b"}}, feedValues(t, chained, 2))
	})
}

// TestFeedTransformationError: a transformation that fails on a document
// ends the feed with its error, here on the state document.
func TestFeedTransformationError(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		cur, err := players.Changes(r.ChangesOpts{IncludeStates: true}).Map(r.Row.Field("new_val")).
			Run(s, r.RunOpts{Context: ctx})
		if err == nil {
			t.Cleanup(func() { _ = cur.Close() })
			var v any
			require.False(t, cur.Next(&v), "got %v", v)
			err = cur.Err()
		}
		var missing r.RQLNonExistenceError
		require.ErrorAs(t, err, &missing)
		assert.Contains(t, err.Error(), "rethinkdb: No attribute `new_val` in object:\n{\n\t\"state\":\t\"ready\"\n} in:")
	})
}

// TestFeedShapesRefused: what RethinkDB 2.4.4 refuses around changes, with
// its messages (datum_stream.hpp, datum_stream.cc:
// slice_datum_stream_t::get_changespecs, changefeed.cc: stream_t,
// sort.cc).
func TestFeedShapesRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.Insert(map[string]any{"id": "a", "score": 1}).RunWrite(s)
		require.NoError(t, err)
		top := players.OrderBy(r.OrderByOpts{Index: "id"}).Limit(2)
		const afterLimit = "Changefeeds are not supported on queries that have a transformation following a `limit` term.  " +
			"Transformations include terms such as `filter`, `map`, `pluck`, etc.  Consider moving the transformation before the `limit` term."
		const terminal = "Cannot call a terminal (`reduce`, `count`, etc.) on an infinite stream (such as a changefeed)."
		for _, tc := range []struct {
			name string
			q    r.Term
			want string
		}{
			{"changes of changes", players.Changes().Changes(), "Cannot call `changes` on an eager stream."},
			{"changes of a transformed feed", players.Changes().Filter(map[string]any{}).Changes(), "Cannot call `changes` on an eager stream."},
			{"changes of an array", r.Expr([]any{1}).Changes(), "Cannot call `changes` on an eager stream."},
			{"changes of a number", r.Expr(1).Changes(), "Cannot convert NUMBER to SEQUENCE"},
			{"changes of an in-memory sort", players.OrderBy("score").Changes(), "Cannot call `changes` on an eager stream."},
			{"map between limit and changes", top.Map(r.Row.Field("id")).Changes(), afterLimit},
			{"pluck between limit and changes", top.Pluck("id").Changes(), afterLimit},
			{"merge between limit and changes", top.Merge(map[string]any{"x": 1}).Changes(), afterLimit},
			{"order_by after changes", players.Changes().OrderBy("score"), terminal},
			{"count after changes", players.Changes().Count(), terminal},
			{"indexed order_by after changes", players.Changes().OrderBy(r.OrderByOpts{Index: "id"}),
				"Indexed order_by can only be performed on a TABLE or TABLE_SLICE. Make sure order_by comes before any transformations (such as map) or filters."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cur, err := tc.q.Run(s)
				if err == nil {
					_ = cur.Close()
				}
				var logic r.RQLQueryLogicError
				require.ErrorAs(t, err, &logic, "%s", tc.q)
				assert.Contains(t, err.Error(), "rethinkdb: "+tc.want+" in:")
			})
		}
	})
}
