package minirethink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// include_offsets on top-N feeds, as RethinkDB 2.4.4's limit_sub_t
// (src/rdb_protocol/changefeed.cc) sends them: the initial values best
// first with new_offset 0, 1, ... (maybe_start); each change with the
// leaving row's rank before it leaves as old_offset and the entering
// row's rank once in as new_offset, null where there is no row
// (note_change_impl, vals_to_change). Anywhere else: new_sub's errors.

func TestTopNFeedOffsets(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.IndexCreate("score").RunWrite(s)
		require.NoError(t, err)
		_, err = players.IndexWait("score").Run(s)
		require.NoError(t, err)
		a := map[string]any{"id": "a", "score": 11.0}
		c := map[string]any{"id": "c", "score": 6.0}
		d := map[string]any{"id": "d", "score": 3.0}
		_, err = players.Insert([]any{a, c, d}).RunWrite(s)
		require.NoError(t, err)

		top2 := players.OrderBy(r.OrderByOpts{Index: r.Desc("score")}).Limit(2)
		cur := openChanges(t, s, top2.Changes(r.ChangesOpts{IncludeInitial: true, IncludeOffsets: true, IncludeTypes: true}))
		assert.Equal(t, []map[string]any{
			{"new_val": a, "new_offset": 0.0, "type": "initial"},
			{"new_val": c, "new_offset": 1.0, "type": "initial"},
		}, changeDocs(t, cur, 2))

		// D overtakes both: C leaves from rank 1, D enters at rank 0.
		runWrites(t, s, players.Get("d").Update(map[string]any{"score": 100}))
		d100 := map[string]any{"id": "d", "score": 100.0}
		// D changes in place, at rank 0.
		runWrites(t, s, players.Get("d").Update(map[string]any{"score": 101}))
		d101 := map[string]any{"id": "d", "score": 101.0}
		// A falls below C: A leaves from rank 1, C enters at rank 1.
		runWrites(t, s, players.Get("a").Update(map[string]any{"score": 1}))
		// D goes from rank 0 and A comes back, at rank 1; C, now first,
		// is not sent (ranks are taken as each change moves the rows).
		runWrites(t, s, players.Get("d").Delete())
		a1 := map[string]any{"id": "a", "score": 1.0}
		assert.Equal(t, []map[string]any{
			{"old_val": c, "old_offset": 1.0, "new_val": d100, "new_offset": 0.0, "type": "change"},
			{"old_val": d100, "old_offset": 0.0, "new_val": d101, "new_offset": 0.0, "type": "change"},
			{"old_val": a, "old_offset": 1.0, "new_val": c, "new_offset": 1.0, "type": "change"},
			{"old_val": d101, "old_offset": 0.0, "new_val": a1, "new_offset": 1.0, "type": "change"},
		}, changeDocs(t, cur, 4))

		// With room in the set: an entering row has no old offset, a
		// leaving one no new offset.
		runWrites(t, s, players.Get("c").Delete())
		runWrites(t, s, players.Insert(map[string]any{"id": "e", "score": 50}))
		e := map[string]any{"id": "e", "score": 50.0}
		assert.Equal(t, []map[string]any{
			{"old_val": c, "old_offset": 0.0, "new_val": nil, "new_offset": nil, "type": "remove"},
			{"old_val": nil, "old_offset": nil, "new_val": e, "new_offset": 0.0, "type": "add"},
		}, changeDocs(t, cur, 2))
	})
}

func TestIncludeOffsetsRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		opts := r.ChangesOpts{IncludeOffsets: true}
		for _, tc := range []struct {
			name string
			q    r.Term
			want string
		}{
			{"table", players.Changes(opts), "Cannot include offsets for range subs."},
			{"between", players.Between(1, 5).Changes(opts), "Cannot include offsets for range subs."},
			{"get_all", players.GetAll(1).Changes(opts), "Cannot include offsets for range subs."},
			{"get", players.Get(1).Changes(opts), "Cannot include offsets for point subs."},
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
