package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadBetween(t *testing.T) {
	m := readEngine(t)
	tests := []struct {
		name  string
		query string
		want  []any
	}{
		{"default: closed left, open right", between(nums, "2", "4", ""), []any{2.0, 3.0}},
		{"closed both", between(nums, "2", "4", `{"right_bound":"closed"}`), []any{2.0, 3.0, 4.0}},
		{"open both", between(nums, "2", "4", `{"left_bound":"open"}`), []any{3.0}},
		{"open left, closed right", between(nums, "2", "4", `{"left_bound":"open","right_bound":"closed"}`), []any{3.0, 4.0}},
		{"minval to maxval", between(nums, minval, maxval, ""), []any{1.0, 2.0, 3.0, 4.0, 5.0}},
		{"minval to 3", between(nums, minval, "3", ""), []any{1.0, 2.0}},
		{"3 to maxval", between(nums, "3", maxval, ""), []any{3.0, 4.0, 5.0}},
		{"bounds outside the keys", between(nums, "-1", "9", ""), []any{1.0, 2.0, 3.0, 4.0, 5.0}},
		{"empty: equal bounds, right open", between(nums, "3", "3", ""), nil},
		{"equal bounds, both closed", between(nums, "3", "3", `{"right_bound":"closed"}`), []any{3.0}},
		{"empty: left above right", between(nums, "4", "2", `{"right_bound":"closed"}`), nil},
		{"empty: maxval to minval", between(nums, maxval, minval, ""), nil},
		{"primary index named", between(nums, "2", "4", `{"index":"id"}`), []any{2.0, 3.0}},
		{"secondary index", orderByIndex(between(players, "3", "10", `{"index":"score"}`), `"score"`), []any{"d", "c", "e"}},
		{"secondary, closed right", orderByIndex(between(players, "6", "10", `{"index":"score","right_bound":"closed"}`), `"score"`),
			[]any{"c", "e", "a"}},
		{"secondary, open left past ties", orderByIndex(between(players, "6", maxval, `{"index":"score","left_bound":"open"}`), `"score"`),
			[]any{"a", "x"}},
		{"compound: board b from score 6", orderByIndex(between(players, arr(`"b"`, "6"), arr(`"b"`, maxval), `{"index":"board_score"}`), `"board_score"`),
			[]any{"c", "e", "a"}},
		{"compound across boards", orderByIndex(between(players, arr(`"b"`, "6"), arr(`"q"`, "50"), `{"index":"board_score"}`), `"board_score"`),
			[]any{"c", "e", "a", "y"}},
		{"multi index: a row per matching element", between(players, `"red"`, `"red"`, `{"index":"tags","right_bound":"closed"}`),
			[]any{"a", "c", "c"}},
		{"deprecated between: null is unbounded", `[36,[` + nums + `,null,3]]`, []any{1.0, 2.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, rows := runRead(t, m, tt.query)
			assert.Equal(t, Sequence, kind)
			assert.Equal(t, tt.want, ids(rows))
		})
	}
}

func TestReadGetAll(t *testing.T) {
	m := readEngine(t)
	tests := []struct {
		name  string
		query string
		want  []any
	}{
		{"primary keys", `[78,[` + players + `,"c","a"]]`, []any{"a", "c"}},
		{"a missing key yields nothing", `[78,[` + players + `,"zz"]]`, nil},
		{"no keys", `[78,[` + players + `]]`, nil},
		{"a key twice, its row twice", `[78,[` + players + `,"a","zz","a"]]`, []any{"a", "a"}},
		{"primary key by name", `[78,[` + players + `,"a"],{"index":"id"}]`, []any{"a"}},
		{"secondary index", `[78,[` + players + `,6],{"index":"score"}]`, []any{"c", "e"}},
		{"secondary index, several keys", `[78,[` + players + `,6,100,7],{"index":"score"}]`, []any{"c", "e", "x"}},
		{"compound index", `[78,[` + players + `,[2,["b",10]]],{"index":"board_score"}]`, []any{"a"}},
		{"multi index", `[78,[` + players + `,"blue"],{"index":"tags"}]`, []any{"a", "x"}},
		// c's tags are ["red", "red"]: RethinkDB has an index entry per element.
		{"multi index, an element twice", `[78,[` + players + `,"red"],{"index":"tags"}]`, []any{"a", "c", "c"}},
		{"r.minval matches nothing", `[78,[` + players + `,[180,[]]],{"index":"score"}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, rows := runRead(t, m, tt.query)
			assert.Equal(t, Sequence, kind)
			assert.Equal(t, tt.want, ids(rows))
		})
	}
	// A selection: a write may follow.
	assert.Equal(t, stats(0, 0, 2, 0, 0, 0, nil),
		runAtom(t, m, `[53,[[78,[`+players+`,6],{"index":"score"}],{"seen":true}]]`))
	_, rows := runRead(t, m, `[78,[`+players+`,6],{"index":"score"}]`)
	assert.Equal(t, []any{true, true}, []any{rows.([]any)[0].(map[string]any)["seen"], rows.([]any)[1].(map[string]any)["seen"]})
}
