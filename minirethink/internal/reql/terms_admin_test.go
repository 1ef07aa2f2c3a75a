package reql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

// Terms as the driver sends them, for the admin tests.
const (
	wireDB      = `[14,["wire"]]`
	wirePlayers = `[15,[[14,["wire"]],"players"]]`
	// boardScoreFunc is the transcript's compound index function.
	boardScoreFunc = `[69,[[2,[1]],[2,[[31,[[10,[1]],"board"]],[31,[[10,[1]],"score"]]]]]]`
	// boardScoreQuery is that index's query in the transcript's index_wait.
	boardScoreQuery = `indexCreate('board_score', function(var1) { return r.expr([var1.getField("board"), var1.getField("score")]); })`
)

// adminEngine is an engine named like the transcript's server, with the
// database wire and its table players.
func adminEngine(t *testing.T) *Memory {
	t.Helper()
	m := New()
	m.ServerName = "vm_n1l"
	mustRun(t, m, `[57,["wire"]]`)
	mustRun(t, m, `[60,[`+wireDB+`,"players"]]`)
	return m
}

// runError runs a query that must fail and returns its error.
func runError(t *testing.T, m *Memory, query string) *Error {
	t.Helper()
	_, err := run(t, m, query)
	var rerr *Error
	require.ErrorAs(t, err, &rerr, query)
	return rerr
}

func TestDBCreateDropList(t *testing.T) {
	m := New()
	created := runAtom(t, m, `[57,["wire"]]`).(map[string]any)
	changes := created["config_changes"].([]any)
	require.Len(t, changes, 1)
	newVal := changes[0].(map[string]any)["new_val"].(map[string]any)
	assert.Regexp(t, uuidPattern, newVal["id"])
	assert.Equal(t, m.dbs["wire"].id, newVal["id"])
	assert.Equal(t, obj(
		"config_changes", []any{obj("new_val", obj("id", newVal["id"], "name", "wire"), "old_val", nil)},
		"dbs_created", 1.0,
	), created, "the transcript's db_create")

	assert.Equal(t, []any{"rethinkdb", "test", "wire"}, runAtom(t, m, `[59,[]]`),
		"db_list: the system database, test and the new one, sorted")

	mustRun(t, m, `[60,[`+wireDB+`,"a"]]`)
	mustRun(t, m, `[60,[`+wireDB+`,"b"]]`)
	dropped := runAtom(t, m, `[58,["wire"]]`)
	assert.Equal(t, obj(
		"config_changes", []any{obj("new_val", nil, "old_val", obj("id", newVal["id"], "name", "wire"))},
		"dbs_dropped", 1.0,
		"tables_dropped", 2.0,
	), dropped, "the transcript's db_drop")
	assert.Equal(t, []any{"rethinkdb", "test"}, runAtom(t, m, `[59,[]]`))
	assert.Equal(t, "Database `wire` does not exist.", runError(t, m, `[15,[`+wireDB+`,"a"]]`).Msg,
		"the tables went with the database")
}

func TestTableCreateResult(t *testing.T) {
	m := New()
	m.ServerName = "vm_n1l"
	mustRun(t, m, `[57,["wire"]]`)
	res := runAtom(t, m, `[60,[`+wireDB+`,"players"]]`).(map[string]any)
	tb := m.dbs["wire"].tables["players"]
	require.NotNil(t, tb)
	assert.Regexp(t, uuidPattern, tb.id)
	// The transcript's table_create, with this table's id.
	want := `{"config_changes":[{"new_val":{"db":"wire","durability":"hard","id":"` + tb.id + `","indexes":[],` +
		`"name":"players","primary_key":"id","shards":[{"nonvoting_replicas":[],"primary_replica":"vm_n1l",` +
		`"replicas":["vm_n1l"]}],"write_acks":"majority","write_hook":null},"old_val":null}],"tables_created":1}`
	got, err := json.Marshal(res)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(got))
	assert.Equal(t, want, string(got), "byte for byte, keys sorted as RethinkDB sends them")
}

