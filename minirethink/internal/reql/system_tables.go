package reql

import "sort"

// The system database's tables (RethinkDB's artificial tables,
// clustering/administration/tables/): table_config and db_config, whose
// rows are every table's and database's configuration by id, as RethinkDB
// 2.4 formats them. They can be read like any table (a snapshot taken when
// the query names the table), and written by id as RethinkDB allows:
// deleting a row drops that table or database (the only way to drop one of
// two of the same name), and an update that changes only `name` renames it;
// a table's `durability` ("hard" or "soft") can be changed too. Any other
// write, and every other system table, is refused by name.

// systemTableNames are the tables of RethinkDB 2.4's system database.
var systemTableNames = []string{"cluster_config", "current_issues", "db_config", "jobs", "logs",
	"permissions", "server_config", "server_status", "stats", "table_config", "table_status", "users"}

// systemTable is a snapshot of rethinkdb.name.
func (m *Memory) systemTable(name string) (*Table, error) {
	var rows []map[string]any
	switch name {
	case "table_config":
		for _, d := range m.allDatabases() {
			for _, tb := range d.allTables() {
				rows = append(rows, m.tableConfig(tb))
			}
		}
	case "db_config":
		for _, d := range m.allDatabases() {
			rows = append(rows, dbConfig(d))
		}
	default:
		i := sort.SearchStrings(systemTableNames, name)
		if i == len(systemTableNames) || systemTableNames[i] != name {
			return nil, ErrOpFailed("Table `%s.%s` does not exist.", systemDB, name)
		}
		return nil, ErrUnsupported("The system table `" + systemDB + "." + name +
			"` (of the system tables, only `table_config` and `db_config` are)")
	}
	tb := newTable(&database{name: systemDB}, "", name, "id")
	tb.system = name
	for _, row := range rows {
		tb.rows.ReplaceOrInsert(docEntry{pk: row["id"], doc: row})
	}
	return tb, nil
}

// errSystemTableOp refuses an operation the system tables do not support.
func errSystemTableOp(what string, tb *Table) *Error {
	return ErrUnsupported(what + " on the system table `" + tb.FullName() + "`")
}

// writeSystemRow applies a write of one row of a system table: old is the
// row (nil: none), new the row written (nil: deleted). A failure of that
// row is msg, counted in the write's errors as RethinkDB counts it; err
// ends the query.
func (m *Memory) writeSystemRow(tb *Table, old, new map[string]any) (msg string, err error) {
	if old == nil {
		return "", errSystemTableOp("Inserting (creating a table or database by a write)", tb)
	}
	id, _ := old["id"].(string)
	if new != nil {
		for k, v := range new {
			if k == "durability" && tb.system == "table_config" && (v == "hard" || v == "soft") {
				continue // see setDurability
			}
			if k != "name" && !Equal(v, old[k]) {
				return "", errSystemTableOp("Changing `"+k+"` (only `name` and a table's `durability` can be changed)", tb)
			}
		}
		for k := range old {
			if _, ok := new[k]; !ok {
				return "", errSystemTableOp("Removing `"+k+"`", tb)
			}
		}
	}
	switch tb.system {
	case "table_config":
		t := m.tableByID(id)
		if t == nil {
			return "", nil // dropped since the snapshot
		}
		if new == nil {
			m.dropTable(t)
			return "", nil
		}
		setDurability(t, new["durability"])
		return m.renameTable(t, tb, new["name"])
	case "db_config":
		d := m.databaseByID(id)
		if d == nil {
			return "", nil
		}
		if new == nil {
			m.dropDatabase(d)
			return "", nil
		}
		return m.renameDatabase(d, tb, new["name"])
	}
	return "", errSystemTableOp("Writing", tb)
}

func (m *Memory) tableByID(id string) *Table {
	for _, d := range m.allDatabases() {
		for _, t := range d.allTables() {
			if t.id == id {
				return t
			}
		}
	}
	return nil
}

func (m *Memory) databaseByID(id string) *database {
	for _, d := range m.allDatabases() {
		if d.id == id {
			return d
		}
	}
	return nil
}

// setDurability is table_config's durability, "hard" or "soft", which
// decides whether writes to the table wait for the disk (see persist.go).
func setDurability(t *Table, v any) {
	switch v {
	case "soft":
		t.durability = "soft"
	case "hard":
		t.durability = ""
	}
}

// newSystemName reads the `name` of a row written to a system table,
// with table_config's and db_config's messages.
func newSystemName(tb *Table, v any, kind string) (string, string) {
	name, ok := v.(string)
	if !ok {
		return "", "The change you're trying to make to `" + tb.FullName() + "` has the wrong format. " +
			"In `name`: Expected a string; got " + Print(v) + "."
	}
	if err := validName(kind, name); err != nil {
		return "", "The change you're trying to make to `" + tb.FullName() + "` has the wrong format. " +
			"In `name`: " + err.(*Error).Msg
	}
	return name, ""
}

// renameTable is table_config's do_modify for a new name.
func (m *Memory) renameTable(t, sys *Table, v any) (string, error) {
	name, msg := newSystemName(sys, v, "Table")
	if msg != "" || name == t.name {
		return msg, nil
	}
	if len(t.db.tablesNamed(name)) > 0 {
		return "Can't rename table `" + t.db.name + "." + t.name + "` to `" + t.db.name + "." + name +
			"` because table `" + t.db.name + "." + name + "` already exists.", nil
	}
	t.db.removeTable(t)
	t.name = name
	t.db.addTable(t)
	return "", nil
}

// renameDatabase is db_config's write_row for a new name.
func (m *Memory) renameDatabase(d *database, sys *Table, v any) (string, error) {
	name, msg := newSystemName(sys, v, "Database")
	if msg != "" || name == d.name {
		return msg, nil
	}
	if name == systemDB || len(m.databasesNamed(name)) > 0 {
		return "Cannot rename database `" + d.name + "` to `" + name + "` because database `" + name +
			"` already exists.", nil
	}
	m.removeDatabase(d)
	d.name = name
	m.addDatabase(d)
	return "", nil
}

// dataTableArg is tableArg for terms that need a table of data, which the
// system tables are not (indexes, sync): what names the term.
func (ec *evalCtx) dataTableArg(t *Term, what string) (*Table, error) {
	tb, err := ec.tableArg(t)
	if err != nil {
		return nil, err
	}
	if tb.system != "" {
		return nil, errSystemTableOp(what, tb)
	}
	return tb, nil
}

// selectionTable is the table a value selects from, nil for none.
func selectionTable(v any) *Table {
	switch x := v.(type) {
	case *tableVal:
		return x.t
	case *singleVal:
		return x.t
	case *streamVal:
		return x.table
	}
	return nil
}
