package reql

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSIndexFunction(t *testing.T) {
	tests := []struct {
		name string
		fn   string // a FUNC term
		want string
	}{
		{"transcript compound", boardScoreFunc,
			`function(var1) { return r.expr([var1.getField("board"), var1.getField("score")]); }`},
		{"the service's rank index: 96 columns, broken after each element", `[69,[[2,[3]],[2,[[31,[[10,[3]],"board"]],[31,[[10,[3]],"score"]],[26,[[31,[[10,[3]],"reached_at"]],-1]]]]]]`,
			"function(var3) { return r.expr([var3.getField(\"board\"),\n" +
				"        var3.getField(\"score\"),\n" +
				"        r.mul(var3.getField(\"reached_at\"), -1)]); }"},
		{"field of index_create(name)", `[69,[[2,[-19]],[31,[[10,[-19]],"board"]]]]`,
			`function(_var19) { return _var19.getField("board"); }`},
		{"bracket", `[69,[[2,[1]],[170,[[10,[1]],"board"]]]]`,
			`function(var1) { return var1("board"); }`},
		{"r.row", `[69,[[2,[1]],[170,[[13],"a"]]]]`, `function(var1) { return r.row("a"); }`},
		{"string datum", `[69,[[2,[1]],"x"]]`, `function(var1) { return r.expr("x"); }`},
		{"fraction", `[69,[[2,[1]],[24,[[31,[[10,[1]],"a"]],1.5]]]]`,
			`function(var1) { return r.add(var1.getField("a"), 1.500000); }`},
		{"method chain", `[69,[[2,[1]],[45,[[31,[[10,[1]],"tags"]],0]]]]`,
			`function(var1) { return var1.getField("tags").nth(0); }`},
		{"object at the top", `[69,[[2,[1]],{"a":[10,[1]],"b":true}]]`,
			`function(var1) { return r.object("a", var1, "b", true); }`},
		{"object in an array", `[69,[[2,[1]],[2,[{"a":null}]]]]`,
			`function(var1) { return r.expr([{"a": null}]); }`},
		{"do with one argument", `[69,[[2,[1]],[64,[[69,[[2,[2]],[10,[2]]]],[10,[1]]]]]]`,
			// to_js_func's line breaks are unconditional: "return" is
			// indented under "tion", "}" under "func".
			"function(var1) { return var1.do(function (var2) {\n" +
				"            return var2;\n" +
				"        }); }"},
		{"chain on a call", `[69,[[2,[1]],[31,[[24,[1,2]],"a"]]]]`,
			`function(var1) { return r.add(1, 2).getField("a"); }`},
		{"branch", `[69,[[2,[1]],[65,[[17,[[10,[1]],1]],"a","b"]]]]`,
			`function(var1) { return r.branch(r.eq(var1, 1), "a", "b"); }`},
		{"optional arguments", `[69,[[2,[1]],[182,[[10,[1]],1,2],{"right_bound":"closed"}]]]`,
			`function(var1) { return var1.between(1, 2, {"rightBound": "closed"}); }`},
		{"constant", `[69,[[2,[1]],[180]]]`, `function(var1) { return r.minval; }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw any
			require.NoError(t, json.Unmarshal([]byte(tt.fn), &raw))
			term, err := parseTerm(raw, 0)
			require.NoError(t, err)
			ec := &evalCtx{ctx: t.Context(), m: New()}
			f, err := ec.function(term)
			require.NoError(t, err)
			assert.Equal(t, tt.want, jsIndexFunction(f))
			def, err := json.Marshal(termJSON(funcTerm(f)))
			require.NoError(t, err)
			assert.JSONEq(t, tt.fn, string(def), "termJSON is parseTerm's inverse")
		})
	}
}
