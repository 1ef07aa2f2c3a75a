package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadFilter(t *testing.T) {
	m := readEngine(t)
	scoreAbove5 := `[69,[[2,[1]],[21,[[31,[[10,[1]],"score"]],5]]]]`
	tests := []struct {
		name  string
		query string
		kind  ResultKind
		want  any
	}{
		{"object predicate", `[39,[` + players + `,{"board":"q"}]]`, Sequence, []any{pX, pY}},
		{"object predicate, several fields", `[39,[` + players + `,{"board":"b","score":6}]]`, Sequence, []any{pC, pE}},
		{"object predicate, missing field: no match", `[39,[` + players + `,{"tags":[2,["blue"]]}]]`, Sequence, []any{pX}},
		// n has no score: the predicate's missing value makes it fail.
		{"function predicate, missing field", `[39,[` + players + `,` + scoreAbove5 + `]]`, Sequence, []any{pA, pC, pE, pX}},
		{"default true keeps it", `[39,[` + players + `,` + scoreAbove5 + `],{"default":true}]`, Sequence, []any{pA, pC, pE, pN, pX}},
		{"default false", `[39,[` + players + `,` + scoreAbove5 + `],{"default":false}]`, Sequence, []any{pA, pC, pE, pX}},
		{"nested object predicate", `[39,[[2,[{"a":{"b":1,"c":2}},{"a":{"b":2}},{"a":3}]],{"a":{"b":1}}]]`, Atom,
			[]any{obj("a", obj("b", 1.0, "c", 2.0))}},
		{"function returning an object matches it", `[39,[[2,[{"a":1,"b":1},{"a":2}]],[69,[[2,[1]],{"a":1}]]]]`, Atom,
			[]any{obj("a", 1.0, "b", 1.0)}},
		{"truthy predicate", `[39,[[2,[1,null,false,0,"x"]],[69,[[2,[1]],[10,[1]]]]]]`, Atom, []any{1.0, 0.0, "x"}},
		{"constant predicate", `[39,[[2,[1,2]],true]]`, Atom, []any{1.0, 2.0}},
		{"filter of a range", `[39,[` + boardB + `,{"score":6}]]`, Sequence, []any{pC, pE}},
		{"default in a variable", `[64,[[69,[[2,[7]],[39,[` + players + `,` + scoreAbove5 + `],{"default":[10,[7]]}]]],true]]`, Sequence,
			[]any{pA, pC, pE, pN, pX}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, v := runRead(t, m, tt.query)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestReadMap(t *testing.T) {
	m := readEngine(t)
	field := func(f string) string { return `[69,[[2,[1]],[31,[[10,[1]],"` + f + `"]]]]` }
	tests := []struct {
		name  string
		query string
		kind  ResultKind
		want  any
	}{
		{"table", `[38,[` + orderByIndex(nums, `"id"`) + `,[69,[[2,[1]],[31,[[10,[1]],"id"]]]]]]`, Sequence, []any{1.0, 2.0, 3.0, 4.0, 5.0}},
		{"array", `[38,[[2,[{"a":1},{"a":2}]],` + field("a") + `]]`, Atom, []any{1.0, 2.0}},
		{"two arrays, as long as the shorter", `[38,[[2,[1,2,3]],[2,["a","b"]],[69,[[2,[1,2]],[2,[[10,[1]],[10,[2]]]]]]]]`, Atom,
			[]any{[]any{1.0, "a"}, []any{2.0, "b"}}},
		{"a table and an array", `[38,[` + orderByIndex(nums, `"id"`) + `,[2,["x","y"]],[69,[[2,[1,2]],[10,[2]]]]]]`, Sequence,
			[]any{"x", "y"}},
		{"limit of a map", limit(`[38,[`+orderByIndex(nums, `[74,["id"]]`)+`,`+field("id")+`]]`, 2), Sequence, []any{5.0, 4.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, v := runRead(t, m, tt.query)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.want, v)
		})
	}
}
