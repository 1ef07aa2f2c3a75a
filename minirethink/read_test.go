package minirethink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Reads through the real driver, held to RethinkDB 2.4.4 (see
// testdata/transcript-2.4.4.txt, recorded from a real server). A table read without
// an order comes back in no particular order from RethinkDB (its hash
// shards), so those results are compared as sets.

// queryRows runs q and returns every row it gives.
func queryRows(t *testing.T, s *r.Session, q r.Term) []map[string]any {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, q.ReadAll(&rows, s), "%s", q)
	return rows
}

// queryIDs runs q and returns the id of every row it gives.
func queryIDs(t *testing.T, s *r.Session, q r.Term) []any {
	t.Helper()
	ids := []any{}
	for _, row := range queryRows(t, s, q) {
		ids = append(ids, row["id"])
	}
	return ids
}

// readPlayers makes the transcript's table: players with the index
// board_score ([board, score]) and board, A, C and D on board "b" (C at
// 6 after the transcript's update), X on board "q", and one more player on
// "b" whose key is generated. Only X has a team.
func readPlayers(t *testing.T, s *r.Session, db string) r.Term {
	t.Helper()
	players := createTestTable(t, s, db, "players")
	_, err := players.IndexCreateFunc("board_score", func(row r.Term) any {
		return []any{row.Field("board"), row.Field("score")}
	}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.IndexCreate("board").RunWrite(s)
	require.NoError(t, err)
	_, err = players.IndexWait().Run(s)
	require.NoError(t, err)
	_, err = players.Insert([]any{
		map[string]any{"board": "b", "name": "x", "score": 1},
		map[string]any{"board": "b", "id": "a", "name": "A", "score": 10},
		map[string]any{"board": "b", "id": "c", "name": "C", "score": 5},
		map[string]any{"board": "b", "id": "d", "name": "D", "score": 3},
		map[string]any{"board": "q", "id": "x", "name": "X", "score": 50, "team": "red"},
	}).RunWrite(s)
	require.NoError(t, err)
	_, err = players.Get("c").Update(func(p r.Term) any { return map[string]any{"score": p.Field("score").Add(1)} }).RunWrite(s)
	require.NoError(t, err)
	return players
}

var (
	readA = map[string]any{"board": "b", "id": "a", "name": "A", "score": 10.0}
	readC = map[string]any{"board": "b", "id": "c", "name": "C", "score": 6.0}
	readD = map[string]any{"board": "b", "id": "d", "name": "D", "score": 3.0}
	readX = map[string]any{"board": "q", "id": "x", "name": "X", "score": 50.0, "team": "red"}
)

// TestReadTopNAsTranscript replays the transcript's "top-2 through index"
// and count.
func TestReadTopNAsTranscript(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := readPlayers(t, s, db)
		boardB := players.Between([]any{"b", r.MinVal}, []any{"b", r.MaxVal}, r.BetweenOpts{Index: "board_score"})

		assert.Equal(t, []map[string]any{readA, readC},
			queryRows(t, s, boardB.OrderBy(r.OrderByOpts{Index: r.Desc("board_score")}).Limit(2)), "top 2")
		assert.Equal(t, []any{"d", "c", "a"},
			queryIDs(t, s, boardB.OrderBy(r.OrderByOpts{Index: "board_score"}).Filter(r.Row.Field("score").Gt(1))),
			"board b in ascending order")

		var n int
		require.NoError(t, players.Count().ReadOne(&n, s))
		assert.Equal(t, 5, n, "count")
		require.NoError(t, boardB.Count().ReadOne(&n, s))
		assert.Equal(t, 4, n, "count of a between")
		require.NoError(t, players.Count(func(p r.Term) any { return p.Field("score").Gt(5) }).ReadOne(&n, s))
		assert.Equal(t, 3, n, "count with a predicate")
	})
}

func TestReadGetAllByIndex(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := readPlayers(t, s, db)
		assert.ElementsMatch(t, []map[string]any{readX}, queryRows(t, s, players.GetAll("q").OptArgs(r.GetAllOpts{Index: "board"})))
		assert.ElementsMatch(t, []map[string]any{readA, readC, readX},
			queryRows(t, s, players.GetAll("a", "c", "x", "nobody")), "primary keys, one missing")
		assert.ElementsMatch(t, []map[string]any{readA, readA},
			queryRows(t, s, players.GetAll("a", "a")), "a key twice, its row twice")
		assert.Equal(t, []map[string]any{readC},
			queryRows(t, s, players.GetAll([]any{"b", 6}).OptArgs(r.GetAllOpts{Index: "board_score"})), "compound key")
		assert.Empty(t, queryRows(t, s, players.GetAll("nobody").OptArgs(r.GetAllOpts{Index: "board"})))

		_, err := players.GetAll("q").OptArgs(r.GetAllOpts{Index: "nope"}).Run(s)
		var opFailed r.RQLOpFailedError
		require.ErrorAs(t, err, &opFailed)
		assert.Contains(t, err.Error(), "Index `nope` was not found on table `"+db+".players`.")
	})
}

