package reql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Engine-level tests of the read terms. The data: table players (primary
// key id) with secondary indexes board_score ([board, score]), score, and
// tags (multi), and table nums with ids 1..5.

// readIndex is a secondary index for readTestEngine: fn is the index
// function as a query term (JSON).
type readIndex struct {
	table, name, fn string
	multi           bool
}

// readTestEngine is an engine whose test database holds the given tables
// and indexes, made without table_create or index_create so that these
// tests depend on the read terms alone (and GET_FIELD for index functions).
func readTestEngine(t testing.TB, tables map[string][]map[string]any, indexes ...readIndex) *Memory {
	t.Helper()
	m := New()
	db := m.dbs["test"]
	ec := &evalCtx{ctx: context.Background(), m: m, db: "test"}
	for name, docs := range tables {
		tb := newTable(db, newUUID(), name, "id")
		db.tables[name] = tb
		for _, d := range docs {
			tb.commit(ec, d["id"], nil, d)
		}
	}
	for _, ri := range indexes {
		var raw any
		require.NoError(t, json.Unmarshal([]byte(ri.fn), &raw))
		term, err := parseTerm(raw, 0)
		require.NoError(t, err)
		fn, err := ec.eval(term)
		require.NoError(t, err)
		ix := &index{name: ri.name, fn: fn.(*funcVal), multi: ri.multi, tree: newIndexTree()}
		tb := db.tables[ri.table]
		tb.indexes[ri.name] = ix
		ix.build(ec, tb)
	}
	return m
}

const (
	players = `[15,["players"]]`
	nums    = `[15,["nums"]]`
	// rowField is the function row => row(field) as an index function.
	boardScoreFn = `[69,[[2,[1]],[2,[[31,[[10,[1]],"board"]],[31,[[10,[1]],"score"]]]]]]`
	scoreFn      = `[69,[[2,[1]],[31,[[10,[1]],"score"]]]]`
	tagsFn       = `[69,[[2,[1]],[31,[[10,[1]],"tags"]]]]`
)

func player(id, board string, score float64, tags ...any) map[string]any {
	p := obj("id", id, "board", board, "score", score)
	if tags != nil {
		p["tags"] = tags
	}
	return p
}

var (
	pA = player("a", "b", 10, "red", "blue")
	pC = player("c", "b", 6, "red", "red")
	pE = player("e", "b", 6)
	pD = player("d", "b", 3)
	pN = obj("id", "n", "board", "b") // no score: in no score index
	pX = player("x", "q", 100, "blue")
	pY = player("y", "q", 1)
)

func num(id float64) map[string]any { return obj("id", id) }

func readEngine(t testing.TB) *Memory {
	t.Helper()
	return readTestEngine(t, map[string][]map[string]any{
		"players": {pA, pC, pE, pD, pN, pX, pY},
		"nums":    {num(1), num(2), num(3), num(4), num(5)},
	},
		readIndex{table: "players", name: "board_score", fn: boardScoreFn},
		readIndex{table: "players", name: "score", fn: scoreFn},
		readIndex{table: "players", name: "tags", fn: tagsFn, multi: true},
	)
}

// runRead runs a query that must succeed and returns its kind and value
// (the sequence for Sequence, the atom for Atom).
func runRead(t *testing.T, m *Memory, query string) (ResultKind, any) {
	t.Helper()
	res, err := run(t, m, query)
	require.NoError(t, err, query)
	if res.Kind == Sequence {
		return Sequence, res.Seq
	}
	return res.Kind, res.Atom
}

// runFail runs a query that must fail with a runtime error and returns it.
func runFail(t *testing.T, m *Memory, query string) *Error {
	t.Helper()
	_, err := run(t, m, query)
	require.Error(t, err, query)
	var rerr *Error
	require.ErrorAs(t, err, &rerr, query)
	return rerr
}

// Query builders, to keep the tables below readable.
func between(seq, lo, hi string, opts string) string {
	if opts == "" {
		return fmt.Sprintf(`[182,[%s,%s,%s]]`, seq, lo, hi)
	}
	return fmt.Sprintf(`[182,[%s,%s,%s],%s]`, seq, lo, hi, opts)
}
func orderByIndex(seq, index string) string {
	return fmt.Sprintf(`[41,[%s],{"index":%s}]`, seq, index)
}
func limit(seq string, n int) string { return fmt.Sprintf(`[71,[%s,%d]]`, seq, n) }
func arr(items ...string) string     { return `[2,[` + strings.Join(items, ",") + `]]` }

const (
	minval = `[180,[]]`
	maxval = `[181,[]]`
)

func ids(rows any) []any {
	var out []any
	for _, r := range rows.([]any) {
		out = append(out, r.(map[string]any)["id"])
	}
	return out
}

// boardB is between(["b", minval], ["b", maxval], {index: "board_score"}).
var boardB = between(players, arr(`"b"`, minval), arr(`"b"`, maxval), `{"index":"board_score"}`)

func TestReadTopNThroughCompoundIndex(t *testing.T) {
	m := readEngine(t)
	tests := []struct {
		name  string
		query string
		want  []any
	}{
		// The transcript's "top-2 through index": a is 10; c and e tie at
		// 6, and descending ties come in descending primary key order.
		{"top 2 desc", limit(orderByIndex(boardB, `[74,["board_score"]]`), 2), []any{"a", "e"}},
		{"top 3 desc", limit(orderByIndex(boardB, `[74,["board_score"]]`), 3), []any{"a", "e", "c"}},
		{"ascending, ties in primary key order", orderByIndex(boardB, `"board_score"`), []any{"d", "c", "e", "a"}},
		{"r.asc index", orderByIndex(boardB, `[73,["board_score"]]`), []any{"d", "c", "e", "a"}},
		{"top 10 of 4 rows", limit(orderByIndex(boardB, `[74,["board_score"]]`), 10), []any{"a", "e", "c", "d"}},
		{"limit 0", limit(orderByIndex(boardB, `[74,["board_score"]]`), 0), nil},
		{"other board", limit(orderByIndex(between(players, arr(`"q"`, minval), arr(`"q"`, maxval), `{"index":"board_score"}`),
			`[74,["board_score"]]`), 1), []any{"x"}},
		{"order_by index then between on it", between(orderByIndex(players, `[74,["board_score"]]`),
			arr(`"b"`, "6"), arr(`"b"`, maxval), ""), []any{"a", "e", "c"}},
		{"primary index descending", limit(orderByIndex(nums, `[74,["id"]]`), 2), []any{5.0, 4.0}},
		{"score index, one board or another", orderByIndex(players, `"score"`), []any{"y", "d", "c", "e", "a", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, rows := runRead(t, m, tt.query)
			assert.Equal(t, Sequence, kind)
			assert.Equal(t, tt.want, ids(rows))
		})
	}
	// The transcript's shape: whole documents.
	_, rows := runRead(t, m, limit(orderByIndex(boardB, `[74,["board_score"]]`), 2))
	assert.Equal(t, []any{pA, pE}, rows)
}

func TestReadRangesKeepTheirRange(t *testing.T) {
	m := readEngine(t)
	eval := func(query string) any {
		var raw any
		require.NoError(t, json.Unmarshal([]byte(query), &raw))
		term, err := parseTerm(raw, 0)
		require.NoError(t, err)
		v, err := (&evalCtx{ctx: context.Background(), m: m, db: "test"}).eval(term)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name  string
		query string
		want  rangeSpec
	}{
		{"between", boardB, rangeSpec{index: "board_score", lo: []any{"b", minVal{}}, hi: []any{"b", maxVal{}}, limit: -1}},
		{"order_by desc index of between, limit", limit(orderByIndex(boardB, `[74,["board_score"]]`), 10),
			rangeSpec{index: "board_score", lo: []any{"b", minVal{}}, hi: []any{"b", maxVal{}}, ordered: true, desc: true, limit: 10}},
		{"order_by index of a table", orderByIndex(players, `"score"`),
			rangeSpec{index: "score", lo: minVal{}, hi: maxVal{}, loOpen: true, ordered: true, limit: -1}},
		{"limit of a table", limit(players, 3), rangeSpec{index: "id", lo: minVal{}, hi: maxVal{}, loOpen: true, limit: 3}},
		{"limit of a limit", limit(limit(orderByIndex(players, `"score"`), 3), 5),
			rangeSpec{index: "score", lo: minVal{}, hi: maxVal{}, loOpen: true, ordered: true, limit: 3}},
		{"slice from 0 is a limit", `[30,[` + orderByIndex(players, `"score"`) + `,0,2]]`,
			rangeSpec{index: "score", lo: minVal{}, hi: maxVal{}, loOpen: true, ordered: true, limit: 2}},
		{"between with bounds options", between(nums, "1", "3", `{"left_bound":"open","right_bound":"closed"}`),
			rangeSpec{index: "id", lo: 1.0, hi: 3.0, loOpen: true, hiClosed: true, limit: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv, ok := eval(tt.query).(*streamVal)
			require.True(t, ok)
			require.NotNil(t, sv.rng)
			require.NotNil(t, sv.table)
			assert.Equal(t, tt.want, *sv.rng)
		})
	}
	// What is no longer a range: a filter, a skip, an in-memory sort.
	for _, q := range []string{
		`[39,[` + boardB + `,{"board":"b"}]]`,
		`[70,[` + orderByIndex(players, `"score"`) + `,1]]`,
		`[41,[` + players + `,"score"]]`,
	} {
		sv, ok := eval(q).(*streamVal)
		require.True(t, ok, q)
		assert.Nil(t, sv.rng, q)
		assert.NotNil(t, sv.table, "still a selection: %s", q)
	}
}

func TestReadErrors(t *testing.T) {
	m := readEngine(t)
	scoreAbove5 := `[69,[[2,[1]],[21,[[31,[[10,[1]],"score"]],5]]]]`
	pNPrinted := "{\n\t\"board\":\t\"b\",\n\t\"id\":\t\"n\"\n}"
	tests := []struct {
		name  string
		query string
		typ   ql2.Response_ErrorType
		msg   string
	}{
		{"limit negative", limit(players, -1), ql2.Response_QUERY_LOGIC, "LIMIT takes a non-negative argument (got -1)"},
		{"limit not a sequence", `[71,[1,2]]`, ql2.Response_QUERY_LOGIC, "Cannot convert NUMBER to SEQUENCE"},
		{"limit of null", `[71,[null,2]]`, ql2.Response_NON_EXISTENCE, "Cannot convert NULL to SEQUENCE"},
		{"limit not an integer", `[71,[` + nums + `,1.5]]`, ql2.Response_QUERY_LOGIC, "Number not an integer: 1.5"},
		{"nth out of bounds", `[45,[[2,[1,2]],2]]`, ql2.Response_NON_EXISTENCE, "Index out of bounds: 2"},
		{"nth negative out of bounds", `[45,[[2,[1,2]],-3]]`, ql2.Response_NON_EXISTENCE, "Index out of bounds: -3"},
		{"nth of a stream out of bounds", `[45,[` + nums + `,7]]`, ql2.Response_NON_EXISTENCE, "Index out of bounds: 7"},
		{"nth of a stream, index < -1", `[45,[` + nums + `,-2]]`, ql2.Response_QUERY_LOGIC, "Cannot use an index < -1 (-2) on a stream."},
		{"nth of an empty stream, -1", `[45,[` + between(nums, "9", maxval, "") + `,-1]]`, ql2.Response_NON_EXISTENCE, "Index out of bounds: -1"},
		{"nth of a non-array", `[45,["abc",0]]`, ql2.Response_QUERY_LOGIC, "Expected type ARRAY but found STRING."},
		{"skip a stream negative", `[70,[` + nums + `,-1]]`, ql2.Response_QUERY_LOGIC, "Cannot use a negative left index on a stream."},
		{"slice a stream right < -1", `[30,[` + nums + `,0,-2]]`, ql2.Response_QUERY_LOGIC, "Cannot use a right index < -1 on a stream."},
		{"slice a stream to open -1", `[30,[` + nums + `,0,-1]]`, ql2.Response_QUERY_LOGIC, "Cannot slice to an open right index of -1 on a stream."},
		{"slice a number", `[30,[1,0,1]]`, ql2.Response_QUERY_LOGIC, "Expected ARRAY, BINARY, or STRING, but found NUMBER."},
		{"slice bad bound", `[30,[[2,[1]],0,1],{"left_bound":"half"}]`, ql2.Response_QUERY_LOGIC,
			"Expected `open` or `closed` for optarg `left_bound` (got `\"half\"`)."},
		{"between bad bound", between(nums, "1", "2", `{"right_bound":1}`), ql2.Response_QUERY_LOGIC, "Expected type STRING but found NUMBER."},
		{"between null", between(nums, "null", "2", ""), ql2.Response_QUERY_LOGIC,
			"Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness."},
		{"between unknown index", between(nums, "1", "2", `{"index":"nope"}`), ql2.Response_OP_FAILED,
			"Index `nope` was not found on table `test.nums`."},
		{"between twice", between(between(nums, "1", "4", ""), "2", "3", ""), ql2.Response_QUERY_LOGIC,
			"Cannot perform multiple BETWEENs on the same table."},
		{"between twice, even minval to maxval", between(between(nums, minval, maxval, ""), "2", "3", ""), ql2.Response_QUERY_LOGIC,
			"Cannot perform multiple BETWEENs on the same table."},
		{"between after ordering on another index", between(orderByIndex(players, `"score"`), "1", "2", `{"index":"id"}`),
			ql2.Response_QUERY_LOGIC, "Cannot call BETWEEN on index `id` after ordering on index `score`."},
		{"between on a selection", between(`[39,[`+nums+`,true]]`, "1", "2", ""), ql2.Response_QUERY_LOGIC,
			"Expected type TABLE_SLICE but found SELECTION:\nSELECTION ON table(nums)"},
		{"between on an array", between(`[2,[1]]`, "1", "2", ""), ql2.Response_QUERY_LOGIC,
			"Expected type TABLE_SLICE but found DATUM:\n[\n\t1\n]"},
		{"between on a limit", between(limit(nums, 2), "1", "2", ""), ql2.Response_QUERY_LOGIC,
			"Expected type TABLE_SLICE but found SELECTION:\nSELECTION ON table(nums)"},
		{"order_by index on another between's index", orderByIndex(between(players, "1", "7", `{"index":"score"}`), `"id"`),
			ql2.Response_QUERY_LOGIC, "Cannot order by index `id` after calling BETWEEN on index `score`."},
		{"order_by index on a primary between", orderByIndex(between(players, `"a"`, `"z"`, ""), `"score"`),
			ql2.Response_QUERY_LOGIC, "Cannot order by index `score` after calling BETWEEN on index `id`."},
		{"order_by index twice", orderByIndex(orderByIndex(players, `"score"`), `"score"`), ql2.Response_QUERY_LOGIC,
			"Cannot perform multiple indexed ORDER_BYs on the same table."},
		{"order_by index of a filter", orderByIndex(`[39,[`+players+`,true]]`, `"score"`), ql2.Response_QUERY_LOGIC,
			"Indexed order_by can only be performed on a TABLE or TABLE_SLICE. Make sure order_by comes before any transformations (such as map) or filters."},
		{"order_by index of an array", orderByIndex(`[2,[1]]`, `"score"`), ql2.Response_QUERY_LOGIC,
			"Indexed order_by can only be performed on a TABLE or TABLE_SLICE. Make sure order_by comes before any transformations (such as map) or filters."},
		{"order_by unknown index", orderByIndex(players, `"nope"`), ql2.Response_OP_FAILED,
			"Index `nope` was not found on table `test.players`."},
		{"order_by nothing", `[41,[` + players + `]]`, ql2.Response_QUERY_LOGIC, "Must specify something to order by."},
		{"order_by a non-deterministic function", `[41,[` + players + `,[69,[[2,[1]],[169,[]]]]]]`, ql2.Response_QUERY_LOGIC,
			"Sorting by a non-deterministic function is not supported."},
		{"order_by a field of numbers", `[41,[[2,[1,2]],"a"]]`, ql2.Response_QUERY_LOGIC,
			"Cannot perform bracket on a non-object non-sequence `1`."},
		{"order_by a table key", `[41,[` + players + `,` + nums + `]]`, ql2.Response_QUERY_LOGIC,
			"Expected type FUNCTION but found TABLE:\ntable(\"nums\")"},
		{"get_all null", `[78,[` + players + `,null]]`, ql2.Response_NON_EXISTENCE, "Keys cannot be NULL."},
		{"get_all unknown index", `[78,[` + players + `,1],{"index":"nope"}]`, ql2.Response_OP_FAILED,
			"Index `nope` was not found on table `test.players`."},
		{"get_all on a range", `[78,[` + boardB + `,1]]`, ql2.Response_QUERY_LOGIC,
			"Expected type TABLE but found TABLE_SLICE:\nSELECTION ON table(players)"},
		{"get_all index not a string", `[78,[` + players + `,1],{"index":false}]`, ql2.Response_QUERY_LOGIC,
			"Expected type STRING but found BOOL."},
		{"filter default r.error() raises the missing field", `[39,[` + players + `,` + scoreAbove5 + `],{"default":[12,[]]}]`,
			ql2.Response_NON_EXISTENCE, "No attribute `score` in object:\n" + pNPrinted},
		{"filter default r.error(msg) raises msg", `[39,[` + players + `,` + scoreAbove5 + `],{"default":[12,["boom"]]}]`,
			ql2.Response_USER, "boom"},
		{"filter predicate, other errors pass", `[39,[[2,[1]],[69,[[2,[1]],[12,["boom"]]]]],{"default":true}]`, ql2.Response_USER, "boom"},
		{"filter predicate a table", `[39,[[2,[1]],` + nums + `]]`, ql2.Response_QUERY_LOGIC,
			"Expected type FUNCTION but found TABLE:\ntable(\"nums\")"},
		{"filter of a number", `[39,[1,true]]`, ql2.Response_QUERY_LOGIC, "Cannot convert NUMBER to SEQUENCE"},
		{"filter of a document", `[39,[[16,[` + players + `,"a"]],true]]`, ql2.Response_QUERY_LOGIC,
			"Expected type SEQUENCE but found SINGLE_SELECTION:\n" + Print(pA)},
		{"map arity", `[38,[[2,[1]],[69,[[2,[1,2]],1]]]]`, ql2.Response_QUERY_LOGIC,
			"The function passed to `map` expects 2 arguments, but 1 sequence was found."},
		{"map not a function", `[38,[[2,[1]],1]]`, ql2.Response_QUERY_LOGIC, "Expected type FUNCTION but found DATUM:\n1"},
		{"map returning a table", `[38,[[2,[1]],[69,[[2,[1]],` + nums + `]]]]`, ql2.Response_QUERY_LOGIC,
			"Expected type DATUM but found TABLE:\ntable(\"nums\")"},
		{"count not a sequence", `[43,[1]]`, ql2.Response_QUERY_LOGIC, "Cannot convert NUMBER to SEQUENCE"},
		{"is_empty not a sequence", `[86,["a"]]`, ql2.Response_QUERY_LOGIC, "Cannot convert STRING to SEQUENCE"},
		{"order_by a multi index", orderByIndex(players, `"tags"`), ql2.Response_QUERY_LOGIC,
			"`order_by` on a multi index is not supported by the embedded RethinkDB-compatible server (minirethink)."},
		{"get_all an object key", `[78,[` + players + `,{"a":1}]]`, ql2.Response_QUERY_LOGIC,
			"A `get_all` key that is an object, or an array holding one or null, is not supported by the embedded RethinkDB-compatible server (minirethink)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rerr := runFail(t, m, tt.query)
			assert.Equal(t, ql2.Response_RUNTIME_ERROR, rerr.Response)
			assert.Equal(t, tt.typ, rerr.Type)
			assert.Equal(t, tt.msg, rerr.Msg)
		})
	}
}

