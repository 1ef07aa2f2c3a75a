package reql

import (
	"strings"
	"testing"
)

func TestArithmetic(t *testing.T) {
	big := "[2,[" + strings.TrimSuffix(strings.Repeat("1,", 50001), ",") + "]]"
	runExprCases(t, New(), []exprCase{
		{name: "add", query: `[24,[1,1]]`, want: 2.0},
		{name: "add one argument", query: `[24,[7]]`, want: 7.0},
		{name: "add fractions", query: `[24,[1.75,8.5]]`, want: 10.25},
		{name: "add variadic", query: `[24,[1,2,3,4,5]]`, want: 15.0},
		{name: "add strings", query: `[24,["a","b","c","d"]]`, want: "abcd"},
		{name: "add arrays", query: `[24,[[2,[1,2]],[2,[3]],[2,[4,5]]]]`, want: []any{1.0, 2.0, 3.0, 4.0, 5.0}},
		{
			name: "add number and string", query: `[24,[1,"a"]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
		{
			name: "add string and number", query: `[24,["a",1]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{
			name: "add array and number", query: `[24,[[2,[]],1]]`,
			errType: logicErr, errMsg: "Expected type ARRAY but found NUMBER.",
		},
		{
			name: "add objects", query: `[24,[{},{}]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found OBJECT.",
		},
		{
			// A type error caused by a null is NON_EXISTENCE, which default
			// catches.
			name: "add null", query: `[24,[null,5]]`,
			errType: nonExistErr, errMsg: "Expected type NUMBER but found NULL.",
		},
		{
			name: "add to null", query: `[24,[5,null]]`,
			errType: nonExistErr, errMsg: "Expected type NUMBER but found NULL.",
		},
		{
			name: "add overflows", query: `[24,[1e308,1e308]]`,
			errType: logicErr, errMsg: "Non-finite number: inf",
		},
		{
			name: "add arrays over the limit", query: `[24,[` + big + `,` + big + `]]`,
			errType: resourceErr, errMsg: "Array over size limit `100000`.",
		},
		{name: "sub", query: `[25,[10,1,2]]`, want: 7.0},
		{
			name: "sub strings", query: `[25,["a",5]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
		{
			name: "sub underflows", query: `[25,[-1e308,1e308]]`,
			errType: logicErr, errMsg: "Non-finite number: -inf",
		},
		{name: "mul", query: `[26,[1.5,4.5]]`, want: 6.75},
		{name: "mul variadic", query: `[26,[1,2,3,4,5]]`, want: 120.0},
		{name: "mul negative", query: `[26,[-1,-1]]`, want: 1.0},
		{name: "mul array", query: `[26,[[2,[1,2]],3]]`, want: []any{1.0, 2.0, 1.0, 2.0, 1.0, 2.0}},
		{name: "mul number by array", query: `[26,[2,[2,[1]],2]]`, want: []any{1.0, 1.0, 1.0, 1.0}},
		{name: "mul array by zero", query: `[26,[[2,[1]],0]]`, want: []any{}},
		{
			name: "mul array by a fraction", query: `[26,[[2,[]],1.5]]`,
			errType: logicErr, errMsg: "Number not an integer: 1.5",
		},
		{
			name: "mul array by a negative number", query: `[26,[[2,[1]],-1]]`,
			errType: logicErr, errMsg: "Cannot multiply an ARRAY by a negative number.",
		},
		{
			name: "mul array over the limit", query: `[26,[` + big + `,2]]`,
			errType: resourceErr, errMsg: "Array over size limit `100000`.",
		},
		{
			name: "mul string", query: `[26,["a",0.8]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
		{name: "div", query: `[27,[4,2]]`, want: 2.0},
		{name: "div to a fraction", query: `[27,[-1,-2]]`, want: 0.5},
		{name: "div variadic", query: `[27,[1,2,3,4,5]]`, want: 1.0 / 120},
		{name: "div by zero", query: `[27,[1,0]]`, errType: logicErr, errMsg: "Cannot divide by zero."},
		{name: "div zero by zero", query: `[27,[0,0]]`, errType: logicErr, errMsg: "Cannot divide by zero."},
		{
			name: "div overflows", query: `[27,[1e308,1e-308]]`,
			errType: logicErr, errMsg: "Non-finite number: inf",
		},
		{name: "mod", query: `[28,[10,3]]`, want: 1.0},
		{name: "mod negative", query: `[28,[-10,-3]]`, want: -1.0},
		{name: "mod takes the sign of the dividend", query: `[28,[-7,2]]`, want: -1.0},
		{name: "mod by zero", query: `[28,[1,0]]`, errType: logicErr, errMsg: "Cannot take a number modulo 0."},
		{
			// RethinkDB quotes numbers in messages with %.20g.
			name: "mod of a fraction", query: `[28,[0.1,1]]`,
			errType: logicErr, errMsg: "Number not an integer: 0.10000000000000000555",
		},
		{
			name: "mod of a huge number", query: `[28,[1e300,1]]`,
			errType: logicErr, errMsg: "Number not an integer (>2^53): 1.0000000000000000525e+300",
		},
		{
			name: "mod of a string", query: `[28,["a",1]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
		{name: "floor", query: `[183,[-0.5]]`, want: -1.0},
		{name: "floor positive", query: `[183,[1.5]]`, want: 1.0},
		{name: "ceil", query: `[184,[0.5]]`, want: 1.0},
		{name: "ceil negative", query: `[184,[-1.5]]`, want: -1.0},
		{name: "round half away from zero", query: `[185,[0.5]]`, want: 1.0},
		{name: "round negative half", query: `[185,[-0.5]]`, want: -1.0},
		{name: "round", query: `[185,[999999999.9]]`, want: 1000000000.0},
		{name: "round huge", query: `[185,[1e20]]`, want: 1e20},
		{
			name: "floor of a string", query: `[183,["X"]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
	})
}
