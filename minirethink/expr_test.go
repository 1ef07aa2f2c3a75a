package minirethink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Expressions through the real driver: arithmetic, comparison, branch,
// default, errors, times and document terms, held to RethinkDB 2.4.4.

// readValue runs q and returns its one result as the driver decodes it.
func readValue(t *testing.T, s *r.Session, q r.Term) any {
	t.Helper()
	var v any
	require.NoError(t, q.ReadOne(&v, s), "%s", q)
	return v
}

// readArray runs q, whose result is an array: the driver hands an array
// result out element by element, as it does a sequence.
func readArray(t *testing.T, s *r.Session, q r.Term) []any {
	t.Helper()
	v := []any{}
	require.NoError(t, q.ReadAll(&v, s), "%s", q)
	return v
}

func TestExpressionValues(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		for _, tc := range []struct {
			name string
			q    r.Term
			want any
		}{
			{"add", r.Expr(1).Add(2, 3), 6.0},
			{"add strings", r.Expr("ab").Add("cd"), "abcd"},
			{"add arrays", r.Expr([]any{1, 2}).Add([]any{3}), []any{1.0, 2.0, 3.0}},
			{"sub", r.Expr(10).Sub(4), 6.0},
			{"mul by -1", r.Expr(7).Mul(-1), -7.0},
			{"mul array", r.Expr([]any{"x"}).Mul(2), []any{"x", "x"}},
			{"div", r.Expr(1).Div(4), 0.25},
			{"mod", r.Expr(-7).Mod(2), -1.0},
			{"round", r.Expr(-0.5).Round(), -1.0},
			{"eq", r.Expr(1).Eq(1, 1), true},
			{"ne", r.Expr(1).Ne(1), false},
			{"gt", r.Expr(2).Gt(1), true},
			{"lt across types", r.Expr(nil).Lt(-2), true},
			{"or returns the deciding value", r.Expr(false).Or("str"), "str"},
			{"and returns the deciding value", r.And(1, 2), 2.0},
			{"not", r.Expr(nil).Not(), true},
			{"branch", r.Branch(false, 1, true, 2, 3), 2.0},
			{"branch else", r.Branch(false, 1, nil, 2, 3), 3.0},
			{"branch does not evaluate the other arms", r.Branch(true, "ok", r.Error("never")), "ok"},
			{"default of a missing field", r.Expr(map[string]any{"a": 1}).Field("b").Default(5), 5.0},
			{"default of null", r.Expr(nil).Default(0).Add(1), 1.0},
			{"default of a present field", r.Expr(map[string]any{"a": 1}).Field("a").Default(5), 1.0},
			{"default function gets the message", r.Expr(map[string]any{}).Field("b").Default(func(e r.Term) r.Term { return e }),
				"No attribute `b` in object:\n{}"},
			{"do", r.Do(1, 2, func(a, b r.Term) r.Term { return a.Add(b) }), 3.0},
			{"type_of", r.Expr([]any{}).TypeOf(), "ARRAY"},
			{"coerce_to string", r.Expr(map[string]any{"b": 1.5, "a": []any{1}}).CoerceTo("string"), `{"a":[1],"b":1.5}`},
			{"coerce_to number", r.Expr("12.5").CoerceTo("number"), 12.5},
			{"coerce_to array", r.Expr(map[string]any{"a": 1}).CoerceTo("array"), []any{[]any{"a", 1.0}}},
			{"uuid of a name", r.UUID("magic"), "97dd10a5-4fc4-554f-86c5-0d2c2e3d5330"},
			{"field", r.Expr(map[string]any{"a": map[string]any{"b": 1}}).Field("a").Field("b"), 1.0},
			{"pluck nested", r.Expr(map[string]any{"a": map[string]any{"b": 1, "c": 2}, "d": 3}).Pluck(map[string]any{"a": "b"}),
				map[string]any{"a": map[string]any{"b": 1.0}}},
			{"without", r.Expr(map[string]any{"a": 1, "top": 2}).Without("top"), map[string]any{"a": 1.0}},
			{"merge", r.Expr(map[string]any{"a": 1, "n": map[string]any{"x": 1}}).Merge(map[string]any{"n": map[string]any{"y": 2}}),
				map[string]any{"a": 1.0, "n": map[string]any{"x": 1.0, "y": 2.0}}},
			{"merge literal", r.Expr(map[string]any{"n": map[string]any{"x": 1}}).Merge(map[string]any{"n": r.Literal(map[string]any{"y": 2})}),
				map[string]any{"n": map[string]any{"y": 2.0}}},
			{"has_fields", r.Expr(map[string]any{"a": 1, "b": nil}).HasFields("a", "b"), false},
			{"keys", r.Expr(map[string]any{"b": 1, "a": 2}).Keys(), []any{"a", "b"}},
			{"values", r.Expr(map[string]any{"b": 1, "a": 2}).Values(), []any{2.0, 1.0}},
			{"object", r.Object("a", 1, "b", 2), map[string]any{"a": 1.0, "b": 2.0}},
			{"contains", r.Expr([]any{1, 2, 3}).Contains(3, func(x r.Term) r.Term { return x.Lt(2) }), true},
			{"append", r.Expr([]any{1}).Append(2), []any{1.0, 2.0}},
			{"prepend", r.Expr([]any{1}).Prepend(0), []any{0.0, 1.0}},
			{"nth through bracket", r.Expr([]any{1, 2, 3}).AtIndex(-1), 3.0},
		} {
			if _, isArray := tc.want.([]any); isArray {
				assert.Equal(t, tc.want, readArray(t, s, tc.q), tc.name)
				continue
			}
			assert.Equal(t, tc.want, readValue(t, s, tc.q), tc.name)
		}
	})
}

