package reql

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/jsonany"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// run evaluates a query given as JSON against m, for engine-level tests.
func run(t *testing.T, m *Memory, query string) (Result, error) {
	t.Helper()
	return m.Run(context.Background(), Query{Term: decoded(query)})
}

// decoded is a term or global optional argument given as JSON decoded as
// the wire decodes it for the engine.
func decoded(s string) any {
	v, err := jsonany.Decode([]byte(s))
	var syntax *jsonany.SyntaxError
	if errors.As(err, &syntax) {
		panic(fmt.Sprintf("%s: %v", s, err))
	}
	if err != nil {
		return BadJSON{Err: err}
	}
	return v
}

func TestCoreTerms(t *testing.T) {
	m := New()
	tests := []struct {
		name  string
		query string
		want  any
	}{
		{"number datum", `1`, 1.0},
		{"array", `[2,[1,"a",[2,[]]]]`, []any{1.0, "a", []any{}}},
		{"object of terms", `{"a":[2,[1]]}`, map[string]any{"a": []any{1.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, m, tt.query)
			require.NoError(t, err)
			assert.Equal(t, Atom, res.Kind)
			assert.Equal(t, tt.want, res.Atom)
		})
	}
}

func TestUnsupportedTermNamesTheTerm(t *testing.T) {
	// SPLIT (149) is a real term we do not implement.
	_, err := run(t, New(), `[149,["a b"]]`)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Contains(t, rerr.Msg, "Term SPLIT")
	assert.Contains(t, rerr.Msg, "not supported")
}

func TestCompare(t *testing.T) {
	// ReQL's order across types: arrays, booleans, null, numbers, objects,
	// binary, times, strings.
	ordered := []any{
		minVal{},
		[]any{1.0}, []any{1.0, 2.0}, false, true, nil, -1.0, 2.0,
		map[string]any{"a": 1.0},
		map[string]any{"$reql_type$": "BINARY", "data": "AA=="},
		map[string]any{"$reql_type$": "TIME", "epoch_time": 1.0, "timezone": "+00:00"},
		"", "a", "b",
		maxVal{},
	}
	for i := range ordered {
		for j := range ordered {
			want := cmp.Compare(i, j)
			assert.Equal(t, want, Compare(ordered[i], ordered[j]), "%v vs %v", ordered[i], ordered[j])
		}
	}
}

// Print is datum_t::print: rapidjson's PrettyWriter with a tab indent, and
// RethinkDB's change to it, a tab after each key's colon
// (src/rapidjson/prettywriter.h). Arrays are laid out like objects, one
// element a line; a string is escaped as rapidjson escapes it, no more.
func TestPrint(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"number", 1.5, "1.5"},
		{"string", "a<b>&\u2028é\"\\\n", "\"a<b>&\u2028é\\\"\\\\\\n\""},
		{"empty array", []any{}, "[]"},
		{"empty object", map[string]any{}, "{}"},
		{"array", []any{1.0, 2.0, 3.0}, "[\n\t1,\n\t2,\n\t3\n]"},
		{"object", obj("b", 1.0, "a", "x"), "{\n\t\"a\":\t\"x\",\n\t\"b\":\t1\n}"},
		{
			"nested", obj("a", []any{obj("b", []any{}), []any{1.0}}),
			"{\n\t\"a\":\t[\n\t\t{\n\t\t\t\"b\":\t[]\n\t\t},\n\t\t[\n\t\t\t1\n\t\t]\n\t]\n}",
		},
	} {
		assert.Equal(t, tc.want, Print(tc.in), tc.name)
	}
}

// make_array and make_obj take datums (as_datum): a table or stream inside
// them is refused, while a single document is its value.
func TestArraysAndObjectsHoldOnlyDatums(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 1.0))
	for _, q := range []string{
		`[2,[` + playersTable + `]]`,
		`{"rows":` + playersTable + `}`,
		`[2,[[71,[` + playersTable + `,1]]]]`,
	} {
		t.Run(q, func(t *testing.T) {
			_, err := run(t, m, q)
			var rerr *Error
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, ql2.Response_QUERY_LOGIC, rerr.Type)
			assert.Contains(t, rerr.Msg, "Expected type DATUM but found ")
		})
	}
	res, err := run(t, m, `[2,[[16,[`+playersTable+`,"a"]]]]`)
	require.NoError(t, err)
	assert.Equal(t, []any{obj("id", "a", "score", 1.0)}, res.Atom)
}

// A term applied to every row (pluck, without, has_fields, get_field)
// checks its input before it evaluates its other arguments, as RethinkDB's
// obj_or_seq terms do: the type error about the input wins.
func TestRowTermsCheckTheirInputFirst(t *testing.T) {
	for _, term := range []string{"33", "34", "32", "31"} { // pluck, without, has_fields, get_field
		t.Run(term, func(t *testing.T) {
			_, err := run(t, New(), `[`+term+`,[1,[12,["x"]]]]`)
			var rerr *Error
			require.ErrorAs(t, err, &rerr)
			assert.Contains(t, rerr.Msg, "Cannot perform", "the input's type error, not the argument's r.error")
		})
	}
	// On a table, the paths (now evaluated once) still apply to every row.
	m, _ := writeTestEngine(t, obj("id", "a", "x", 1.0), obj("id", "b", "x", 2.0))
	assert.Equal(t, []any{obj("x", 1.0), obj("x", 2.0)}, runSeqSorted(t, m, `[33,[`+playersTable+`,"x"]]`))
}

// runSeqSorted runs a query returning rows and sorts them, since a table's
// row order is not part of the answer.
func runSeqSorted(t *testing.T, m *Memory, query string) []any {
	t.Helper()
	res, err := run(t, m, query)
	require.NoError(t, err, query)
	require.Equal(t, Sequence, res.Kind, query)
	rows := append([]any(nil), res.Seq...)
	sort.Slice(rows, func(i, j int) bool { return Compare(rows[i], rows[j]) < 0 })
	return rows
}
