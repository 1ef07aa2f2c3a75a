package reql

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// exprCase is one query and what RethinkDB 2.4 answers: a value, or an error
// of a type with a message.
type exprCase struct {
	name    string
	query   string
	want    any
	errType ql2.Response_ErrorType // 0: the query succeeds
	errMsg  string
}

// Error types, short for the tables below.
const (
	logicErr    = ql2.Response_QUERY_LOGIC
	nonExistErr = ql2.Response_NON_EXISTENCE
	userErr     = ql2.Response_USER
	resourceErr = ql2.Response_RESOURCE_LIMIT
)

// runExprCases runs each case against m as a subtest.
func runExprCases(t *testing.T, m *Memory, cases []exprCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, m, tc.query)
			if tc.errType == 0 {
				require.NoError(t, err, tc.query)
				if res.Kind == Sequence {
					assert.Equal(t, tc.want, res.Seq, tc.query)
					return
				}
				require.Equal(t, Atom, res.Kind, tc.query)
				assert.Equal(t, tc.want, res.Atom, tc.query)
				return
			}
			var rerr *Error
			require.True(t, errors.As(err, &rerr), "%s: want an error, got %v (%v)", tc.query, res.Atom, err)
			assert.Equal(t, ql2.Response_RUNTIME_ERROR, rerr.Response, tc.query)
			assert.Equal(t, tc.errType, rerr.Type, tc.query)
			assert.Equal(t, tc.errMsg, rerr.Msg, tc.query)
		})
	}
}