func TestReadArityAndOptions(t *testing.T) {
	m := readEngine(t)
	tests := []struct {
		query, msg string
	}{
		{`[182,[` + nums + `,1]]`, "Expected 3 arguments but found 2."},
		{`[71,[` + nums + `]]`, "Expected 2 arguments but found 1."},
		{`[30,[` + nums + `]]`, "Expected between 2 and 3 arguments but found 1."},
		{`[41,[]]`, "Expected 1 or more arguments but found 0."},
		{`[71,[` + nums + `,1],{"index":"id"}]`, "Unrecognized optional argument `index`."},
		{`[39,[` + nums + `,true],{"dflt":1}]`, "Unrecognized optional argument `dflt`."},
	}
	for _, tt := range tests {
		rerr := runFail(t, m, tt.query)
		assert.Equal(t, ql2.Response_COMPILE_ERROR, rerr.Response, tt.query)
		assert.Equal(t, tt.msg, rerr.Msg, tt.query)
	}
}

// The feeds are built from the ranges these terms make.
func TestReadRangesFeedChanges(t *testing.T) {
	m := readEngine(t)
	top2 := limit(orderByIndex(boardB, `[74,["board_score"]]`), 2)
	f := openFeed(t, m, `[152,[`+top2+`],{"include_initial":true,"include_types":true}]`)
	assert.Equal(t, []ql2.Response_ResponseNote{ql2.Response_ORDER_BY_LIMIT_FEED}, f.Notes())
	assert.Equal(t, []any{obj("new_val", pA, "type", "initial"), obj("new_val", pE, "type", "initial")}, nextBatch(t, f, false))
	mustRun(t, m, `[56,[`+players+`,{"id":"f","board":"b","score":20}]]`)
	assert.Equal(t, []any{obj("old_val", pE, "new_val", player("f", "b", 20), "type", "change")}, nextBatch(t, f, true))

	rf := openFeed(t, m, `[152,[`+between(players, arr(`"b"`, "6"), arr(`"b"`, "10"), `{"index":"board_score"}`)+`],{"include_initial":true}]`)
	assert.Equal(t, []ql2.Response_ResponseNote{ql2.Response_SEQUENCE_FEED}, rf.Notes())
	assert.Equal(t, []any{obj("new_val", pC), obj("new_val", pE)}, nextBatch(t, rf, false))

	rerr := runFail(t, m, `[152,[`+limit(boardB, 2)+`]]`)
	assert.Equal(t, "Cannot get changes on the first elements of an unordered stream.", rerr.Msg)
}