func TestTableCreateOptions(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		check  func(t *testing.T, tb *Table, newVal map[string]any)
		server string
	}{
		{
			name:  "default database and server name",
			query: `[60,["t"]]`,
			check: func(t *testing.T, tb *Table, nv map[string]any) {
				assert.Equal(t, "test", nv["db"])
				assert.Equal(t, []any{obj("nonvoting_replicas", []any{}, "primary_replica", "minirethink",
					"replicas", []any{"minirethink"})}, nv["shards"])
			},
		},
		{
			name:  "primary key",
			query: `[60,["t"],{"primary_key":"name"}]`,
			check: func(t *testing.T, tb *Table, nv map[string]any) {
				assert.Equal(t, "name", tb.primaryKey)
				assert.Equal(t, "name", nv["primary_key"])
			},
		},
		{
			name:  "soft durability",
			query: `[60,["t"],{"durability":"soft"}]`,
			check: func(t *testing.T, tb *Table, nv map[string]any) {
				assert.Equal(t, "soft", nv["durability"])
			},
		},
		{
			name:   "two shards on the one server",
			query:  `[60,["t"],{"shards":2,"replicas":1}]`,
			server: "s",
			check: func(t *testing.T, tb *Table, nv map[string]any) {
				shard := obj("nonvoting_replicas", []any{}, "primary_replica", "s", "replicas", []any{"s"})
				assert.Equal(t, []any{shard, shard}, nv["shards"])
			},
		},
		{
			name:  "replicas by tag",
			query: `[60,["t"],{"replicas":{"default":1,"other":0},"primary_replica_tag":"default","nonvoting_replica_tags":[2,[]]}]`,
			check: func(t *testing.T, tb *Table, nv map[string]any) {
				assert.Len(t, nv["shards"], 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.ServerName = tt.server
			res := runAtom(t, m, tt.query).(map[string]any)
			assert.Equal(t, 1.0, res["tables_created"])
			tb := m.dbs["test"].tables["t"]
			require.NotNil(t, tb)
			nv := res["config_changes"].([]any)[0].(map[string]any)["new_val"].(map[string]any)
			tt.check(t, tb, nv)
		})
	}
}

func TestTableDropAndList(t *testing.T) {
	m := adminEngine(t)
	tb := m.dbs["wire"].tables["players"]
	mustRun(t, m, `[60,[`+wireDB+`,"alpha"]]`)
	mustRun(t, m, `[75,[`+wirePlayers+`,"k",[69,[[2,[1]],1]]]]`)
	assert.Equal(t, []any{"alpha", "players"}, runAtom(t, m, `[62,[`+wireDB+`]]`), "table_list, sorted")
	assert.Equal(t, []any{}, runAtom(t, m, `[62,[]]`), "table_list of the default database")

	res := runAtom(t, m, `[61,[`+wireDB+`,"players"]]`)
	assert.Equal(t, obj(
		"config_changes", []any{obj("new_val", nil, "old_val", obj(
			"db", "wire", "durability", "hard", "id", tb.id, "indexes", []any{"k"}, "name", "players",
			"primary_key", "id", "write_acks", "majority", "write_hook", nil,
			"shards", []any{obj("nonvoting_replicas", []any{}, "primary_replica", "vm_n1l", "replicas", []any{"vm_n1l"})},
		))},
		"tables_dropped", 1.0,
	), res)
	assert.True(t, tb.dropped)
	assert.Equal(t, []any{"alpha"}, runAtom(t, m, `[62,[`+wireDB+`]]`))

	mustRun(t, m, `[60,["mine"]]`)
	assert.Equal(t, 1.0, runAtom(t, m, `[61,["mine"]]`).(map[string]any)["tables_dropped"],
		"table_drop in the default database")
}