func TestComparison(t *testing.T) {
	m, _ := writeTestEngine(t)
	runExprCases(t, m, []exprCase{
		{name: "eq", query: `[17,[2,2]]`, want: true},
		{name: "eq false", query: `[17,[1,2]]`, want: false},
		{name: "eq variadic", query: `[17,[1,1,1]]`, want: true},
		{name: "eq variadic false", query: `[17,[1,2,1]]`, want: false},
		{name: "ne", query: `[18,[1,2]]`, want: true},
		{name: "ne equal", query: `[18,[2,2]]`, want: false},
		// ne is "not all equal", not "all different".
		{name: "ne variadic", query: `[18,[1,3,2,3]]`, want: true},
		{name: "ne variadic all equal", query: `[18,[3,3,3]]`, want: false},
		{name: "lt", query: `[19,[1,2]]`, want: true},
		{name: "lt equal", query: `[19,[2,2]]`, want: false},
		{name: "lt chain", query: `[19,[1,2,3,4]]`, want: true},
		{name: "lt chain broken", query: `[19,[1,2,3,2]]`, want: false},
		{name: "le chain", query: `[20,[1,1,2,2]]`, want: true},
		{name: "le chain broken", query: `[20,[1,1,3,2]]`, want: false},
		{name: "gt chain", query: `[21,[4,3,2,1]]`, want: true},
		{name: "ge chain", query: `[22,[4,4,2,2]]`, want: true},
		{name: "ge chain broken", query: `[22,[4,4,2,3]]`, want: false},
		{name: "strings by code point", query: `[19,["abcdef","abcdeg"]]`, want: true},
		{name: "arrays lexicographic", query: `[19,[[2,[1,0]],[2,[1]]]]`, want: false},
		{name: "objects equal regardless of order", query: `[17,[{"a":0,"b":1},{"b":1,"a":0}]]`, want: true},
		{name: "objects compare by sorted pairs", query: `[19,[{"a":1},{"b":0}]]`, want: true},
		{name: "null equals null", query: `[17,[null,null]]`, want: true},
		{name: "across types: array before bool", query: `[19,[[2,[]],true]]`, want: true},
		{name: "across types: null before number", query: `[19,[null,-2]]`, want: true},
		{name: "across types: number before object", query: `[19,[100,{"a":-12}]]`, want: true},
		{name: "across types: string last", query: `[21,["zzz",{}]]`, want: true},
		{name: "time after number", query: `[21,[[103,[]],12]]`, want: true},
		{name: "time before string", query: `[21,[[103,[]],"abc"]]`, want: false},
		{name: "minval before everything", query: `[19,[[180,[]],[2,[]]]]`, want: true},
		{name: "minval equals minval", query: `[17,[[180,[]],[180,[]]]]`, want: true},
		{name: "maxval after strings", query: `[21,[[181,[]],"a"]]`, want: true},
		{
			// Arguments are evaluated only until the answer is known.
			name: "short-circuits", query: `[17,[1,2,[12,["never"]]]]`, want: false,
		},
		{name: "error in an argument", query: `[17,[1,[12,["boom"]]]]`, errType: userErr, errMsg: "boom"},
		{
			name: "a table is not a datum", query: `[17,[[15,["players"]],1]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found TABLE:\ntable(\"players\")",
		},
	})
}

func TestLogic(t *testing.T) {
	m, _ := writeTestEngine(t)
	runExprCases(t, m, []exprCase{
		{name: "not true", query: `[23,[true]]`, want: false},
		{name: "not null", query: `[23,[null]]`, want: true},
		{name: "not number", query: `[23,[1]]`, want: false},
		{name: "and returns the last", query: `[67,[1,2]]`, want: 2.0},
		{name: "and returns the first falsy", query: `[67,[true,null,2]]`, want: nil},
		{name: "and short-circuits", query: `[67,[false,[12,["never"]]]]`, want: false},
		{name: "and of nothing", query: `[67,[]]`, want: true},
		{name: "or returns the first truthy", query: `[66,[false,"str"]]`, want: "str"},
		{name: "or returns the last", query: `[66,[false,null]]`, want: nil},
		{name: "or short-circuits", query: `[66,[1,[12,["never"]]]]`, want: 1.0},
		{name: "or of nothing", query: `[66,[]]`, want: false},
		{name: "or variadic", query: `[66,[false,false,true,false]]`, want: true},
		{
			name: "and of a table", query: `[67,[[15,["players"]]]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found TABLE:\ntable(\"players\")",
		},
	})
}

func TestBranch(t *testing.T) {
	runExprCases(t, New(), []exprCase{
		{name: "true", query: `[65,[true,1,2]]`, want: 1.0},
		{name: "false", query: `[65,[false,1,2]]`, want: 2.0},
		{name: "number is truthy", query: `[65,[1,"c",false]]`, want: "c"},
		{name: "null is falsy", query: `[65,[null,{},[2,[]]]]`, want: []any{}},
		{name: "empty array is truthy", query: `[65,[[2,[]],1,2]]`, want: 1.0},
		{name: "second test", query: `[65,[false,1,true,2,3]]`, want: 2.0},
		{name: "else", query: `[65,[false,1,false,2,3]]`, want: 3.0},
		{name: "first test wins", query: `[65,[true,1,true,2,3]]`, want: 1.0},
		{name: "untaken branch not evaluated", query: `[65,[true,1,[12,["never"]]]]`, want: 1.0},
		{
			name: "even number of arguments", query: `[65,[true,1,true,2]]`,
			errType: logicErr, errMsg: "Cannot call `branch` term with an even number of arguments.",
		},
		{name: "error as test", query: `[65,[[12,["a"]],1,2]]`, errType: userErr, errMsg: "a"},
		{
			name: "database as test", query: `[65,[[14,["test"]],1,2]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found DATABASE:\ndb(\"test\")",
		},
	})
}

func TestBranchArity(t *testing.T) {
	_, err := run(t, New(), `[65,[true,1]]`)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, ql2.Response_COMPILE_ERROR, rerr.Response)
	assert.Equal(t, "Expected 3 or more arguments but found 2.", rerr.Msg)
}

func TestErrorAndDefault(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 10.0))
	runExprCases(t, m, []exprCase{
		{name: "error", query: `[12,["Hello World"]]`, errType: userErr, errMsg: "Hello World"},
		{
			name: "error message must be a string", query: `[12,[5]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{
			name: "empty error outside default", query: `[12,[]]`,
			errType: logicErr, errMsg: "Empty ERROR term outside a default block.",
		},
		{name: "default of a value", query: `[92,[1,2]]`, want: 1.0},
		{name: "default of null", query: `[92,[null,2]]`, want: 2.0},
		{name: "default of a missing field", query: `[92,[[31,[{},"b"]],2]]`, want: 2.0},
		{name: "default of arithmetic on null", query: `[92,[[24,[null,5]],2]]`, want: 2.0},
		{name: "default of arithmetic on null, right", query: `[92,[[25,[5,null]],2]]`, want: 2.0},
		{
			// Only NON_EXISTENCE errors are caught.
			name: "type errors pass through", query: `[92,[[24,["a",5]],2]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{
			name: "bracket on a string passes through", query: `[92,[[170,["a","b"]],2]]`,
			errType: logicErr, errMsg: "Cannot perform bracket on a non-object non-sequence `\"a\"`.",
		},
		{name: "user errors pass through", query: `[92,[[12,["x"]],2]]`, errType: userErr, errMsg: "x"},
		{name: "default function gets the message", query: `[92,[[31,[{},"b"]],[69,[[2,[1]],[10,[1]]]]]]`, want: "No attribute `b` in object:\n{}"},
		{name: "default function gets null for null", query: `[92,[null,[69,[[2,[1]],[10,[1]]]]]]`, want: nil},
		{name: "default function of a value is not called", query: `[92,[1,[69,[[2,[1]],[10,[1]]]]]]`, want: 1.0},
		{name: "default r.error() of a value", query: `[92,[1,[12,[]]]]`, want: 1.0},
		{name: "default r.error() of null", query: `[92,[null,[12,[]]]]`, want: nil},
		{
			name: "default r.error() rethrows", query: `[92,[[31,[{},"b"]],[12,[]]]]`,
			errType: nonExistErr, errMsg: "No attribute `b` in object:\n{}",
		},
		{
			name: "default r.error() rethrows a null type error", query: `[92,[[24,[null,5]],[12,[]]]]`,
			errType: nonExistErr, errMsg: "Expected type NUMBER but found NULL.",
		},
		{name: "default of a missing document", query: `[92,[[16,[` + playersTable + `,"zz"]],"none"]]`, want: "none"},
		{name: "default of a present document", query: `[92,[[16,[` + playersTable + `,"a"]],"none"]]`, want: obj("id", "a", "score", 10.0)},
		{name: "default of a missing field of a document", query: `[92,[[31,[[16,[` + playersTable + `,"a"]],"seq"]],0]]`, want: 0.0},
		{name: "default of a field of a missing document", query: `[92,[[31,[[16,[` + playersTable + `,"zz"]],"seq"]],0]]`, want: 0.0},
		{name: "default of a table is the table", query: `[43,[[92,[` + playersTable + `,1]]]]`, want: 1.0},
		{
			name: "error in the default", query: `[92,[null,[12,["inner"]]]]`,
			errType: userErr, errMsg: "inner",
		},
	})
}

func TestFuncall(t *testing.T) {
	m, _ := writeTestEngine(t)
	runExprCases(t, m, []exprCase{
		{name: "one argument", query: `[64,[[69,[[2,[1]],[26,[[10,[1]],2]]]],1]]`, want: 2.0},
		{name: "two arguments", query: `[64,[[69,[[2,[1,2]],[24,[[10,[1]],[10,[2]]]]]],1,2]]`, want: 3.0},
		{name: "no arguments", query: `[64,[[69,[[2,[]],1]]]]`, want: 1.0},
		{name: "a datum is a constant function", query: `[64,[1]]`, want: 1.0},
		{name: "a constant function ignores its argument", query: `[64,[5,1]]`, want: 5.0},
		{name: "a function of no parameters takes any arguments", query: `[64,[[69,[[2,[]],7]],1,2]]`, want: 7.0},
		{name: "r.row", query: `[64,[[69,[[2,[1]],[13,[]]]],5]]`, want: 5.0},
		{
			name: "too many arguments", query: `[64,[[69,[[2,[1]],[10,[1]]]],1,2]]`,
			errType: logicErr, errMsg: "Expected function with 2 arguments but found function with 1 argument.",
		},
		{
			name: "too few arguments", query: `[64,[[69,[[2,[1,2]],[10,[1]]]],0]]`,
			errType: logicErr, errMsg: "Expected function with 1 argument but found function with 2 arguments.",
		},
		{
			name: "error inside", query: `[64,[[69,[[2,[1]],[29,[[10,[1]],3]]]],"abc"]]`,
			errType: logicErr, errMsg: "Expected type ARRAY but found STRING.",
		},
		{
			name: "a table is not an argument", query: `[64,[[69,[[2,[1]],1]],` + playersTable + `]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found TABLE:\ntable(\"players\")",
		},
		{
			name: "a table is not a function", query: `[64,[` + playersTable + `,1]]`,
			errType: logicErr, errMsg: "Expected type FUNCTION but found TABLE:\ntable(\"players\")",
		},
	})
}

func TestTypeOf(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a"))
	runExprCases(t, m, []exprCase{
		{name: "null", query: `[52,[null]]`, want: "NULL"},
		{name: "bool", query: `[52,[true]]`, want: "BOOL"},
		{name: "number", query: `[52,[1]]`, want: "NUMBER"},
		{name: "string", query: `[52,["a"]]`, want: "STRING"},
		{name: "array", query: `[52,[[2,[]]]]`, want: "ARRAY"},
		{name: "object", query: `[52,[{"a":1}]]`, want: "OBJECT"},
		{name: "time", query: `[52,[[103,[]]]]`, want: "PTYPE<TIME>"},
		{name: "minval", query: `[52,[[180,[]]]]`, want: "MINVAL"},
		{name: "table", query: `[52,[` + playersTable + `]]`, want: "TABLE"},
		{name: "get", query: `[52,[[16,[` + playersTable + `,"a"]]]]`, want: "SELECTION<OBJECT>"},
		{name: "database", query: `[52,[[14,["test"]]]]`, want: "DB"},
		{name: "function", query: `[52,[[69,[[2,[1]],1]]]]`, want: "FUNCTION"},
		{name: "stream of a table", query: `[52,[[33,[` + playersTable + `,"id"]]]]`, want: "STREAM"},
		// sort.cc returns the table slice itself for order_by({index}).
		{name: "table ordered by an index", query: `[52,[[41,[` + playersTable + `],{"index":"id"}]]]`, want: "TABLE_SLICE"},
		{name: "between ordered by an index", query: `[52,[[41,[[182,[` + playersTable + `,"a","z"]]],{"index":"id"}]]]`, want: "TABLE_SLICE"},
		{name: "ordered and limited", query: `[52,[[71,[[41,[` + playersTable + `],{"index":"id"}],1]]]]`, want: "SELECTION<STREAM>"},
		{
			name: "ordered table is a table slice", query: `[51,[[41,[` + playersTable + `],{"index":"id"}],"table_slice"]]`,
			want: []any{obj("id", "a")},
		},
		{name: "uuid", query: `[52,[[169,[]]]]`, want: "STRING"},
	})
}

func TestCoerceTo(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "n", 1.0), obj("id", "b", "n", 2.0))
	runExprCases(t, m, []exprCase{
		{name: "number to string", query: `[51,[1,"string"]]`, want: "1"},
		{name: "fraction to string", query: `[51,[1.5,"string"]]`, want: "1.5"},
		{name: "big number to string", query: `[51,[1e21,"string"]]`, want: "1e21"},
		{name: "beyond 2^53 to string", query: `[51,[1e20,"string"]]`, want: "100000000000000000000.0"},
		{name: "small number to string", query: `[51,[0.000001,"string"]]`, want: "0.000001"},
		{name: "smaller number to string", query: `[51,[1.5e-7,"string"]]`, want: "1.5e-7"},
		{name: "object to string", query: `[51,[{"b":[2,[1,"x\n"]],"a":null},"STRING"]]`, want: `{"a":null,"b":[1,"x\n"]}`},
		{name: "null to string", query: `[51,[null,"string"]]`, want: "null"},
		{name: "type name is case-insensitive", query: `[51,[1,"StRiNg"]]`, want: "1"},
		{name: "string to number", query: `[51,["1.5","number"]]`, want: 1.5},
		{name: "string with leading blanks to number", query: `[51,["  -2e3","number"]]`, want: -2000.0},
		{name: "hexadecimal string to number", query: `[51,["0x10","number"]]`, want: 16.0},
		{
			name: "string with trailing blank", query: `[51,["1 ","number"]]`,
			errType: logicErr, errMsg: "Could not coerce `1 ` to NUMBER.",
		},
		{
			name: "not a number", query: `[51,["abc","number"]]`,
			errType: logicErr, errMsg: "Could not coerce `abc` to NUMBER.",
		},
		{
			name: "infinite string", query: `[51,["1e400","number"]]`,
			errType: logicErr, errMsg: "Non-finite number: inf",
		},
		{name: "number to number", query: `[51,[1,"number"]]`, want: 1.0},
		{name: "object to object", query: `[51,[{"a":1},"object"]]`, want: obj("a", 1.0)},
		{name: "object to array", query: `[51,[{"b":2,"a":1},"array"]]`, want: []any{[]any{"a", 1.0}, []any{"b", 2.0}}},
		{name: "array to object", query: `[51,[[2,[[2,["a",1]],[2,["b",2]]]],"object"]]`, want: obj("a", 1.0, "b", 2.0)},
		{
			name: "array to object, not pairs", query: `[51,[[2,[[2,["a"]]]],"object"]]`,
			errType: logicErr, errMsg: "Expected array of size 2, but got size 1.",
		},
		{
			name: "array to object, duplicate key", query: `[51,[[2,[[2,["a",1]],[2,["a",2]]]],"object"]]`,
			errType: logicErr, errMsg: `Duplicate key "a" in coerced object.  (got 1 and 2 as values)`,
		},
		{name: "anything to bool", query: `[51,[0,"bool"]]`, want: true},
		{name: "null to bool", query: `[51,[null,"bool"]]`, want: false},
		{name: "table to array", query: `[51,[` + playersTable + `,"array"]]`, want: []any{obj("id", "a", "n", 1.0), obj("id", "b", "n", 2.0)}},
		{name: "stream to array", query: `[51,[[31,[` + playersTable + `,"n"]],"array"]]`, want: []any{1.0, 2.0}},
		{name: "table to bool", query: `[51,[` + playersTable + `,"bool"]]`, want: true},
		{name: "string to binary and back", query: `[51,[[51,["hi","binary"]],"string"]]`, want: "hi"},
		{
			name: "number to array", query: `[51,[1,"array"]]`,
			errType: logicErr, errMsg: "Cannot coerce NUMBER to ARRAY.",
		},
		{
			name: "null to number", query: `[51,[null,"number"]]`,
			errType: nonExistErr, errMsg: "Cannot coerce NULL to NUMBER.",
		},
		{
			name: "table to number", query: `[51,[` + playersTable + `,"number"]]`,
			errType: logicErr, errMsg: "Cannot coerce TABLE to NUMBER.",
		},
		{
			name: "unknown type", query: `[51,[1,"foo"]]`,
			errType: logicErr, errMsg: "Unknown Type: FOO",
		},
		{
			name: "minval to string", query: `[51,[[180,[]],"string"]]`,
			errType: logicErr, errMsg: "Cannot convert `r.minval` to JSON.",
		},
		{name: "to_json_string", query: `[172,[{"a":[2,[1,1.5,true]],"s":"q\"\\/é\u0001"}]]`, want: "{\"a\":[1,1.5,true],\"s\":\"q\\\"\\\\/é\\u0001\"}"},
	})
}

func TestUnsupportedExpressionTerms(t *testing.T) {
	for name, query := range map[string]string{
		"Term INFO":    `[79,[1]]`,
		"Term JSON":    `[98,["[1]"]]`,
		"Term BIT_AND": `[191,[1,1]]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := run(t, New(), query)
			var rerr *Error
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, ErrUnsupported(name).Msg, rerr.Msg)
		})
	}
}

func TestTimes(t *testing.T) {
	m := New()
	m.Now = func() time.Time { return time.UnixMilli(1795376213543) }
	now := map[string]any{"$reql_type$": "TIME", "epoch_time": 1795376213.543, "timezone": "+00:00"}
	runExprCases(t, m, []exprCase{
		{name: "now", query: `[103,[]]`, want: now},
		{name: "now is one instant for the query", query: `[17,[[103,[]],[103,[]]]]`, want: true},
		{name: "to_epoch_time of now", query: `[102,[[103,[]]]]`, want: 1795376213.543},
		{name: "epoch_time", query: `[101,[1795341600]]`, want: map[string]any{"$reql_type$": "TIME", "epoch_time": 1795341600.0, "timezone": "+00:00"}},
		{name: "epoch_time rounds to the millisecond", query: `[102,[[101,[1.23456]]]]`, want: 1.235},
		{name: "time plus seconds", query: `[102,[[24,[[101,[10]],5]]]]`, want: 15.0},
		{name: "seconds plus time", query: `[102,[[24,[5,[101,[10]]]]]]`, want: 15.0},
		{name: "time minus seconds", query: `[102,[[25,[[101,[10]],2.5]]]]`, want: 7.5},
		{name: "time minus time", query: `[25,[[101,[10]],[101,[2.5]]]]`, want: 7.5},
		{
			name: "time plus time", query: `[24,[[101,[10]],[101,[2]]]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found PTYPE<TIME>.",
		},
		{
			name: "seconds minus time", query: `[25,[10,[101,[2]]]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found PTYPE<TIME>.",
		},
		{
			name: "to_epoch_time of a number", query: `[102,[5]]`,
			errType: logicErr, errMsg: "Not a TIME pseudotype: `5`.",
		},
		{
			name: "epoch_time of a string", query: `[101,["x"]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found STRING.",
		},
		{
			name: "epoch_time of null", query: `[101,[null]]`,
			errType: nonExistErr, errMsg: "Expected type NUMBER but found NULL.",
		},
	})
}

func TestUUIDAndLiteral(t *testing.T) {
	m := New()
	runExprCases(t, m, []exprCase{
		// RethinkDB's own test (datum/uuid.yaml): a version 5 UUID in its
		// namespace.
		{name: "uuid of a name", query: `[169,["magic"]]`, want: "97dd10a5-4fc4-554f-86c5-0d2c2e3d5330"},
		{name: "uuids of one name are equal", query: `[17,[[169,["magic"]],[169,["magic"]]]]`, want: true},
		{name: "random uuids differ", query: `[18,[[169,[]],[169,[]]]]`, want: true},
		{
			name: "uuid of a number", query: `[169,[1]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{name: "literal", query: `[137,[1]]`, errType: logicErr, errMsg: strayLiteralMsg},
		{name: "empty literal", query: `[137,[]]`, errType: logicErr, errMsg: strayLiteralMsg},
		{name: "literal in a literal", query: `[137,[{"a":[137,[1]]}]]`, errType: logicErr, errMsg: strayLiteralMsg},
	})
	res, err := run(t, m, `[169,[]]`)
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, res.Atom)
}

func TestRapidJSONNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {-1, "-1"}, {1.5, "1.5"}, {-0.25, "-0.25"}, {123.456, "123.456"},
		{9007199254740992, "9007199254740992"}, {9007199254740994, "9007199254740994.0"},
		{1e21, "1e21"}, {1.5e300, "1.5e300"}, {1e-7, "1e-7"}, {1.25e-7, "1.25e-7"},
		{0.000001, "0.000001"}, {0.1, "0.1"}, {-1e-300, "-1e-300"}, {math.Copysign(0, -1), "-0.0"},
	} {
		assert.Equal(t, tc.want, string(appendRapidNumber(nil, tc.in)), "%v", tc.in)
	}
}

// RethinkDB names r.minval and r.maxval MINVAL and MAXVAL
// (datum.cc raw_type_name) in every message, not only in type_of.
func TestMinvalMaxvalTypeNames(t *testing.T) {
	m, _ := writeTestEngine(t)
	runExprCases(t, m, []exprCase{
		{name: "type_of maxval", query: `[52,[[181,[]]]]`, want: "MAXVAL"},
		{
			name: "minval as a sequence", query: `[43,[[180,[]]]]`,
			errType: logicErr, errMsg: "Cannot convert MINVAL to SEQUENCE",
		},
		{
			name: "maxval as a limit", query: `[71,[[2,[1]],[181,[]]]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found MAXVAL.",
		},
		{
			name: "maxval plus a number", query: `[24,[[181,[]],1]]`,
			errType: logicErr, errMsg: "Expected type NUMBER but found MAXVAL.",
		},
	})
}

// A type error whose culprit is null is NON_EXISTENCE (rfail_typed_target
// and exc_type in RethinkDB's error.cc), so that default catches it; a
// value that is not a datum where one is needed is rcheck_literal_type's
// "Expected type X but found Y:" with the value printed (val.cc).
func TestTypeErrorsOnNull(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a"))
	missing := `[16,[` + playersTable + `,"zz"]]`
	runExprCases(t, m, []exprCase{
		{
			name: "null as a limit", query: `[71,[[2,[1]],null]]`,
			errType: nonExistErr, errMsg: "Expected type NUMBER but found NULL.",
		},
		{name: "default catches it", query: `[92,[[71,[[2,[1]],null]],5]]`, want: 5.0},
		{
			name: "null as a database name", query: `[14,[null]]`,
			errType: nonExistErr, errMsg: "Expected type STRING but found NULL.",
		},
		{
			name: "missing document as a table", query: `[16,[` + missing + `,"a"]]`,
			errType: nonExistErr, errMsg: "Expected type TABLE but found SINGLE_SELECTION:\nnull",
		},
		{
			name: "string as a table", query: `[16,["players","a"]]`,
			errType: logicErr, errMsg: "Expected type TABLE but found DATUM:\n\"players\"",
		},
		// as_num and as_str want a datum: a table is not read as an array.
		{
			name: "table as a limit", query: `[71,[[2,[1]],` + playersTable + `]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found TABLE:\ntable(\"players\")",
		},
		{
			name: "database in an array", query: `[2,[[14,["test"]]]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found DATABASE:\ndb(\"test\")",
		},
		// filter skips a row whose test fails with NON_EXISTENCE.
		{name: "null filter row", query: `[39,[[2,[null]],{"a":1}]]`, want: []any{}},
	})
}

// RethinkDB quotes a number two ways: checked_convert_to_int and the
// non-finite check use "%.20g" (PR_RECONSTRUCTABLE_DOUBLE), while a datum
// printed in a message goes through rapidjson, shortest round-trip digits.
func TestNumbersInMessages(t *testing.T) {
	m, _ := writeTestEngine(t)
	runExprCases(t, m, []exprCase{
		{
			name: "fraction as a limit", query: `[71,[[2,[1]],0.1]]`,
			errType: logicErr, errMsg: "Number not an integer: 0.10000000000000000555",
		},
		{
			name: "past 2^53 as a limit", query: `[71,[[2,[1]],9007199254740994]]`,
			errType: logicErr, errMsg: "Number not an integer (>2^53): 9007199254740994",
		},
		{
			name: "below -2^53 as a skip", query: `[70,[[2,[1]],-1e300]]`,
			errType: logicErr, errMsg: "Number not an integer (<-2^53): -1.0000000000000000525e+300",
		},
		{
			name: "big number in a printed object", query: `[31,[{"a":1e21,"b":1.5e-7},"c"]]`,
			errType: nonExistErr, errMsg: "No attribute `c` in object:\n{\n\t\"a\":\t1e21,\n\t\"b\":\t1.5e-7\n}",
		},
	})
	_, err := m.Run(t.Context(), Query{Term: 1.0, GlobalOpts: map[string]any{"changefeed_queue_size": 1e300}})
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "Number not an integer (>2^53): 1.0000000000000000525e+300", rerr.Msg)
}

// func.cc's reql_func_t::call accepts any arguments for a function declared
// with none: r.expr([2, 1]).order_by(lambda: 1) and update(lambda: {...})
// run, the arguments ignored.
func TestZeroParameterFunctions(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a"))
	runExprCases(t, m, []exprCase{
		{name: "order_by", query: `[41,[[2,[2,1]],[69,[[2,[]],1]]]]`, want: []any{2.0, 1.0}},
		{name: "funcall with arguments", query: `[64,[[69,[[2,[]],7]],1,2]]`, want: 7.0},
		{
			name: "update", query: `[53,[` + playersTable + `,[69,[[2,[]],{"x":1}]]]]`,
			want: stats(0, 0, 1, 0, 0, 0, nil),
		},
		{
			name: "insert conflict", query: `[56,[` + playersTable + `,{"id":"a"}],{"conflict":[69,[[2,[]],{"id":"a","y":2}]]}]`,
			want: stats(0, 0, 1, 0, 0, 0, nil),
		},
		{
			name: "two parameters for one argument", query: `[41,[[2,[2,1]],[69,[[2,[1,2]],1]]]]`,
			errType: logicErr, errMsg: "Expected function with 1 argument but found function with 2 arguments.",
		},
	})
}

// r.literal is only legal where RethinkDB evaluates with LITERAL_OK: merge's
// arguments and the results of its functions, update's argument and the
// results of its function, and the values of an object literal there
// (make_obj passes the flag on, nothing else does). obj_or_seq.cc's
// literal_term_t refuses it anywhere else, and datum_t's ptype check
// refuses a LITERAL object nothing allowed (datum.cc).
func TestStrayLiteral(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "n", obj("x", 1.0)))
	lit := func(v string) string { return `[137,[` + v + `]]` }
	stray := func(name, query string) exprCase {
		return exprCase{name: name, query: query, errType: logicErr, errMsg: strayLiteralMsg}
	}
	runExprCases(t, m, []exprCase{
		stray("in an object", `{"a":`+lit("1")+`}`),
		stray("in an array in merge", `[35,[{"a":1},{"b":[2,[`+lit("1")+`]]}]]`),
		stray("through branch in merge", `[35,[{"a":1},[65,[true,{"b":`+lit("2")+`},{}]]]]`),
		stray("nested in merge", `[35,[{"a":1},{"b":`+lit(`{"c":`+lit("1")+`}`)+`}]]`),
		stray("a LITERAL object", `{"$reql_type$":"LITERAL","value":1}`),
		stray("in insert", `[56,[`+playersTable+`,{"id":"b","x":`+lit("1")+`}]]`),
		{
			name: "in a merge function", query: `[35,[{"a":{"x":1}},[69,[[2,[1]],{"a":` + lit(`{"y":2}`) + `}]]]]`,
			want: obj("a", obj("y", 2.0)),
		},
		{name: "in update", query: `[53,[` + playersTable + `,{"n":` + lit(`{"y":1}`) + `}]]`, want: stats(0, 0, 1, 0, 0, 0, nil)},
		{
			name: "in replace", query: `[55,[` + playersTable + `,[69,[[2,[1]],{"id":"a","x":` + lit("1") + `}]]]]`,
			want: stats(0, 0, 0, 0, 0, 1, obj("first_error", strayLiteralMsg)),
		},
		{
			name: "update to a non-object", query: `[53,[` + playersTable + `,[69,[[2,[1]],1]]]]`,
			want: stats(0, 0, 0, 0, 0, 1, obj("first_error", "Inserted value must be an OBJECT (got NUMBER):\n1")),
		},
		{
			name: "update to a literal", query: `[53,[` + playersTable + `,` + lit(`{"y":1}`) + `]]`,
			want: stats(0, 0, 0, 0, 0, 1, obj("first_error", strayLiteralMsg)),
		},
	})
	assert.Equal(t, obj("id", "a", "n", obj("y", 1.0)), runAtom(t, m, `[16,[`+playersTable+`,"a"]]`))
}
