package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// writeTestEngine is an engine with table test.players holding docs, made
// without table_create so that these tests depend on nothing but the writes.
func writeTestEngine(t *testing.T, docs ...map[string]any) (*Memory, *Table) {
	t.Helper()
	m := New()
	db := m.dbs["test"]
	tb := newTable(db, newUUID(), "players", "id")
	db.tables["players"] = tb
	ec := &evalCtx{ctx: t.Context(), m: m, db: "test"}
	for _, d := range docs {
		tb.commit(ec, d["id"], nil, d)
	}
	return m, tb
}

// runAtom runs a query that must succeed with an atom.
func runAtom(t *testing.T, m *Memory, query string) any {
	t.Helper()
	res, err := run(t, m, query)
	require.NoError(t, err, query)
	require.Equal(t, Atom, res.Kind, query)
	return res.Atom
}

// stats is a write result with the counters every result has.
func stats(inserted, deleted, replaced, unchanged, skipped, errs int, extra map[string]any) map[string]any {
	r := map[string]any{
		"inserted": float64(inserted), "deleted": float64(deleted), "replaced": float64(replaced),
		"unchanged": float64(unchanged), "skipped": float64(skipped), "errors": float64(errs),
	}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func obj(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

const playersTable = `[15,["players"]]`

func TestWriteResults(t *testing.T) {
	a := obj("board", "b", "id", "a", "name", "A", "score", 10.0)
	c := obj("board", "b", "id", "c", "name", "C", "score", 5.0)
	dupA := "Duplicate primary key `id`:\n{\n\t\"board\":\t\"b\",\n\t\"id\":\t\"a\",\n\t\"name\":\t\"A\",\n\t\"score\":\t10\n}\n{\n\t\"id\":\t\"a\"\n}"
	tests := []struct {
		name  string
		query string
		want  map[string]any
		// after is the document with id "a" afterwards (nil: deleted).
		after map[string]any
	}{
		{
			name:  "insert with ids",
			query: `[56,[` + playersTable + `,[2,[{"id":"x","score":1},{"id":"y","score":2}]]]]`,
			want:  stats(2, 0, 0, 0, 0, 0, nil),
			after: a,
		},
		{
			// The transcript's "insert conflict error", byte for byte.
			name:  "insert duplicate primary key",
			query: `[56,[` + playersTable + `,{"id":"a"}]]`,
			want:  stats(0, 0, 0, 0, 0, 1, obj("first_error", dupA)),
			after: a,
		},
		{
			name:  "insert conflict replace",
			query: `[56,[` + playersTable + `,{"id":"a","score":1}],{"conflict":"replace"}]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("id", "a", "score", 1.0),
		},
		{
			name:  "insert conflict update merges",
			query: `[56,[` + playersTable + `,{"id":"a","score":1}],{"conflict":"update"}]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("board", "b", "id", "a", "name", "A", "score", 1.0),
		},
		{
			name:  "insert conflict update with the same values is unchanged",
			query: `[56,[` + playersTable + `,{"id":"a","score":10}],{"conflict":"update"}]`,
			want:  stats(0, 0, 0, 1, 0, 0, nil),
			after: a,
		},
		{
			name:  "insert conflict function gets id, old and new",
			query: `[56,[` + playersTable + `,{"id":"a","score":1}],{"conflict":[69,[[2,[1,2,3]],{"id":[10,[1]],"old":[10,[2]],"new":[10,[3]]}]]}]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("id", "a", "old", a, "new", obj("id", "a", "score", 1.0)),
		},
		{
			name:  "insert conflict function returning null deletes",
			query: `[56,[` + playersTable + `,{"id":"a"}],{"conflict":[69,[[2,[1,2,3]],null]]}]`,
			want:  stats(0, 1, 0, 0, 0, 0, nil),
		},
		{
			name:  "insert conflict function returning a number",
			query: `[56,[` + playersTable + `,{"id":"a"}],{"conflict":[69,[[2,[1,2,3]],2]]}]`,
			want:  stats(0, 0, 0, 0, 0, 1, obj("first_error", "Inserted value must be an OBJECT (got NUMBER):\n2")),
			after: a,
		},
		{
			// RethinkDB's regression test for issue 5683.
			name:  "insert the same key twice, return_changes always",
			query: `[56,[` + playersTable + `,[2,[{"id":666},{"id":666}]]],{"return_changes":"always"}]`,
			want: stats(1, 0, 0, 0, 0, 1, obj(
				"first_error", "Duplicate primary key `id`:\n{\n\t\"id\":\t666\n}\n{\n\t\"id\":\t666\n}",
				"changes", []any{
					obj("new_val", obj("id", 666.0), "old_val", nil),
					obj("error", "Duplicate primary key `id`:\n{\n\t\"id\":\t666\n}\n{\n\t\"id\":\t666\n}",
						"new_val", obj("id", 666.0), "old_val", obj("id", 666.0)),
				})),
			after: a,
		},
		{
			name:  "insert return_changes true leaves errors out",
			query: `[56,[` + playersTable + `,[2,[{"id":"a"},{"id":"n"}]]],{"return_changes":true}]`,
			want: stats(1, 0, 0, 0, 0, 1, obj("first_error", dupA,
				"changes", []any{obj("new_val", obj("id", "n"), "old_val", nil)})),
			after: a,
		},
		{
			name:  "insert a key too long",
			query: `[56,[` + playersTable + `,{"id":"` + string(make128('k')) + `"}]]`,
			want: stats(0, 0, 0, 0, 0, 1, obj("first_error",
				`Primary key too long (max 127 characters): "`+string(make128('k'))+`"`)),
			after: a,
		},
		{
			name:  "insert a non-object in an array",
			query: `[56,[` + playersTable + `,[2,[1]]]]`,
			want:  stats(0, 0, 0, 0, 0, 1, obj("first_error", "Expected type OBJECT but found NUMBER.")),
			after: a,
		},
		{
			name:  "update a document",
			query: `[53,[[16,[` + playersTable + `,"a"]],{"score":11}]]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("board", "b", "id", "a", "name", "A", "score", 11.0),
		},
		{
			name:  "update merges nested objects",
			query: `[53,[[16,[` + playersTable + `,"a"]],{"meta":{"x":1}}]]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("board", "b", "id", "a", "name", "A", "score", 10.0, "meta", obj("x", 1.0)),
		},
		{
			name:  "update with the same values is unchanged",
			query: `[53,[[16,[` + playersTable + `,"a"]],{"score":10}]]`,
			want:  stats(0, 0, 0, 1, 0, 0, nil),
			after: a,
		},
		{
			name:  "update returning null is unchanged",
			query: `[53,[[16,[` + playersTable + `,"a"]],[69,[[2,[1]],null]]]]`,
			want:  stats(0, 0, 0, 1, 0, 0, nil),
			after: a,
		},
		{
			name:  "update a missing document is skipped",
			query: `[53,[[16,[` + playersTable + `,"zz"]],{"score":1}]]`,
			want:  stats(0, 0, 0, 0, 1, 0, nil),
			after: a,
		},
		{
			name:  "update return_changes true on an unchanged document",
			query: `[53,[[16,[` + playersTable + `,"a"]],{"score":10}],{"return_changes":true}]`,
			want:  stats(0, 0, 0, 1, 0, 0, obj("changes", []any{})),
			after: a,
		},
		{
			name:  "update return_changes always on an unchanged document",
			query: `[53,[[16,[` + playersTable + `,"a"]],{"score":10}],{"return_changes":"always"}]`,
			want:  stats(0, 0, 0, 1, 0, 0, obj("changes", []any{obj("new_val", a, "old_val", a)})),
			after: a,
		},
		{
			name:  "update return_changes always on a missing document",
			query: `[53,[[16,[` + playersTable + `,"zz"]],{"score":1}],{"return_changes":"always"}]`,
			want:  stats(0, 0, 0, 0, 1, 0, obj("changes", []any{obj("new_val", nil, "old_val", nil)})),
			after: a,
		},
		{
			name:  "update changing the primary key",
			query: `[53,[[16,[` + playersTable + `,"c"]],{"id":"z"}]]`,
			want: stats(0, 0, 0, 0, 0, 1, obj("first_error",
				"Primary key `id` cannot be changed (`"+Print(c)+"` -> `"+Print(obj("board", "b", "id", "z", "name", "C", "score", 5.0))+"`).")),
			after: a,
		},
		{
			name:  "update changing the primary key, return_changes always",
			query: `[53,[[16,[` + playersTable + `,"c"]],{"id":"z"}],{"return_changes":"always"}]`,
			want: stats(0, 0, 0, 0, 0, 1, obj(
				"first_error", "Primary key `id` cannot be changed (`"+Print(c)+"` -> `"+Print(obj("board", "b", "id", "z", "name", "C", "score", 5.0))+"`).",
				"changes", []any{obj("new_val", c, "old_val", c,
					"error", "Primary key `id` cannot be changed (`"+Print(c)+"` -> `"+Print(obj("board", "b", "id", "z", "name", "C", "score", 5.0))+"`).")})),
			after: a,
		},
		{
			name:  "update the whole table",
			query: `[53,[` + playersTable + `,{"board":"q"}]]`,
			want:  stats(0, 0, 2, 0, 0, 0, nil),
			after: obj("board", "q", "id", "a", "name", "A", "score", 10.0),
		},
		{
			name:  "update with r.row",
			query: `[53,[[16,[` + playersTable + `,"a"]],[69,[[2,[1]],{"copy":[10,[1]]}]]]]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("board", "b", "id", "a", "name", "A", "score", 10.0, "copy", a),
		},
		{
			name:  "replace without the primary key",
			query: `[55,[[16,[` + playersTable + `,"a"]],{"x":1}]]`,
			want:  stats(0, 0, 0, 0, 0, 1, obj("first_error", "Inserted object must have primary key `id`:\n{\n\t\"x\":\t1\n}")),
			after: a,
		},
		{
			name:  "replace a document",
			query: `[55,[[16,[` + playersTable + `,"a"]],{"id":"a","x":1}]]`,
			want:  stats(0, 0, 1, 0, 0, 0, nil),
			after: obj("id", "a", "x", 1.0),
		},
		{
			name:  "replace with null deletes",
			query: `[55,[[16,[` + playersTable + `,"a"]],null]]`,
			want:  stats(0, 1, 0, 0, 0, 0, nil),
		},
		{
			name:  "replace a missing document inserts it",
			query: `[55,[[16,[` + playersTable + `,"n"]],{"id":"n"}]]`,
			want:  stats(1, 0, 0, 0, 0, 0, nil),
			after: a,
		},
		{
			name:  "replace a missing document under another key",
			query: `[55,[[16,[` + playersTable + `,"n"]],{"id":"m"}]]`,
			want:  stats(0, 0, 0, 0, 0, 1, obj("first_error", "Primary key `id` cannot be changed (null -> {\n\t\"id\":\t\"m\"\n})")),
			after: a,
		},
		{
			name:  "delete a document with return_changes",
			query: `[54,[[16,[` + playersTable + `,"a"]]],{"return_changes":true}]`,
			want:  stats(0, 1, 0, 0, 0, 0, obj("changes", []any{obj("new_val", nil, "old_val", a)})),
		},
		{
			name:  "delete a missing document is skipped",
			query: `[54,[[16,[` + playersTable + `,"zz"]]]]`,
			want:  stats(0, 0, 0, 0, 1, 0, nil),
			after: a,
		},
		{
			name:  "delete the table",
			query: `[54,[` + playersTable + `],{"durability":"soft"}]`,
			want:  stats(0, 2, 0, 0, 0, 0, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, tb := writeTestEngine(t, a, c)
			assert.Equal(t, tt.want, runAtom(t, m, tt.query))
			assert.Equal(t, nullable(tt.after), nullable(tb.Get("a")))
		})
	}
}

func make128(c byte) []byte {
	b := make([]byte, 128)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestInsertGeneratedKeys(t *testing.T) {
	m, tb := writeTestEngine(t)
	res := runAtom(t, m, `[56,[`+playersTable+`,[2,[{"name":"x"},{"name":"y"}]]],{"return_changes":true}]`).(map[string]any)
	keys, ok := res["generated_keys"].([]any)
	require.True(t, ok, "generated_keys in %v", res)
	require.Len(t, keys, 2)
	changes := res["changes"].([]any)
	for i, k := range keys {
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, k)
		doc := tb.Get(k)
		require.NotNil(t, doc, "document %s", k)
		assert.Equal(t, doc, changes[i].(map[string]any)["new_val"], "changes follow the input order")
	}
	assert.Equal(t, 2.0, res["inserted"])
}

func TestWriteQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		typ   ql2.Response_ErrorType
		resp  ql2.Response_ResponseType
		msg   string
	}{
		{"bad durability", `[56,[` + playersTable + `,{"id":1}],{"durability":"wrong"}]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, `Durability option ` + "`wrong`" + ` unrecognized (options are "hard" and "soft").`},
		{"bad conflict", `[56,[` + playersTable + `,{"id":1}],{"conflict":"wrong"}]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, `Conflict option ` + "`wrong`" + ` unrecognized (options are "error", "replace" and "update").`},
		{"conflict function arity", `[56,[` + playersTable + `,{"id":1}],{"conflict":[69,[[2,[1,2]],null]]}]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, "The conflict function passed to `insert` should expect 3 arguments."},
		{"conflict function reads a table", `[56,[` + playersTable + `,{"id":1}],{"conflict":[69,[[2,[1,2,3]],[16,[` + playersTable + `,1]]]]}]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, "The conflict function passed to `insert` must be deterministic."},
		{"update reading a table", `[53,[[16,[` + playersTable + `,"a"]],{"x":[16,[` + playersTable + `,"c"]]}]]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, writeNonDeterministicMsg},
		{"replace reading a table", `[55,[` + playersTable + `,[69,[[2,[1]],[16,[` + playersTable + `,"c"]]]]]]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, writeNonDeterministicMsg},
		{"unknown option", `[53,[` + playersTable + `,{}],{"conflict":"update"}]`,
			0, ql2.Response_COMPILE_ERROR, "Unrecognized optional argument `conflict`."},
		{"update of a datum", `[53,[[2,[1]],{}]]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, "Expected type SELECTION but found DATUM:\n[\n\t1\n]"},
		// As a rethinkdbdash test recorded against a real server shows it.
		{"update of an array", `[53,[[2,[1,2,3]],{}]]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, "Expected type SELECTION but found DATUM:\n[\n\t1,\n\t2,\n\t3\n]"},
		{"insert of a number", `[56,[` + playersTable + `,1]]`,
			ql2.Response_QUERY_LOGIC, ql2.Response_RUNTIME_ERROR, "Cannot convert NUMBER to SEQUENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, tb := writeTestEngine(t, obj("id", "a"), obj("id", "c"))
			_, err := run(t, m, tt.query)
			var rerr *Error
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, tt.resp, rerr.Response)
			if tt.resp == ql2.Response_RUNTIME_ERROR {
				assert.Equal(t, tt.typ, rerr.Type)
			}
			assert.Equal(t, tt.msg, rerr.Msg)
			assert.Equal(t, 2, tb.Len(), "nothing written")
		})
	}
}