func TestAdminErrors(t *testing.T) {
	const (
		logic  = ql2.Response_QUERY_LOGIC
		failed = ql2.Response_OP_FAILED
	)
	unsupported := func(what string) string {
		return what + " is not supported by the embedded RethinkDB-compatible server (minirethink)."
	}
	tests := []struct {
		name  string
		query string
		typ   ql2.Response_ErrorType
		msg   string
	}{
		{"db_create existing", `[57,["wire"]]`, failed, "Database `wire` already exists."},
		{"db_create the system database", `[57,["rethinkdb"]]`, failed, "Database `rethinkdb` already exists."},
		{"db_create bad name", `[57,["a b"]]`, logic, "Database name `a b` invalid (Use A-Z, a-z, 0-9, _ and - only)."},
		{"db_create number", `[57,[1]]`, logic, "Expected type STRING but found NUMBER."},
		{"db_drop missing", `[58,["nope"]]`, failed, "Database `nope` does not exist."},
		{"db_drop the system database", `[58,["rethinkdb"]]`, failed, "Database `rethinkdb` is special; you can't delete it."},
		{"table_create existing", `[60,[` + wireDB + `,"players"]]`, failed, "Table `wire.players` already exists."},
		{"table_create in a missing database", `[60,[[14,["nope"]],"t"]]`, failed, "Database `nope` does not exist."},
		{"table_create bad name", `[60,[` + wireDB + `,"a.b"]]`, logic, "Table name `a.b` invalid (Use A-Z, a-z, 0-9, _ and - only)."},
		{"table_create on a non-database", `[60,[1,"t"]]`, logic, "Expected type DATABASE but found DATUM:\n1"},
		{"table_create in the system database", `[60,[[14,["rethinkdb"]],"t"]]`, failed,
			"Database `rethinkdb` is special; you can't create new tables in it."},
		{"table_create zero shards", `[60,["t"],{"shards":0}]`, logic, "Every table must have at least one shard."},
		{"table_create shards not a number", `[60,["t"],{"shards":"2"}]`, logic, "Expected type NUMBER but found STRING."},
		{"table_create shards not an integer", `[60,["t"],{"shards":1.5}]`, logic, "Number not an integer: 1.5"},
		{"table_create too many shards", `[60,["t"],{"shards":65}]`, failed, "Maximum number of shards is 64."},
		{"table_create two replicas on one server", `[60,["t"],{"replicas":2}]`, failed,
			"Can't put 2 replicas on servers with the tag `default` because there are only 1 servers with the tag `default`. " +
				"It's impossible to have more replicas of the data than there are servers."},
		{"table_create zero replicas", `[60,["t"],{"replicas":0}]`, failed,
			"You must set `replicas` to at least one. `replicas` includes the primary replica; if there are zero replicas, there is nowhere to put the data."},
		{"table_create replicas object without primary tag", `[60,["t"],{"replicas":{"default":1}}]`, logic,
			"`primary_replica_tag` must be specified when `replicas` is an OBJECT."},
		{"table_create replicas number with primary tag", `[60,["t"],{"replicas":1,"primary_replica_tag":"default"}]`, logic,
			"`replicas` must be an OBJECT if `primary_replica_tag` is specified."},
		{"table_create negative replicas in a tag", `[60,["t"],{"replicas":{"default":-3},"primary_replica_tag":"default"}]`, logic,
			"Can't have a negative number of replicas"},
		{"table_create replicas string", `[60,["t"],{"replicas":"1"}]`, logic, "Expected type OBJECT or NUMBER but found STRING:\n\"1\""},
		{"table_create primary tag without replicas", `[60,["t"],{"replicas":{"default":1,"foo":0},"primary_replica_tag":"foo"}]`, failed,
			"Can't use server tag `foo` for primary replicas because you specified no replicas in server tag `foo`."},
		{"table_create replicas in a tag no server has", `[60,["t"],{"replicas":{"foo":1},"primary_replica_tag":"foo"}]`, failed,
			"Can't put 1 replicas on servers with the tag `foo` because there are only 0 servers with the tag `foo`. " +
				"It's impossible to have more replicas of the data than there are servers."},
		{"table_create nonvoting tags not an array", `[60,["t"],{"replicas":{"default":1},"primary_replica_tag":"default","nonvoting_replica_tags":"x"}]`,
			logic, "Expected type ARRAY but found STRING:\n\"x\""},
		{"table_create bad durability", `[60,["t"],{"durability":"fast"}]`, logic,
			"Durability option `fast` unrecognized (options are \"hard\" and \"soft\")."},
		{"table_create primary key not a string", `[60,["t"],{"primary_key":1}]`, logic, "Expected type STRING but found NUMBER."},
		{"table_create negative replicas", `[60,["t"],{"replicas":-1}]`, logic, unsupported("A negative `replicas` in table_create")},
		{"table_create nonvoting replicas", `[60,["t"],{"replicas":{"default":1},"primary_replica_tag":"default","nonvoting_replica_tags":[2,["default"]]}]`,
			logic, unsupported("A non-empty `nonvoting_replica_tags` in table_create")},
		{"table_drop missing", `[61,[` + wireDB + `,"nope"]]`, failed, "Table `wire.nope` does not exist."},
		{"table_drop in the system database", `[61,[[14,["rethinkdb"]],"users"]]`, failed,
			"Database `rethinkdb` is special; you can't drop tables in it."},
		{"table_list of a missing database", `[62,[[14,["nope"]]]]`, failed, "Database `nope` does not exist."},
		{"index_create on the primary key", `[75,[` + wirePlayers + `,"id"]]`, logic, "Index name conflict: `id` is the name of the primary key."},
		{"index_create existing", `[75,[` + wirePlayers + `,"board_score",[69,[[2,[1]],2]]]]`, failed,
			"Index `board_score` already exists on table `wire.players`."},
		{"index_create with a datum", `[75,[` + wirePlayers + `,"k",5]]`, logic, "Expected type FUNCTION but found DATUM:\n5"},
		{"index_create with a table", `[75,[` + wirePlayers + `,"k",` + wirePlayers + `]]`, logic,
			"Expected type FUNCTION but found TABLE:\ntable(\"players\")"},
		{"index_create non-deterministic", `[75,[` + wirePlayers + `,"k",[69,[[2,[1]],[169,[]]]]]]`, logic,
			"Could not prove function deterministic.  Index functions must be deterministic."},
		{"index_create with r.now", `[75,[` + wirePlayers + `,"k",[69,[[2,[1]],[103,[]]]]]]`, logic,
			"Could not prove function deterministic.  Index functions must be deterministic."},
		{"index_create reading a table", `[75,[` + wirePlayers + `,"k",[69,[[2,[1]],[16,[` + wirePlayers + `,1]]]]]]`, logic,
			"Could not prove function deterministic.  Index functions must be deterministic."},
		{"index_create geo", `[75,[` + wirePlayers + `,"k"],{"geo":true}]`, logic,
			unsupported("The optional argument `geo` of index_create (geospatial indexes)")},
		{"index_create from a binary that is no blob", `[75,[` + wirePlayers + `,"k",{"$reql_type$":"BINARY","data":"AAEC"}]]`, logic,
			"Cannot create an sindex except from a reql_index_function returned from `index_status` in the field `function`."},
		{"index_create from RethinkDB's blob", `[75,[` + wirePlayers + `,"k",{"$reql_type$":"BINARY","data":"` +
			base64.StdEncoding.EncodeToString([]byte("$reql_index_function$\x09")) + `"}]]`, logic,
			unsupported("Creating an index from the `function` blob of `index_status`")},
		{"index_create unknown option", `[75,[` + wirePlayers + `,"k"],{"unique":true}]`, 0, "Unrecognized optional argument `unique`."},
		{"index_drop missing", `[76,[` + wirePlayers + `,"nope"]]`, failed, "Index `nope` does not exist on table `wire.players`."},
		{"index_drop the primary key", `[76,[` + wirePlayers + `,"id"]]`, failed, "Index `id` does not exist on table `wire.players`."},
		{"index_status missing", `[139,[` + wirePlayers + `,"zz","board_score","nope"]]`, failed,
			"Index `nope` was not found on table `wire.players`."},
		{"index_wait missing", `[140,[` + wirePlayers + `,"nope"]]`, failed, "Index `nope` was not found on table `wire.players`."},
		{"index_rename missing", `[156,[` + wirePlayers + `,"nope","x"]]`, failed,
			"Index `nope` does not exist or index `x` already exists on table `wire.players`."},
		{"index_rename onto an existing", `[156,[` + wirePlayers + `,"board_score","other"]]`, failed,
			"Index `board_score` does not exist or index `other` already exists on table `wire.players`."},
		{"index_rename missing with overwrite", `[156,[` + wirePlayers + `,"nope","x"],{"overwrite":true}]`, failed,
			"Index `nope` does not exist on table `wire.players`."},
		{"index_rename onto the primary key", `[156,[` + wirePlayers + `,"board_score","id"]]`, logic,
			"Index name conflict: `id` is the name of the primary key."},
		{"system table", `[15,[[14,["rethinkdb"]],"users"]]`, logic, unsupported(
			"The system table `rethinkdb.users` (of the system tables, only `table_config` and `db_config` are)")},
		{"no such system table", `[15,[[14,["rethinkdb"]],"nope"]]`, failed, "Table `rethinkdb.nope` does not exist."},
		{"table_list of the system database", `[62,[[14,["rethinkdb"]]]]`, logic, unsupported(
			"table_list of the system database `rethinkdb`")},
		{"wait without a target", `[177,[]]`, logic, "`wait` can only be called on a table or database."},
		{"wait on the system database", `[177,[[14,["rethinkdb"]]]]`, failed,
			"Database `rethinkdb` is special; the system tables in it are always available and don't need to be waited on."},
		{"wait on a missing database", `[177,[[14,["nope"]]]]`, failed, "Database `nope` does not exist."},
		{"wait for a bad state", `[177,[` + wirePlayers + `],{"wait_for":"soon"}]`, logic,
			"Unknown table readiness state: 'soon', must be one of 'ready_for_outdated_reads', 'ready_for_reads', 'ready_for_writes', or 'all_replicas_ready'"},
		{"wait on a number", `[177,[1]]`, logic, "Expected type TABLE but found DATUM:\n1"},
		{"config", `[174,[` + wirePlayers + `]]`, logic, unsupported("Term CONFIG")},
		{"status", `[175,[` + wirePlayers + `]]`, logic, unsupported("Term STATUS")},
		{"reconfigure", `[176,[` + wirePlayers + `],{"shards":1,"replicas":1}]`, logic, unsupported("Term RECONFIGURE")},
		{"rebalance", `[179,[` + wirePlayers + `]]`, logic, unsupported("Term REBALANCE")},
		{"grant", `[188,["bob",{"read":true}]]`, logic, unsupported("Term GRANT")},
		{"table_create arity", `[60,[` + wireDB + `,"a","b"]]`, 0, "Expected between 1 and 2 arguments but found 3."},
		{"db_list arity", `[59,["x"]]`, 0, "Expected 0 arguments but found 1."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := adminEngine(t)
			// Core terms only, so that these tests need no other file.
			mustRun(t, m, `[75,[`+wirePlayers+`,"board_score",[69,[[2,[1]],[2,[1,2]]]]]]`)
			mustRun(t, m, `[75,[`+wirePlayers+`,"other",[69,[[2,[1]],1]]]]`)
			rerr := runError(t, m, tt.query)
			if tt.typ == 0 {
				assert.Equal(t, ql2.Response_COMPILE_ERROR, rerr.Response)
			} else {
				assert.Equal(t, ql2.Response_RUNTIME_ERROR, rerr.Response)
				assert.Equal(t, tt.typ, rerr.Type)
			}
			assert.Equal(t, tt.msg, rerr.Msg)
			assert.Equal(t, []any{"board_score", "other"}, m.dbs["wire"].tables["players"].indexNames(),
				"no index changed")
			assert.Len(t, m.dbs, 2, "no database changed")
			assert.Empty(t, m.dbs["test"].tables, "no table created")
		})
	}
}

