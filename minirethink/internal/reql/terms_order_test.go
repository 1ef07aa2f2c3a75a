package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

func TestReadOrderBy(t *testing.T) {
	mixed := []map[string]any{
		obj("id", 1.0, "v", "s"), obj("id", 2.0, "v", 5.0), obj("id", 3.0, "v", nil),
		obj("id", 4.0, "v", true), obj("id", 5.0, "v", []any{1.0}), obj("id", 6.0, "v", obj("a", 1.0)),
		obj("id", 7.0), obj("id", 8.0, "v", 2.0), obj("id", 9.0, "v", "a"),
		obj("id", 10.0, "v", map[string]any{"$reql_type$": "TIME", "epoch_time": 1.0, "timezone": "+00:00"}),
	}
	m := readTestEngine(t, map[string][]map[string]any{"mixed": mixed, "nums": {num(1), num(2), num(3)}})
	const mixedT = `[15,["mixed"]]`
	// A table sorted in memory is a SELECTION<ARRAY>, sent as an atom; by
	// an index it is a stream.
	tests := []struct {
		name  string
		query string
		want  []any
		kind  ResultKind
	}{
		// Missing first, then arrays, booleans, null, numbers, objects,
		// times, strings.
		{"field, mixed types", `[41,[` + mixedT + `,"v"]]`, []any{7.0, 5.0, 4.0, 3.0, 8.0, 2.0, 6.0, 10.0, 9.0, 1.0}, Atom},
		{"desc field: missing last", `[41,[` + mixedT + `,[74,["v"]]]]`, []any{1.0, 9.0, 10.0, 6.0, 2.0, 8.0, 3.0, 4.0, 5.0, 7.0}, Atom},
		{"desc function key", `[41,[` + nums + `,[74,[[69,[[2,[1]],[31,[[10,[1]],"id"]]]]]]]]`, []any{3.0, 2.0, 1.0}, Atom},
		{"desc id index", orderByIndex(nums, `[74,["id"]]`), []any{3.0, 2.0, 1.0}, Sequence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, rows := runRead(t, m, tt.query)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.want, ids(rows))
		})
	}

	arrays := []struct {
		name  string
		query string
		want  any
	}{
		{"array by field", `[41,[[2,[{"a":2},{"a":1},{"b":0}]],"a"]]`, []any{obj("b", 0.0), obj("a", 1.0), obj("a", 2.0)}},
		{"array by two keys, stable", `[41,[[2,[{"a":1,"b":2,"i":0},{"a":1,"b":1,"i":1},{"a":0,"b":2,"i":2},{"a":1,"b":1,"i":3}]],"a",[74,["b"]]]]`,
			[]any{obj("a", 0.0, "b", 2.0, "i", 2.0), obj("a", 1.0, "b", 2.0, "i", 0.0), obj("a", 1.0, "b", 1.0, "i", 1.0), obj("a", 1.0, "b", 1.0, "i", 3.0)}},
		{"numbers by identity", `[41,[[2,[3,1,2]],[69,[[2,[1]],[10,[1]]]]]]`, []any{1.0, 2.0, 3.0}},
		{"empty array by index", `[41,[[2,[]]],{"index":"x"}]`, []any{}},
		// A lone row is never compared, so its key is never computed.
		{"one row, key never read", `[41,[[2,[1]],"a"]]`, []any{1.0}},
	}
	for _, tt := range arrays {
		t.Run(tt.name, func(t *testing.T) {
			kind, v := runRead(t, m, tt.query)
			assert.Equal(t, Atom, kind, "an array stays an array")
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestReadOrderByIndexWithKeys(t *testing.T) {
	m := readEngine(t)
	// Index order first; rows with equal index values by the keys.
	_, rows := runRead(t, m, `[41,[`+players+`,[74,["id"]]],{"index":"score"}]`)
	assert.Equal(t, []any{"y", "d", "e", "c", "a", "x"}, ids(rows))
	_, rows = runRead(t, m, `[41,[`+players+`,"id"],{"index":[74,["score"]]}]`)
	assert.Equal(t, []any{"x", "a", "c", "e", "d", "y"}, ids(rows))
}

func TestReadOrderByArrayLimit(t *testing.T) {
	docs := make([]map[string]any, arrayLimit+1)
	for i := range docs {
		docs[i] = num(float64(i))
	}
	m := readTestEngine(t, map[string][]map[string]any{"nums": docs})
	err := runFail(t, m, `[41,[`+nums+`,"id"]]`)
	assert.Equal(t, ql2.Response_RESOURCE_LIMIT, err.Type)
	assert.Equal(t, "Array over size limit `100000`.", err.Msg)
	// Through the index there is no limit to read, only to return.
	kind, v := runRead(t, m, `[43,[`+orderByIndex(nums, `[74,["id"]]`)+`]]`)
	assert.Equal(t, Atom, kind)
	assert.Equal(t, float64(arrayLimit+1), v)
	_, rows := runRead(t, m, limit(orderByIndex(nums, `[74,["id"]]`), 1))
	assert.Equal(t, []any{float64(arrayLimit)}, ids(rows))
}

// order_by without an index sorts in memory into an array_datum_stream_t
// (sort.cc): on a selection the result is a SELECTION<ARRAY>, and what is
// built on it stays an array in disguise (slice_datum_stream_t and the
// transformations keep is_array). Such a result goes out as SUCCESS_ATOM
// (query_cache.cc: seq->as_array), and a non-selection built from it is an
// ARRAY datum (val_t's constructor turns arrays in disguise into datums).
func TestReadSortedSelectionIsAnArray(t *testing.T) {
	m := readEngine(t)
	sorted := `[41,[` + nums + `,[74,["id"]]]]`
	typeOf := func(q string) string { return `[52,[` + q + `]]` }
	for _, tc := range []struct {
		name, query string
		want        any
	}{
		{"order_by", sorted, []any{num(5), num(4), num(3), num(2), num(1)}},
		{"limit", limit(sorted, 2), []any{num(5), num(4)}},
		{"skip", `[70,[` + sorted + `,4]]`, []any{num(1)}},
		{"filter", `[39,[` + sorted + `,{"id":3}]]`, []any{num(3)}},
		{"map", `[38,[` + sorted + `,[69,[[2,[1]],[31,[[10,[1]],"id"]]]]]]`, []any{5.0, 4.0, 3.0, 2.0, 1.0}},
		{"get_field", `[31,[` + limit(sorted, 1) + `,"id"]]`, []any{5.0}},
		{"type_of order_by", typeOf(sorted), "SELECTION<ARRAY>"},
		{"type_of limit", typeOf(limit(sorted, 2)), "SELECTION<ARRAY>"},
		{"type_of filter", typeOf(`[39,[` + sorted + `,{"id":3}]]`), "SELECTION<ARRAY>"},
		{"type_of map", typeOf(`[38,[` + sorted + `,[69,[[2,[1]],1]]]]`), "ARRAY"},
		{"type_of pluck", typeOf(`[33,[` + sorted + `,"id"]]`), "ARRAY"},
		{"still a selection", `[53,[` + limit(sorted, 1) + `,{"x":1}]]`, stats(0, 0, 1, 0, 0, 0, nil)},
	} {
		kind, v := runRead(t, m, tc.query)
		assert.Equal(t, Atom, kind, tc.name)
		assert.Equal(t, tc.want, v, tc.name)
	}
	rerr := runFail(t, m, `[152,[`+limit(sorted, 2)+`]]`)
	assert.Equal(t, ql2.Response_QUERY_LOGIC, rerr.Type)
	assert.Equal(t, "Cannot call `changes` on an eager stream.", rerr.Msg)
	// A selection that is no array stays a stream.
	kind, _ := runRead(t, m, limit(orderByIndex(nums, `"id"`), 2))
	assert.Equal(t, Sequence, kind)
}
