package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrettyPrinter(t *testing.T) {
	// words is a nest of the words separated by ",", cond_linebreak: a
	// comma-separated list.
	words := func(ws ...string) ppDoc {
		var items ppConcat
		for i, w := range ws {
			if i > 0 {
				items = append(items, jsCommaLinebreak)
			}
			items = append(items, ppText(w))
		}
		return ppNest{child: items}
	}
	tests := []struct {
		name  string
		width uint64
		doc   ppDoc
		want  string
	}{
		{"fits", 20, ppCat(ppText("f("), words("a", "b", "c"), ppText(")")), "f(a, b, c)"},
		{"exactly fits", 10, ppCat(ppText("f("), words("a", "b", "c"), ppText(")")), "f(a, b, c)"},
		{"text after a group does not count towards its fit", 9,
			ppCat(ppText("f("), words("a", "b", "c"), ppText(")")), "f(a, b, c)"},
		{"one over: every break of the group, indented to the nest", 8,
			ppCat(ppText("f("), words("a", "b", "c"), ppText(")")), "f(a,\n  b,\n  c)"},
		{"an inner group that fits stays on its line", 12,
			ppCat(ppText("["), ppNest{child: ppConcat{words("aa", "bb"), jsCommaLinebreak, words("cc", "dd")}}, ppText("]")),
			"[aa, bb,\n cc, dd]"},
		{"a break outside any group is always taken", 80,
			ppCat(ppText("a"), ppCondLinebreak, ppText("b")), "a\nb"},
		{"a cond's tail ends the line and its cont starts the next, at the nest's column", 5,
			ppNestOf(ppText("xx"), ppCond{small: ".", cont: "->", tail: "\\"}, ppText("yyyy")), "xx\\\n->yyyy"},
		{"an unconditional break", 80,
			ppNestOf(ppText("{"), ppNestOf(ppText("  "), ppText("a"), ppBreak{}, ppText("b")), ppBreak{}, ppText("}")),
			"{  a\n b\n}"},
		{"after a break the right edge moves with the line", 14,
			ppCat(ppText("g("), words("aaaa", "bbbb", "cccc"), ppText(")")),
			"g(aaaa,\n  bbbb,\n  cccc)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ppPrint(tt.width, tt.doc))
		})
	}
}