func TestIndexLifecycle(t *testing.T) {
	m := adminEngine(t)
	tb := m.dbs["wire"].tables["players"]
	mustRun(t, m, `[56,[`+wirePlayers+`,[2,[{"id":"a"},{"id":"b"},{"id":"c"}]]]]`)
	// Constant functions need no term beyond the core ones: they show the
	// index is built over the rows already there, and multi.
	assert.Equal(t, obj("created", 1.0), runAtom(t, m, `[75,[`+wirePlayers+`,"seven",[69,[[2,[1]],7]]]]`))
	assert.Equal(t, obj("created", 1.0), runAtom(t, m, `[75,[`+wirePlayers+`,"tags",[69,[[2,[1]],[2,[1,2]]]]],{"multi":true}]`))
	assert.Equal(t, 3, tb.indexes["seven"].tree.Len(), "one entry per existing row")
	assert.Equal(t, 6, tb.indexes["tags"].tree.Len(), "one entry per element for a multi index")
	mustRun(t, m, `[56,[`+wirePlayers+`,{"id":"d"}]]`)
	assert.Equal(t, 4, tb.indexes["seven"].tree.Len(), "later writes are indexed")

	assert.Equal(t, []any{"seven", "tags"}, runAtom(t, m, `[77,[`+wirePlayers+`]]`))

	status := runAtom(t, m, `[139,[`+wirePlayers+`]]`).([]any)
	require.Len(t, status, 2)
	assert.Equal(t, obj(
		"index", "seven", "ready", true, "outdated", false, "multi", false, "geo", false,
		"function", obj("$reql_type$", "BINARY", "data", base64.StdEncoding.EncodeToString([]byte(`[69,[[2,[1]],7]]`))),
		"query", "indexCreate('seven', function(var1) { return r.expr(7); })",
	), status[0])
	assert.Equal(t, "indexCreate('tags', function(var1) { return r.expr([1, 2]); }, {multi: true})",
		status[1].(map[string]any)["query"])
	assert.Equal(t, true, status[1].(map[string]any)["multi"])
	assert.Equal(t, []any{status[1]}, runAtom(t, m, `[140,[`+wirePlayers+`,"tags","tags"]]`),
		"index_wait of named indexes, each once")

	assert.Equal(t, obj("renamed", 1.0), runAtom(t, m, `[156,[`+wirePlayers+`,"seven","eight"]]`))
	assert.Equal(t, obj("renamed", 0.0), runAtom(t, m, `[156,[`+wirePlayers+`,"eight","eight"]]`))
	assert.Equal(t, obj("renamed", 1.0), runAtom(t, m, `[156,[`+wirePlayers+`,"eight","tags"],{"overwrite":true}]`))
	assert.Equal(t, []any{"tags"}, runAtom(t, m, `[77,[`+wirePlayers+`]]`))
	assert.Equal(t, 4, tb.indexes["tags"].tree.Len(), "the renamed index kept its entries")
	assert.Equal(t, "indexCreate('tags', function(var1) { return r.expr(7); })",
		runAtom(t, m, `[140,[`+wirePlayers+`]]`).([]any)[0].(map[string]any)["query"])

	assert.Equal(t, obj("dropped", 1.0), runAtom(t, m, `[76,[`+wirePlayers+`,"tags"]]`))
	assert.Equal(t, []any{}, runAtom(t, m, `[77,[`+wirePlayers+`]]`))
	assert.Equal(t, []any{}, runAtom(t, m, `[140,[`+wirePlayers+`]]`), "index_wait with no index")
}

