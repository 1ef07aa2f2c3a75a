package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docTestEngine holds players a (with a field b), b (without) and c.
func docTestEngine(t *testing.T) *Memory {
	t.Helper()
	m, _ := writeTestEngine(t,
		obj("id", "a", "score", 10.0, "b", obj("x", 1.0, "y", 2.0)),
		obj("id", "b", "score", 5.0),
		obj("id", "c", "score", 3.0, "b", nil),
	)
	return m
}

const getA = `[16,[` + playersTable + `,"a"]]`

func TestGetFieldAndBracket(t *testing.T) {
	docA := "{\n\t\"b\":\t{\n\t\t\"x\":\t1,\n\t\t\"y\":\t2\n\t},\n\t\"id\":\t\"a\",\n\t\"score\":\t10\n}"
	runExprCases(t, docTestEngine(t), []exprCase{
		{name: "field of an object", query: `[31,[{"a":1},"a"]]`, want: 1.0},
		{name: "null field", query: `[31,[{"a":null},"a"]]`, want: nil},
		{name: "field of a document", query: `[31,[` + getA + `,"score"]]`, want: 10.0},
		{
			// The transcript's "runtime error: missing field".
			name: "missing field", query: `[31,[` + getA + `,"nope"]]`,
			errType: nonExistErr, errMsg: "No attribute `nope` in object:\n" + docA,
		},
		{
			name: "field of a missing document", query: `[31,[[16,[` + playersTable + `,"zz"]],"a"]]`,
			errType: nonExistErr, errMsg: "Cannot perform get_field on a non-object non-sequence `null`.",
		},
		{
			name: "field of a string", query: `[31,["a","b"]]`,
			errType: logicErr, errMsg: "Cannot perform get_field on a non-object non-sequence `\"a\"`.",
		},
		{
			name: "field of a time", query: `[31,[[103,[]],"epoch_time"]]`,
			errType: logicErr, errMsg: "Cannot call `get_field` on objects of type `PTYPE<TIME>`.",
		},
		{
			name: "field name must be a string", query: `[31,[{"a":1},1]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{name: "field of a table skips rows without it", query: `[31,[` + playersTable + `,"b"]]`, want: []any{obj("x", 1.0, "y", 2.0), nil}},
		{name: "field of an array", query: `[31,[[2,[{"a":1},{"b":2},null,{"a":3}]],"a"]]`, want: []any{1.0, 3.0}},
		{
			name: "field of an array of numbers", query: `[31,[[2,[{"a":1},5]],"a"]]`,
			errType: logicErr, errMsg: "Cannot perform get_field on a non-object non-sequence `5`.",
		},
		{
			name: "field of an array of arrays", query: `[31,[[2,[[2,[]]]],"a"]]`,
			errType: logicErr, errMsg: "Cannot perform get_field on a sequence of sequences.",
		},
		{name: "bracket field", query: `[170,[{"a":1},"a"]]`, want: 1.0},
		{name: "bracket index", query: `[170,[[2,[1,2,3]],0]]`, want: 1.0},
		{name: "bracket negative index", query: `[170,[[2,[1,2,3]],-1]]`, want: 3.0},
		{name: "bracket index of a table", query: `[170,[` + playersTable + `,1]]`, want: obj("id", "b", "score", 5.0)},
		{name: "bracket last of a table", query: `[170,[` + playersTable + `,-1]]`, want: obj("id", "c", "score", 3.0, "b", nil)},
		{name: "bracket index of a table is a selection", query: `[52,[[170,[` + playersTable + `,0]]]]`, want: "SELECTION<OBJECT>"},
		{
			name: "bracket index out of bounds", query: `[170,[[2,[1,2,3]],3]]`,
			errType: nonExistErr, errMsg: "Index out of bounds: 3",
		},
		{
			name: "bracket negative index out of bounds", query: `[170,[[2,[1,2,3]],-4]]`,
			errType: nonExistErr, errMsg: "Index out of bounds: -4",
		},
		{
			name: "bracket index of a stream out of bounds", query: `[170,[` + playersTable + `,3]]`,
			errType: nonExistErr, errMsg: "Index out of bounds: 3",
		},
		{
			name: "bracket index < -1 of a stream", query: `[170,[` + playersTable + `,-2]]`,
			errType: logicErr, errMsg: "Cannot use an index < -1 (-2) on a stream.",
		},
		{
			name: "bracket index of an object", query: `[170,[{"a":1},0]]`,
			errType: logicErr, errMsg: "Expected type ARRAY but found OBJECT.",
		},
		{
			name: "bracket fractional index", query: `[170,[[2,[1]],0.5]]`,
			errType: logicErr, errMsg: "Number not an integer: 0.5",
		},
		{
			name: "bracket with a bool", query: `[170,[{"a":1},true]]`,
			errType: logicErr, errMsg: "Expected NUMBER or STRING as second argument to `bracket` but found BOOL.",
		},
		{
			name: "bracket missing field", query: `[170,[{},"b"]]`,
			errType: nonExistErr, errMsg: "No attribute `b` in object:\n{}",
		},
		{name: "default of a missing field", query: `[92,[[170,[{},"b"]],2]]`, want: 2.0},
	})
}

func TestFieldSelectors(t *testing.T) {
	doc := `{"a":1,"b":{"x":1,"y":2},"c":[2,[{"x":1,"y":2},{"x":3}]],"d":null}`
	runExprCases(t, docTestEngine(t), []exprCase{
		{name: "has_fields", query: `[32,[` + doc + `,"a","b"]]`, want: true},
		{name: "has_fields null field", query: `[32,[` + doc + `,"d"]]`, want: false},
		{name: "has_fields missing", query: `[32,[` + doc + `,"a","z"]]`, want: false},
		{name: "has_fields nested", query: `[32,[` + doc + `,{"b":{"x":true}}]]`, want: true},
		{name: "has_fields nested missing", query: `[32,[` + doc + `,{"b":"z"}]]`, want: false},
		{name: "has_fields nested in a non-object", query: `[32,[` + doc + `,{"a":"z"}]]`, want: false},
		{name: "has_fields of nothing", query: `[32,[{}]]`, want: true},
		{name: "has_fields of a table", query: `[32,[` + playersTable + `,"b"]]`, want: []any{obj("id", "a", "score", 10.0, "b", obj("x", 1.0, "y", 2.0))}},
		{name: "has_fields of a table is a selection", query: `[52,[[32,[` + playersTable + `,"b"]]]]`, want: "SELECTION<STREAM>"},
		{name: "has_fields of an array skips nulls", query: `[32,[[2,[{"a":1},null,{}]],"a"]]`, want: []any{obj("a", 1.0)}},
		{name: "pluck", query: `[33,[` + doc + `,"a","z"]]`, want: obj("a", 1.0)},
		{name: "pluck array of names", query: `[33,[` + doc + `,[2,["a","d"]]]]`, want: obj("a", 1.0, "d", nil)},
		{name: "pluck nested", query: `[33,[` + doc + `,{"b":{"y":true}}]]`, want: obj("b", obj("y", 2.0))},
		{name: "pluck nested with true and a path", query: `[33,[` + doc + `,{"a":true,"b":"x"}]]`, want: obj("a", 1.0, "b", obj("x", 1.0))},
		{name: "pluck nested through an array", query: `[33,[` + doc + `,{"c":"x"}]]`, want: obj("c", []any{obj("x", 1.0), obj("x", 3.0)})},
		{name: "pluck nested in a non-object", query: `[33,[` + doc + `,{"a":"x"}]]`, want: obj()},
		{name: "pluck of a document", query: `[33,[` + getA + `,"score"]]`, want: obj("score", 10.0)},
		{name: "pluck of a table", query: `[33,[` + playersTable + `,"id"]]`, want: []any{obj("id", "a"), obj("id", "b"), obj("id", "c")}},
		{name: "pluck of a table is a stream", query: `[52,[[33,[` + playersTable + `,"id"]]]]`, want: "STREAM"},
		{
			name: "pluck of an array of numbers", query: `[33,[[2,[1,2,3]],"foo"]]`,
			errType: logicErr, errMsg: "Cannot perform pluck on a non-object non-sequence `1`.",
		},
		{
			name: "pluck with a number", query: `[33,[` + doc + `,1]]`,
			errType: logicErr, errMsg: "Invalid path argument `1`.",
		},
		{
			name: "pluck with false", query: `[33,[` + doc + `,{"a":false}]]`,
			errType: logicErr, errMsg: "Invalid path argument `false`.",
		},
		{name: "without", query: `[34,[` + doc + `,"b","c","z"]]`, want: obj("a", 1.0, "d", nil)},
		{name: "without nested", query: `[34,[{"b":{"x":1,"y":2}},{"b":"x"}]]`, want: obj("b", obj("y", 2.0))},
		{name: "without nested through an array", query: `[34,[{"c":[2,[{"x":1,"y":2},{"x":3}]]},{"c":"x"}]]`, want: obj("c", []any{obj("y", 2.0), obj()})},
		{name: "without nested in a non-object", query: `[34,[{"a":1},{"a":"x"}]]`, want: obj("a", 1.0)},
		{name: "without of a table", query: `[34,[` + playersTable + `,"b","score"]]`, want: []any{obj("id", "a"), obj("id", "b"), obj("id", "c")}},
		{
			name: "without of a null", query: `[34,[null,"a"]]`,
			errType: nonExistErr, errMsg: "Cannot perform without on a non-object non-sequence `null`.",
		},
	})
}

func TestMerge(t *testing.T) {
	runExprCases(t, docTestEngine(t), []exprCase{
		{name: "objects", query: `[35,[{"a":1,"b":1},{"b":2,"c":3}]]`, want: obj("a", 1.0, "b", 2.0, "c", 3.0)},
		{name: "several", query: `[35,[{"a":1},{"b":2},{"a":3}]]`, want: obj("a", 3.0, "b", 2.0)},
		{name: "nested objects merge", query: `[35,[{"a":{"x":1}},{"a":{"y":2}}]]`, want: obj("a", obj("x", 1.0, "y", 2.0))},
		{name: "literal replaces", query: `[35,[{"a":{"x":1}},{"a":[137,[{"y":2}]]}]]`, want: obj("a", obj("y", 2.0))},
		{name: "empty literal removes", query: `[35,[{"a":1,"b":2},{"a":[137,[]]}]]`, want: obj("b", 2.0)},
		{name: "function of the document", query: `[35,[{"a":1},[69,[[2,[1]],{"b":[24,[[31,[[10,[1]],"a"]],1]]}]]]]`, want: obj("a", 1.0, "b", 2.0)},
		{name: "a non-object replaces", query: `[35,[{"a":1},5]]`, want: 5.0},
		{name: "merge of a document", query: `[35,[[16,[` + playersTable + `,"b"]],{"x":1}]]`, want: obj("id", "b", "score", 5.0, "x", 1.0)},
		{name: "merge of a table", query: `[35,[` + playersTable + `,[69,[[2,[1]],{"n":[26,[[31,[[10,[1]],"score"]],-1]]}]]]]`, want: []any{
			obj("id", "a", "score", 10.0, "b", obj("x", 1.0, "y", 2.0), "n", -10.0),
			obj("id", "b", "score", 5.0, "n", -5.0),
			obj("id", "c", "score", 3.0, "b", nil, "n", -3.0),
		}},
		{name: "merge of an array", query: `[35,[[2,[{"a":1},{"a":2}]],{"b":0}]]`, want: []any{obj("a", 1.0, "b", 0.0), obj("a", 2.0, "b", 0.0)}},
		{
			name: "merge a time", query: `[35,[{"a":1},[103,[]]]]`,
			errType: logicErr, errMsg: "Cannot merge objects of type `PTYPE<TIME>`.",
		},
		{
			name: "merge into a time", query: `[35,[[103,[]],{"a":1}]]`,
			errType: logicErr, errMsg: "Cannot call `merge` on objects of type `PTYPE<TIME>`.",
		},
		{
			name: "merge a literal", query: `[35,[{"a":1},[137,[1]]]]`, errType: logicErr,
			errMsg: "Stray literal keyword found: literal is only legal inside of the object passed to merge or update and cannot nest inside other literals.",
		},
		{
			name: "merge a table", query: `[35,[{"a":1},` + playersTable + `]]`,
			errType: logicErr, errMsg: "Expected type FUNCTION but found TABLE:\ntable(\"players\")",
		},
		{
			name: "merge into a number", query: `[35,[1,{"a":1}]]`,
			errType: logicErr, errMsg: "Cannot perform merge on a non-object non-sequence `1`.",
		},
	})
}

func TestObjectTerms(t *testing.T) {
	runExprCases(t, docTestEngine(t), []exprCase{
		{name: "keys", query: `[94,[{"b":1,"a":2}]]`, want: []any{"a", "b"}},
		{name: "keys of a document", query: `[94,[[16,[` + playersTable + `,"b"]]]]`, want: []any{"id", "score"}},
		{name: "values", query: `[186,[{"b":1,"a":2}]]`, want: []any{2.0, 1.0}},
		{
			name: "keys of an array", query: `[94,[[2,[1]]]]`,
			errType: logicErr, errMsg: "Cannot call `keys` on objects of type `ARRAY`.",
		},
		{
			name: "keys of null", query: `[94,[null]]`,
			errType: logicErr, errMsg: "Cannot call `keys` on objects of type `NULL`.",
		},
		{
			name: "values of a time", query: `[186,[[103,[]]]]`,
			errType: logicErr, errMsg: "Cannot call `values` on objects of type `PTYPE<TIME>`.",
		},
		{name: "object", query: `[143,["a",1,"b",2]]`, want: obj("a", 1.0, "b", 2.0)},
		{name: "empty object", query: `[143,[]]`, want: obj()},
		{
			name: "object of an odd number of arguments", query: `[143,["o","d","d"]]`,
			errType: logicErr, errMsg: "OBJECT expects an even number of arguments (but found 3).",
		},
		{
			name: "object with a number key", query: `[143,[1,1]]`,
			errType: logicErr, errMsg: "Expected type STRING but found NUMBER.",
		},
		{
			name: "object with a duplicate key", query: `[143,["e",4,"e",5]]`,
			errType: logicErr, errMsg: `Duplicate key "e" in object.  (got 4 and 5 as values)`,
		},
		{
			name: "object with a database", query: `[143,["g",[14,["test"]]]]`,
			errType: logicErr, errMsg: "Expected type DATUM but found DATABASE:\ndb(\"test\")",
		},
	})
}

func TestContainsAppendPrepend(t *testing.T) {
	runExprCases(t, docTestEngine(t), []exprCase{
		{name: "contains", query: `[93,[[2,[1,2,3]],2]]`, want: true},
		{name: "contains all", query: `[93,[[2,[1,2,3]],3,1]]`, want: true},
		{name: "contains missing", query: `[93,[[2,[1,2,3]],4]]`, want: false},
		{name: "contains is a bag", query: `[93,[[2,[1,2]],1,1]]`, want: false},
		{name: "contains twice", query: `[93,[[2,[1,2,1]],1,1]]`, want: true},
		{name: "contains a predicate", query: `[93,[[2,[1,2,3]],[69,[[2,[1]],[21,[[10,[1]],2]]]]]]`, want: true},
		{name: "contains a failing predicate", query: `[93,[[2,[1,2,3]],[69,[[2,[1]],[21,[[10,[1]],5]]]]]]`, want: false},
		{name: "contains nothing of something", query: `[93,[[2,[1]]]]`, want: true},
		{name: "contains nothing of nothing", query: `[93,[[2,[]]]]`, want: false},
		{name: "contains a document of a table", query: `[93,[` + playersTable + `,{"id":"b","score":5}]]`, want: true},
		{
			name: "contains of a number", query: `[93,[1,1]]`,
			errType: logicErr, errMsg: "Cannot convert NUMBER to SEQUENCE",
		},
		{
			name: "contains of null", query: `[93,[null,1]]`,
			errType: nonExistErr, errMsg: "Cannot convert NULL to SEQUENCE",
		},
		{name: "append", query: `[29,[[2,[1,2]],3]]`, want: []any{1.0, 2.0, 3.0}},
		{name: "append an array", query: `[29,[[2,[1]],[2,[2]]]]`, want: []any{1.0, []any{2.0}}},
		{name: "prepend", query: `[80,[[2,[1,2]],0]]`, want: []any{0.0, 1.0, 2.0}},
		{
			name: "append to a string", query: `[29,["abc",3]]`,
			errType: logicErr, errMsg: "Expected type ARRAY but found STRING.",
		},
		{
			name: "append to null", query: `[29,[null,3]]`,
			errType: nonExistErr, errMsg: "Expected type ARRAY but found NULL.",
		},
	})
}

// The arrays of a query are not shared with the documents it read: append,
// merge and without build new values.
func TestDocumentTermsDoNotMutateDocuments(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", "a", "tags", []any{"x"}, "n", obj("k", 1.0)))
	for _, q := range []string{
		`[29,[[31,[` + getA + `,"tags"]],"y"]]`,
		`[35,[` + getA + `,{"n":{"j":2}}]]`,
		`[34,[` + getA + `,{"n":"k"}]]`,
	} {
		_, err := run(t, m, q)
		require.NoError(t, err, q)
	}
	assert.Equal(t, obj("id", "a", "tags", []any{"x"}, "n", obj("k", 1.0)), tb.Get("a"))
}

// A stream built in a function keeps the function's variables, though it is
// read after the function returned.
func TestLazyRowsKeepTheirScope(t *testing.T) {
	m := docTestEngine(t)
	q := `[64,[[69,[[2,[7]],[33,[` + playersTable + `,[10,[7]]]]]],"score"]]`
	res, err := run(t, m, q)
	require.NoError(t, err)
	require.Equal(t, Sequence, res.Kind)
	assert.Equal(t, []any{obj("score", 10.0), obj("score", 5.0), obj("score", 3.0)}, res.Seq)
}