func TestUpdateNonAtomicReadsOtherDocuments(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", "a"), obj("id", "c", "v", 7.0))
	res := runAtom(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"x":[16,[`+playersTable+`,"c"]]}],{"non_atomic":true}]`)
	assert.Equal(t, stats(0, 0, 1, 0, 0, 0, nil), res)
	assert.Equal(t, obj("id", "a", "x", obj("id", "c", "v", 7.0)), tb.Get("a"))
}

func TestMergeLiteral(t *testing.T) {
	base := obj("a", obj("b", 1.0, "c", 2.0), "d", 3.0)
	tests := []struct {
		name  string
		patch map[string]any
		want  map[string]any
	}{
		{"nested merge", obj("a", obj("b", 5.0)), obj("a", obj("b", 5.0, "c", 2.0), "d", 3.0)},
		{"literal replaces", obj("a", obj("$reql_type$", "LITERAL", "value", obj("b", 5.0))), obj("a", obj("b", 5.0), "d", 3.0)},
		{"empty literal removes", obj("d", obj("$reql_type$", "LITERAL")), obj("a", obj("b", 1.0, "c", 2.0))},
		{"literal in a new field", obj("e", obj("f", obj("$reql_type$", "LITERAL", "value", 1.0))), obj("a", obj("b", 1.0, "c", 2.0), "d", 3.0, "e", obj("f", 1.0))},
		{"non-object replaces", obj("a", 1.0), obj("a", 1.0, "d", 3.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mergeDatum(base, tt.patch))
			assert.Equal(t, obj("a", obj("b", 1.0, "c", 2.0), "d", 3.0), base, "base not mutated")
		})
	}
}