// A result holding r.minval or r.maxval fails as RethinkDB fails to write
// it (json.cc write_response_internal turns datum_t::write_json's
// "Cannot convert `r.minval` to JSON." into a QUERY_LOGIC runtime error with
// an empty backtrace); the first one in the order the result is written
// names the error.
func TestReadMinvalMaxvalAreNotJSON(t *testing.T) {
	m := readEngine(t)
	for q, msg := range map[string]string{
		minval:           "Cannot convert `r.minval` to JSON.",
		arr("1", maxval): "Cannot convert `r.maxval` to JSON.",
		`{"b":` + minval + `,"a":` + maxval + `}`:            "Cannot convert `r.maxval` to JSON.",
		`[38,[[15,["nums"]],[69,[[2,[1]],` + minval + `]]]]`: "Cannot convert `r.minval` to JSON.",
	} {
		rerr := runFail(t, m, q)
		assert.Equal(t, ql2.Response_RUNTIME_ERROR, rerr.Response, q)
		assert.Equal(t, ql2.Response_QUERY_LOGIC, rerr.Type, q)
		assert.Equal(t, msg, rerr.Msg, q)
		assert.Equal(t, []any{}, rerr.Backtrace, q)
	}
}

// A document whose index value is r.minval or r.maxval, or an array holding
// one, is not in the index: datum_t::print_secondary refuses them
// ("Cannot use `r.minval` or `r.maxval` in an index key.", datum.cc) and
// compute_keys' caller leaves such a document out; in a multi index only
// that element is left out (btree.cc, reql_version >= 2.1).
func TestReadIndexHoldsNoExtrema(t *testing.T) {
	// ext is r.minval for id 1, r.maxval for id 2, the id otherwise.
	id := `[31,[[10,[1]],"id"]]`
	ext := `[65,[[17,[` + id + `,1]],` + minval + `,[65,[[17,[` + id + `,2]],` + maxval + `,` + id + `]]]]`
	m := readTestEngine(t, map[string][]map[string]any{"nums": {num(1), num(2), num(3)}},
		readIndex{table: "nums", name: "ext", fn: `[69,[[2,[1]],` + ext + `]]`},
		readIndex{table: "nums", name: "arr", fn: `[69,[[2,[1]],[2,[` + ext + `]]]]`},
		readIndex{table: "nums", name: "multi", fn: `[69,[[2,[1]],[2,[` + ext + `,` + id + `]]]]`, multi: true},
	)
	for _, tc := range []struct {
		name, query string
		want        []any
	}{
		{"ordered by the index", orderByIndex(nums, `"ext"`), []any{3.0}},
		{"between the extrema", between(nums, minval, maxval, `{"index":"ext"}`), []any{3.0}},
		{"an array holding one", orderByIndex(nums, `"arr"`), []any{3.0}},
		// id 1 has keys 1 (its id) only, id 2 keys 2, id 3 keys 3 twice.
		{"multi index", between(nums, minval, maxval, `{"index":"multi"}`), []any{1.0, 2.0, 3.0, 3.0}},
	} {
		_, rows := runRead(t, m, tc.query)
		assert.Equal(t, tc.want, ids(rows), tc.name)
	}
}
