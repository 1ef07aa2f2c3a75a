package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadSlicing(t *testing.T) {
	m := readEngine(t)
	a := `[2,[1,2,3,4]]`
	nums3 := orderByIndex(nums, `"id"`)
	tests := []struct {
		name  string
		query string
		kind  ResultKind
		want  any
	}{
		{"limit array", `[71,[` + a + `,2]]`, Atom, []any{1.0, 2.0}},
		{"limit array past its end", `[71,[` + a + `,9]]`, Atom, []any{1.0, 2.0, 3.0, 4.0}},
		{"limit 0", `[71,[` + a + `,0]]`, Atom, []any{}},
		{"skip array", `[70,[` + a + `,1]]`, Atom, []any{2.0, 3.0, 4.0}},
		{"skip array past its end", `[70,[` + a + `,9]]`, Atom, []any{}},
		{"skip array, negative", `[70,[` + a + `,-1]]`, Atom, []any{4.0}},
		{"slice array", `[30,[` + a + `,1,3]]`, Atom, []any{2.0, 3.0}},
		{"slice array, closed right", `[30,[` + a + `,1,2],{"right_bound":"closed"}]`, Atom, []any{2.0, 3.0}},
		{"slice array, open left", `[30,[` + a + `,1,3],{"left_bound":"open"}]`, Atom, []any{3.0}},
		{"slice array to the end", `[30,[` + a + `,2]]`, Atom, []any{3.0, 4.0}},
		{"slice array, negative indexes", `[30,[` + a + `,-3,-1]]`, Atom, []any{2.0, 3.0}},
		{"slice array, left before the start", `[30,[` + a + `,-9,2]]`, Atom, []any{1.0, 2.0}},
		{"slice array, right before the start", `[30,[` + a + `,0,-9]]`, Atom, []any{}},
		{"slice array, empty", `[30,[` + a + `,3,1]]`, Atom, []any{}},
		{"slice string", `[30,["héllo",1,3]]`, Atom, "él"},
		{"slice binary", `[30,[{"$reql_type$":"BINARY","data":"AAECAw=="},1,3]]`, Atom, map[string]any{"$reql_type$": "BINARY", "data": "AQI="}},
		{"nth", `[45,[` + a + `,1]]`, Atom, 2.0},
		{"nth negative", `[45,[` + a + `,-1]]`, Atom, 4.0},
		{"limit stream", limit(nums3, 2), Sequence, []any{num(1), num(2)}},
		{"skip stream", `[70,[` + nums3 + `,3]]`, Sequence, []any{num(4), num(5)}},
		{"skip then limit", limit(`[70,[`+nums3+`,1]]`, 2), Sequence, []any{num(2), num(3)}},
		{"slice stream", `[30,[` + nums3 + `,1,3]]`, Sequence, []any{num(2), num(3)}},
		{"slice stream, closed right", `[30,[` + nums3 + `,1,3],{"right_bound":"closed"}]`, Sequence, []any{num(2), num(3), num(4)}},
		{"slice stream to the end", `[30,[` + nums3 + `,3]]`, Sequence, []any{num(4), num(5)}},
		{"slice stream to -1 closed", `[30,[` + nums3 + `,3,-1],{"right_bound":"closed"}]`, Sequence, []any{num(4), num(5)}},
		{"nth stream", `[45,[` + nums3 + `,1]]`, Atom, num(2)},
		{"nth stream, last", `[45,[` + nums3 + `,-1]]`, Atom, num(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, v := runRead(t, m, tt.query)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.want, v)
		})
	}
	// nth of a selection is a document that can be written.
	assert.Equal(t, stats(0, 1, 0, 0, 0, 0, nil), runAtom(t, m, `[54,[[45,[`+nums3+`,0]]]]`))
	_, rows := runRead(t, m, nums3)
	assert.Equal(t, []any{2.0, 3.0, 4.0, 5.0}, ids(rows))
}