// TestIndexCreateField needs BRACKET and GET_FIELD from terms_expr.go.
func TestIndexCreateField(t *testing.T) {
	m := adminEngine(t)
	mustRun(t, m, `[56,[`+wirePlayers+`,[2,[{"id":"a","board":"x","score":1},{"id":"b","board":"y","score":2},{"id":"c"}]]]]`)
	tb := m.dbs["wire"].tables["players"]

	assert.Equal(t, obj("created", 1.0), runAtom(t, m, `[75,[`+wirePlayers+`,"board"]]`))
	assert.Equal(t, obj("created", 1.0), runAtom(t, m, `[75,[`+wirePlayers+`,"board_score",`+boardScoreFunc+`]]`))
	var keys []any
	tb.indexes["board"].tree.Ascend(func(e indexEntry) bool { keys = append(keys, e.key); return true })
	assert.Equal(t, []any{"x", "y"}, keys, "a row without the field is not in the index")
	keys = nil
	tb.indexes["board_score"].tree.Ascend(func(e indexEntry) bool { keys = append(keys, e.key); return true })
	assert.Equal(t, []any{[]any{"x", 1.0}, []any{"y", 2.0}}, keys)

	status := runAtom(t, m, `[140,[`+wirePlayers+`]]`).([]any)
	require.Len(t, status, 2)
	assert.Equal(t, `indexCreate('board', function(_var19) { return _var19.getField("board"); })`,
		status[0].(map[string]any)["query"], "index_create(name) is r.var(x)[name], as RethinkDB's minidriver makes it")
	assert.Equal(t, boardScoreQuery, status[1].(map[string]any)["query"], "the transcript's query")
	def, err := base64.StdEncoding.DecodeString(status[1].(map[string]any)["function"].(map[string]any)["data"].(string))
	require.NoError(t, err)
	assert.Equal(t, boardScoreFunc, string(def), "the blob is our serialization of the function")
}