func TestExpressionErrors(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)

		err := r.Error("rule broken").Exec(s)
		var user r.RQLUserError
		require.ErrorAs(t, err, &user)
		assert.Contains(t, err.Error(), "rethinkdb: rule broken in:")

		err = r.Expr(1).Add("a").Exec(s)
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Expected type NUMBER but found STRING. in:")

		err = r.Expr(nil).Add(1).Exec(s)
		var missing r.RQLNonExistenceError
		require.ErrorAs(t, err, &missing, "a type error on null is NON_EXISTENCE")
		assert.Contains(t, err.Error(), "rethinkdb: Expected type NUMBER but found NULL. in:")

		err = r.Expr(1).Div(0).Exec(s)
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Cannot divide by zero. in:")

		err = r.Branch(true, 1, true, 2).Exec(s)
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Cannot call `branch` term with an even number of arguments. in:")

		err = r.Expr(map[string]any{}).Field("b").Default(r.Error()).Exec(s)
		require.ErrorAs(t, err, &missing, "default(r.error()) rethrows")
		assert.Contains(t, err.Error(), "rethinkdb: No attribute `b` in object:\n{} in:")

		err = r.Expr("a").Field("b").Exec(s)
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Cannot perform get_field on a non-object non-sequence `\"a\"`. in:")

		// RethinkDB cannot write r.minval as JSON: a QUERY_LOGIC error.
		err = r.Expr([]any{1, r.MinVal}).Exec(s)
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), "rethinkdb: Cannot convert `r.minval` to JSON. in:")
	})
}

func TestTimesThroughTheDriver(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		before := time.Now()

		var now time.Time
		require.NoError(t, r.Now().ReadOne(&now, s))
		assert.WithinDuration(t, before, now, 5*time.Second)
		assert.Equal(t, 0, now.Nanosecond()%int(time.Millisecond), "RethinkDB times are in milliseconds")

		var epoch float64
		require.NoError(t, r.Now().ToEpochTime().ReadOne(&epoch, s))
		assert.InDelta(t, float64(before.UnixMilli())/1000, epoch, 5)

		var same bool
		require.NoError(t, r.Now().Eq(r.Now()).ReadOne(&same, s))
		assert.True(t, same, "r.now() is one instant for the whole query")

		var later time.Time
		require.NoError(t, r.EpochTime(1795341600).Add(90).ReadOne(&later, s))
		assert.True(t, later.Equal(time.Unix(1795341690, 0)), "%v", later)
	})
}