func TestReadBetweenBounds(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		nums := createTestTable(t, s, db, "nums")
		_, err := nums.Insert([]any{map[string]any{"id": 1}, map[string]any{"id": 2}, map[string]any{"id": 3},
			map[string]any{"id": 4}, map[string]any{"id": 5}}).RunWrite(s)
		require.NoError(t, err)
		byID := r.OrderByOpts{Index: "id"}
		tests := []struct {
			name string
			q    r.Term
			want []any
		}{
			{"closed left, open right by default", nums.Between(2, 4), []any{2.0, 3.0}},
			{"closed both", nums.Between(2, 4, r.BetweenOpts{RightBound: "closed"}), []any{2.0, 3.0, 4.0}},
			{"open both", nums.Between(2, 4, r.BetweenOpts{LeftBound: "open"}), []any{3.0}},
			{"open left, closed right", nums.Between(2, 4, r.BetweenOpts{LeftBound: "open", RightBound: "closed"}), []any{3.0, 4.0}},
			{"minval to 3", nums.Between(r.MinVal, 3), []any{1.0, 2.0}},
			{"3 to maxval", nums.Between(3, r.MaxVal), []any{3.0, 4.0, 5.0}},
			{"empty", nums.Between(4, 2), []any{}},
		}
		for _, tt := range tests {
			assert.Equal(t, tt.want, queryIDs(t, s, tt.q.OrderBy(byID)), tt.name)
			assert.ElementsMatch(t, tt.want, queryIDs(t, s, tt.q), tt.name+", unordered")
		}
		_, err = nums.Between(nil, 3).Run(s)
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness.")
	})
}

func TestReadFilterOrderSkipLimit(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := readPlayers(t, s, db)
		assert.ElementsMatch(t, []map[string]any{readX}, queryRows(t, s, players.Filter(map[string]any{"board": "q"})), "object")
		assert.ElementsMatch(t, []any{"a", "c", "x"},
			queryIDs(t, s, players.Filter(r.Row.Field("score").Gt(5))), "function")
		// A missing field fails the row, unless the default says otherwise.
		assert.Equal(t, []any{"x"}, queryIDs(t, s, players.Filter(r.Row.Field("team").Ne("blue"))), "missing field")
		assert.Len(t, queryIDs(t, s, players.Filter(r.Row.Field("team").Ne("blue"), r.FilterOpts{Default: true})), 5, "default true")
		_, err := players.Filter(r.Row.Field("team").Ne("blue"), r.FilterOpts{Default: r.Error()}).Run(s)
		var missing r.RQLNonExistenceError
		require.ErrorAs(t, err, &missing)
		assert.Contains(t, err.Error(), "No attribute `team` in object:")

		byScoreDesc := players.OrderBy(r.Desc("score"))
		assert.Equal(t, []map[string]any{readX, readA, readC, readD}, queryRows(t, s, byScoreDesc.Limit(4)), "order_by desc field")
		assert.Equal(t, []any{"c", "d"}, queryIDs(t, s, byScoreDesc.Skip(2).Limit(2)), "skip then limit")
		assert.Equal(t, []any{"a", "c"}, queryIDs(t, s, byScoreDesc.Slice(1, 3)), "slice")
		assert.Equal(t, []any{"d", "c", "a", "x"},
			queryIDs(t, s, players.OrderBy("score").Filter(r.Row.Field("score").Gt(1))), "order_by field")
		assert.Equal(t, []any{"x", "a"},
			queryIDs(t, s, players.OrderBy(r.OrderByOpts{Index: r.Desc("board_score")}).Limit(2)), "order_by desc index of the table")

		var top map[string]any
		require.NoError(t, byScoreDesc.Nth(0).ReadOne(&top, s))
		assert.Equal(t, readX, top, "nth")

		_, err = players.Limit(-1).Run(s)
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "LIMIT takes a non-negative argument (got -1)")

		_, err = players.Filter(r.Row.Field("score").Gt(1)).OrderBy(r.OrderByOpts{Index: "board"}).Run(s)
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "Indexed order_by can only be performed on a TABLE or TABLE_SLICE.")
	})
}

// TestReadOneOnEmptyResult: the driver's One gives r.ErrEmptyResult for an
// empty sequence and for a missing document (null), whatever the server.
func TestReadOneOnEmptyResult(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := readPlayers(t, s, db)
		var doc map[string]any
		for _, q := range []r.Term{
			players.GetAll("nobody"),
			players.Between("y", "z"),
			players.Filter(map[string]any{"board": "none"}),
			players.OrderBy("score").Limit(0),
			players.Get("nobody"),
		} {
			cur, err := q.Run(s)
			require.NoError(t, err, "%s", q)
			assert.ErrorIs(t, cur.One(&doc), r.ErrEmptyResult, "%s", q)
		}
		cur, err := players.GetAll("a").Run(s)
		require.NoError(t, err)
		require.NoError(t, cur.One(&doc))
		assert.Equal(t, readA, doc)
	})
}