func TestBinaryDatumLines(t *testing.T) {
	b := []byte(strings.Repeat("x", 100))
	data := binaryDatum(b)["data"].(string)
	lines := strings.Split(data, "\r\n")
	require.Len(t, lines, 2, "RethinkDB breaks base64 every 76 characters with CRLF")
	assert.Len(t, lines[0], 76)
	decoded, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(data, "\r\n", ""))
	require.NoError(t, err)
	assert.Equal(t, b, decoded)
}

func TestWaitAndSync(t *testing.T) {
	m := adminEngine(t)
	mustRun(t, m, `[60,[`+wireDB+`,"other"]]`)
	assert.Equal(t, obj("ready", 1.0), runAtom(t, m, `[177,[`+wirePlayers+`],{"wait_for":"ready_for_writes","timeout":5}]`))
	assert.Equal(t, obj("ready", 2.0), runAtom(t, m, `[177,[`+wireDB+`]]`), "a database: its tables")
	assert.Equal(t, obj("synced", 1.0), runAtom(t, m, `[138,[`+wirePlayers+`]]`))
}

func TestSchemaWritesTakeTheWriteLock(t *testing.T) {
	tests := []struct {
		query  string
		writes bool
	}{
		{`[57,["x"]]`, true},
		{`[58,["x"]]`, true},
		{`[60,["x"]]`, true},
		{`[61,["x"]]`, true},
		{`[75,[` + wirePlayers + `,"x"]]`, true},
		{`[76,[` + wirePlayers + `,"x"]]`, true},
		{`[156,[` + wirePlayers + `,"x","y"]]`, true},
		{`[59,[]]`, false},
		{`[62,[]]`, false},
		{`[77,[` + wirePlayers + `]]`, false},
		{`[139,[` + wirePlayers + `]]`, false},
		{`[140,[` + wirePlayers + `]]`, false},
		{`[177,[` + wirePlayers + `]]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var raw any
			require.NoError(t, json.Unmarshal([]byte(tt.query), &raw))
			term, err := parseTerm(raw, 0)
			require.NoError(t, err)
			writes, err := check(term)
			require.NoError(t, err)
			assert.Equal(t, tt.writes, writes)
		})
	}
}

func TestDropEndsFeeds(t *testing.T) {
	tests := []struct {
		name string
		drop string
	}{
		{"table_drop", `[61,[` + wireDB + `,"players"]]`},
		{"db_drop", `[58,["wire"]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := adminEngine(t)
			table := openFeed(t, m, `[152,[`+wirePlayers+`]]`)
			point := openFeed(t, m, `[152,[[16,[`+wirePlayers+`,"a"]]]]`)
			mustRun(t, m, `[56,[`+wirePlayers+`,{"id":"a"}]]`)
			mustRun(t, m, tt.drop)
			for _, f := range []Feed{table, point} {
				assert.Len(t, nextBatch(t, f, true), 1, "the change committed before the drop")
				_, err := f.Next(t.Context(), true)
				var rerr *Error
				require.ErrorAs(t, err, &rerr)
				assert.Equal(t, ql2.Response_OP_FAILED, rerr.Type)
				assert.Equal(t, "Changefeed aborted (unavailable).", rerr.Msg)
			}
		})
	}
}