// TestDocumentTermsOnTables: the terms the service uses on stored documents,
// and the transcript's missing-field error.
func TestDocumentTermsOnTables(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.Insert([]any{
			map[string]any{"board": "b", "id": "a", "name": "A", "score": 10},
			map[string]any{"board": "b", "id": "c", "name": "C", "score": 5, "top": []any{"a"}},
		}).RunWrite(s)
		require.NoError(t, err)

		_, err = r.DB(db).Table("players").Get("a").Field("nope").Run(s)
		var missing r.RQLNonExistenceError
		require.ErrorAs(t, err, &missing)
		assert.Equal(t, "rethinkdb: No attribute `nope` in object:\n{\n\t\"board\":\t\"b\",\n\t\"id\":\t\"a\",\n\t\"name\":\t\"A\",\n\t\"score\":\t10\n} in:\n"+
			"r.DB(\""+db+"\").Table(\"players\").Get(\"a\").Field(\"nope\")", err.Error(), "the transcript's runtime error")

		assert.Equal(t, 0.0, readValue(t, s, players.Get("a").Field("seq").Default(0)))
		assert.Equal(t, 0.0, readValue(t, s, players.Get("zz").Field("seq").Default(0)), "a missing document")
		assert.Equal(t, map[string]any{"id": "c", "score": 5.0}, readValue(t, s, players.Get("c").Pluck("id", "score")))

		var ids []string
		require.NoError(t, players.OrderBy(r.OrderByOpts{Index: "id"}).Field("id").ReadAll(&ids, s))
		assert.Equal(t, []string{"a", "c"}, ids)

		var rows []map[string]any
		require.NoError(t, players.OrderBy(r.OrderByOpts{Index: "id"}).Without("top", "name").ReadAll(&rows, s))
		assert.Equal(t, []map[string]any{
			{"board": "b", "id": "a", "score": 10.0},
			{"board": "b", "id": "c", "score": 5.0},
		}, rows, "Without on a stream, as the service lists boards")

		// The service's board update: a branch on a defaulted field.
		doc := []any{"a", "c"}
		setTop := func(board r.Term) any {
			return r.Branch(board.Field("top").Default(nil).Eq(doc),
				nil,
				map[string]any{"top": doc, "seq": board.Field("seq").Default(0).Add(1)})
		}
		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, nil), writeResult(t, s, players.Get("c").Update(setTop)))
		assert.Equal(t, writeCounts(0, 0, 0, 1, 0, 0, nil), writeResult(t, s, players.Get("c").Update(setTop)), "same top")
		assert.Equal(t, 1.0, readValue(t, s, players.Get("c").Field("seq")))

		// The service's score update: r.error in a branch fails the document.
		addScore := func(amount int) r.Term {
			return players.Get("a").Update(func(row r.Term) any {
				score := row.Field("score").Add(amount)
				return r.Branch(
					row.Field("board").Ne("b"), r.Error("other board"),
					score.Gt(100).Or(score.Lt(-100)), r.Error("score out of range"),
					map[string]any{"score": score, "reached_at": r.Now().ToEpochTime()},
				)
			})
		}
		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, nil), writeResult(t, s, addScore(5)))
		assert.Equal(t, writeCounts(0, 0, 0, 0, 0, 1, map[string]any{"first_error": "score out of range"}),
			writeResult(t, s, addScore(1000)))
		assert.Equal(t, 15.0, readValue(t, s, players.Get("a").Field("score")))

		// merge inside an insert conflict function.
		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, nil), writeResult(t, s, players.Insert(
			map[string]any{"id": "a", "score": 1},
			r.InsertOpts{Conflict: func(id, old, nw r.Term) any {
				return old.Merge(map[string]any{"score": old.Field("score").Add(nw.Field("score"))})
			}})))
		assert.Equal(t, 16.0, readValue(t, s, players.Get("a").Field("score")))
	})
}
