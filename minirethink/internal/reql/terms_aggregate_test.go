package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadCountAndIsEmpty(t *testing.T) {
	m := readEngine(t)
	tests := []struct {
		name  string
		query string
		want  any
	}{
		{"table", `[43,[` + players + `]]`, 7.0},
		{"between", `[43,[` + boardB + `]]`, 4.0},
		{"value", `[43,[[2,[1,2,1,[2,[1]]]],1]]`, 2.0},
		{"predicate", `[43,[` + players + `,[69,[[2,[1]],[21,[[31,[[10,[1]],"score"]],5]]]]]]`, 4.0},
		{"predicate object", `[43,[` + players + `,[69,[[2,[1]],{"board":"q"}]]]]`, 2.0},
		{"array", `[43,[[2,[1,2,3]]]]`, 3.0},
		{"string, in code points", `[43,["héllo"]]`, 5.0},
		{"object, its fields", `[43,[{"a":1,"b":2}]]`, 2.0},
		{"binary, its bytes", `[43,[{"$reql_type$":"BINARY","data":"AAECAw=="}]]`, 4.0},
		{"get_all", `[43,[[78,[` + players + `,"a","a","zz"]]]]`, 2.0},
		{"is_empty of a table", `[86,[` + players + `]]`, false},
		{"is_empty of an empty range", `[86,[` + between(nums, "9", maxval, "") + `]]`, true},
		{"is_empty of an empty array", `[86,[[2,[]]]]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, v := runRead(t, m, tt.query)
			assert.Equal(t, Atom, kind)
			assert.Equal(t, tt.want, v)
		})
	}
}