// A changefeed reading a secondary index ends as soon as index_drop or
// index_rename takes the index away, with the embedded server's
// unsupported-feature error: RethinkDB 2.4 itself does not end it (its
// limit managers are keyed by index name and store_t::sindex_drop tells no
// changefeed), so such a feed would go on silently without changes there.
// Feeds on other indexes, and a rename to the same name, are left alone.
func TestIndexDropEndsIndexFeeds(t *testing.T) {
	gone := ErrUnsupported("Dropping or renaming the index an open changefeed reads")
	seven := `[69,[[2,[1]],7]]`
	topN := func(index string) string {
		return `[152,[[71,[[41,[` + wirePlayers + `],{"index":"` + index + `"}],1]]]]`
	}
	rangeFeed := func(index string) string {
		return `[152,[[182,[` + wirePlayers + `,0,10],{"index":"` + index + `"}]]]`
	}
	tests := []struct {
		name, ddl string
		ended     []string // the feeds (by index) that end
	}{
		{"drop", `[76,[` + wirePlayers + `,"seven"]]`, []string{"seven"}},
		{"rename", `[156,[` + wirePlayers + `,"seven","eight"]]`, []string{"seven"}},
		{"rename over", `[156,[` + wirePlayers + `,"seven","other"],{"overwrite":true}]`, []string{"seven", "other"}},
		{"rename to itself", `[156,[` + wirePlayers + `,"seven","seven"]]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := adminEngine(t)
			mustRun(t, m, `[56,[`+wirePlayers+`,[2,[{"id":1},{"id":2}]]]]`)
			mustRun(t, m, `[75,[`+wirePlayers+`,"seven",`+seven+`]]`)
			mustRun(t, m, `[75,[`+wirePlayers+`,"other",`+seven+`]]`)
			feeds := map[string][]Feed{}
			for _, index := range []string{"seven", "other"} {
				feeds[index] = []Feed{openFeed(t, m, topN(index)), openFeed(t, m, rangeFeed(index))}
			}
			primary := openFeed(t, m, topN("id"))
			mustRun(t, m, tt.ddl)
			for index, fs := range feeds {
				for _, f := range fs {
					if !slices.Contains(tt.ended, index) {
						assert.Empty(t, nextBatch(t, f, false), index)
						continue
					}
					// No write follows: the feed has ended already.
					ctx, cancel := context.WithTimeout(t.Context(), time.Second)
					_, err := f.Next(ctx, true)
					cancel()
					assert.Equal(t, gone, err, index)
				}
			}
			assert.Empty(t, nextBatch(t, primary, false))
		})
	}
}

func TestTermJSONDatums(t *testing.T) {
	term := &Term{Type: ql2.Term_FUNC, Args: []*Term{
		{Type: ql2.Term_MAKE_ARRAY, Args: []*Term{{Type: ql2.Term_DATUM, Datum: 1.0}}},
		{Type: ql2.Term_DATUM, Datum: []any{1.0, map[string]any{"a": []any{}}, minVal{}}},
	}}
	b, err := json.Marshal(termJSON(term))
	require.NoError(t, err)
	assert.Equal(t, `[69,[[2,[1]],[2,[1,{"a":[2,[]]},[180]]]]]`, string(b),
		"array datums are MAKE_ARRAY terms in the JSON protocol")
}
