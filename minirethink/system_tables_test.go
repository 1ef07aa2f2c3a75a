package minirethink

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// The rethinkdb system database's table_config and db_config, and the
// duplicate tables and databases a real RethinkDB 2.4 makes when clients
// create one name at the same moment (WithUnserializedCreates).

var (
	tableConfigTable = r.DB("rethinkdb").Table("table_config")
	dbConfigTable    = r.DB("rethinkdb").Table("db_config")
)

// configRows reads the rows of a system table whose db (table_config) or
// name (db_config) is name.
func configRows(t *testing.T, s *r.Session, sys r.Term, field, name string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, sys.Filter(map[string]any{field: name}).ReadAll(&rows, s))
	return rows
}

func deleted(n float64) map[string]any {
	return map[string]any{"deleted": n, "errors": 0.0, "inserted": 0.0, "replaced": 0.0, "skipped": 0.0, "unchanged": 0.0}
}

func TestTableConfigRows(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		server := serverName(t, s)
		created := readDoc(t, s, r.DB(db).TableCreate("players"))
		id := created["config_changes"].([]any)[0].(map[string]any)["new_val"].(map[string]any)["id"].(string)
		_, err := r.DB(db).Table("players").IndexCreate("board").RunWrite(s)
		require.NoError(t, err)

		rows := configRows(t, s, tableConfigTable, "db", db)
		assert.Equal(t, []map[string]any{tableConfig(db, "players", id, server, "board")}, rows,
			"a table_config row is the table's configuration, as table_create returns it")
		assert.Equal(t, tableConfig(db, "players", id, server, "board"), readDoc(t, s, tableConfigTable.Get(id)), "by id")

		dbRows := configRows(t, s, dbConfigTable, "name", db)
		require.Len(t, dbRows, 1)
		assert.Regexp(t, uuidPattern, dbRows[0]["id"])
		assert.Equal(t, map[string]any{"id": dbRows[0]["id"], "name": db}, dbRows[0], "a db_config row")

		// Deleting the row drops the table.
		assert.Equal(t, deleted(1), readDoc(t, s, tableConfigTable.Get(id).Delete()))
		assert.Empty(t, readStrings(t, s, r.DB(db).TableList()))
		_, err = r.DB(db).Table("players").Count().Run(s)
		requireOpFailed(t, err, "Table `"+db+".players` does not exist.")
		assert.Equal(t, map[string]any{"deleted": 0.0, "errors": 0.0, "inserted": 0.0, "replaced": 0.0, "skipped": 1.0, "unchanged": 0.0},
			readDoc(t, s, tableConfigTable.Get(id).Delete()), "a row that is gone is skipped")
	})
}

// createConcurrently runs create n times at once, each from its own
// session as separate processes would, and returns the errors.
func createConcurrently(t *testing.T, srv *Server, n int, create func(s *r.Session) error) []error {
	t.Helper()
	sessions := make([]*r.Session, n)
	for i := range sessions {
		sessions[i] = target{Srv: srv, Addr: srv.Addr()}.Connect(t)
	}
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i, s := range sessions {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = create(s)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func TestConcurrentTableCreateMakesDuplicates(t *testing.T) {
	srv, s, db := embedded(t, WithUnserializedCreates())
	errs := createConcurrently(t, srv, 2, func(s *r.Session) error {
		_, err := r.DB(db).TableCreate("players").RunWrite(s)
		return err
	})
	assert.Equal(t, []error{nil, nil}, errs, "both creations succeed, as on a real RethinkDB 2.4")

	rows := configRows(t, s, tableConfigTable, "db", db)
	require.Len(t, rows, 2, "two tables of one name")
	assert.Equal(t, "players", rows[0]["name"])
	assert.Equal(t, "players", rows[1]["name"])
	assert.NotEqual(t, rows[0]["id"], rows[1]["id"])
	assert.Equal(t, []string{"players"}, readStrings(t, s, r.DB(db).TableList()), "table_list names it once")

	ambiguous := "Table `" + db + ".players` is ambiguous; there are multiple tables with that name."
	_, err := r.DB(db).Table("players").Count().Run(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DB(db).Table("players").Insert(map[string]any{"id": 1}).RunWrite(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DB(db).Table("players").IndexCreate("board").RunWrite(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DB(db).TableDrop("players").RunWrite(s)
	requireOpFailed(t, err, ambiguous)

	// Dropping one by id ends the ambiguity.
	assert.Equal(t, deleted(1), readDoc(t, s, tableConfigTable.Get(rows[1]["id"]).Delete()))
	var n int
	require.NoError(t, r.DB(db).Table("players").Count().ReadOne(&n, s))
	assert.Len(t, configRows(t, s, tableConfigTable, "db", db), 1)
	assert.Equal(t, rows[0]["id"], readDoc(t, s, tableConfigTable.Get(rows[0]["id"]))["id"], "the other one is left")
}

func TestConcurrentDBCreateMakesDuplicates(t *testing.T) {
	srv := RunT(t, WithUnserializedCreates())
	s := target{Srv: srv, Addr: srv.Addr()}.Connect(t)
	db := uniqueDBName(t)
	errs := createConcurrently(t, srv, 3, func(s *r.Session) error {
		_, err := r.DBCreate(db).RunWrite(s)
		return err
	})
	assert.Equal(t, []error{nil, nil, nil}, errs)

	rows := configRows(t, s, dbConfigTable, "name", db)
	require.Len(t, rows, 3)
	dbs := readStrings(t, s, r.DBList())
	assert.Equal(t, 1, countOf(dbs, db), "db_list names it once: %v", dbs)

	ambiguous := "Database `" + db + "` is ambiguous; there are multiple databases with that name."
	_, err := r.DB(db).TableList().Run(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DB(db).TableCreate("players").RunWrite(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DB(db).Table("players").Run(s)
	requireOpFailed(t, err, ambiguous)
	_, err = r.DBDrop(db).RunWrite(s)
	requireOpFailed(t, err, ambiguous)

	assert.Equal(t, deleted(2), readDoc(t, s, dbConfigTable.GetAll(rows[1]["id"], rows[2]["id"]).Delete()),
		"deleting db_config rows drops those databases")
	_, err = r.DB(db).TableCreate("players").RunWrite(s)
	require.NoError(t, err)
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestCreatesAreSerializedByDefault(t *testing.T) {
	srv, s, db := embedded(t)
	errs := createConcurrently(t, srv, 4, func(s *r.Session) error {
		_, err := r.DB(db).TableCreate("players").RunWrite(s)
		return err
	})
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			requireOpFailed(t, err, "Table `"+db+".players` already exists.")
		}
	}
	assert.Equal(t, 3, failed, "one creation wins")
	assert.Len(t, configRows(t, s, tableConfigTable, "db", db), 1)
}

func TestRenameThroughTableConfig(t *testing.T) {
	_, s, db := embedded(t, WithUnserializedCreates())
	for range 2 {
		_, err := r.DB(db).TableCreate("players").RunWrite(s)
		require.NoError(t, err, "within the race window, a second creation makes a duplicate")
	}
	rows := configRows(t, s, tableConfigTable, "db", db)
	require.Len(t, rows, 2)
	res := readDoc(t, s, tableConfigTable.Get(rows[1]["id"]).Update(map[string]any{"name": "players_b"}))
	assert.Equal(t, 1.0, res["replaced"], "%v", res)
	assert.Equal(t, []string{"players", "players_b"}, readStrings(t, s, r.DB(db).TableList()))
	_, err := r.DB(db).Table("players_b").Insert(map[string]any{"id": 1}).RunWrite(s)
	require.NoError(t, err, "each is reachable by its own name")

	res = readDoc(t, s, tableConfigTable.Get(rows[1]["id"]).Update(map[string]any{"name": "players"}))
	assert.Equal(t, 1.0, res["errors"])
	assert.Equal(t, "Can't rename table `"+db+".players_b` to `"+db+".players` because table `"+db+".players` already exists.",
		res["first_error"])

	dbRow := configRows(t, s, dbConfigTable, "name", db)[0]
	res = readDoc(t, s, dbConfigTable.Get(dbRow["id"]).Update(map[string]any{"name": db + "_renamed"}))
	assert.Equal(t, 1.0, res["replaced"], "%v", res)
	t.Cleanup(func() { _, _ = r.DBDrop(db + "_renamed").RunWrite(s) })
	assert.Equal(t, []string{"players", "players_b"}, readStrings(t, s, r.DB(db+"_renamed").TableList()))
}

func TestSystemTableLimits(t *testing.T) {
	_, s, db := embedded(t)
	_, err := r.DB(db).TableCreate("players").RunWrite(s)
	require.NoError(t, err)
	id := configRows(t, s, tableConfigTable, "db", db)[0]["id"]

	unsupported := func(err error, what string) {
		t.Helper()
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic)
		assert.Contains(t, err.Error(), what+" is not supported by the embedded RethinkDB-compatible server (minirethink).")
	}
	_, err = tableConfigTable.Insert(map[string]any{"db": db, "name": "other"}).RunWrite(s)
	unsupported(err, "Inserting (creating a table or database by a write) on the system table `rethinkdb.table_config`")
	_, err = tableConfigTable.Get(id).Update(map[string]any{"write_acks": "single"}).RunWrite(s)
	unsupported(err, "Changing `write_acks` (only `name` and a table's `durability` can be changed) on the system table `rethinkdb.table_config`")
	_, err = tableConfigTable.Get(id).Update(map[string]any{"durability": "never"}).RunWrite(s)
	unsupported(err, "Changing `durability` (only `name` and a table's `durability` can be changed) on the system table `rethinkdb.table_config`")
	_, err = tableConfigTable.Changes().Run(s)
	unsupported(err, "changes on the system table `rethinkdb.table_config`")
	_, err = tableConfigTable.IndexCreate("name").RunWrite(s)
	unsupported(err, "index_create on the system table `rethinkdb.table_config`")
	_, err = r.DB("rethinkdb").Table("server_status").Run(s)
	unsupported(err, "The system table `rethinkdb.server_status` (of the system tables, only `table_config` and `db_config` are)")
	_, err = r.DB("rethinkdb").Table("nope").Run(s)
	requireOpFailed(t, err, "Table `rethinkdb.nope` does not exist.")
	assert.Len(t, configRows(t, s, tableConfigTable, "db", db), 1, "nothing changed")
}
