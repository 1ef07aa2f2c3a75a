package reql

import (
	"sort"
	"time"
)

// Names that are not unique. RethinkDB 2.4 keeps databases and tables by
// id and resolves names when a query names one; its table_create and
// db_create do not serialize across clients, so two clients creating one
// name at once make two (with Memory.CreateRaceWindow, the embedded server
// does too). Such a name is ambiguous: every query naming it fails, as
// RethinkDB's search_db_metadata_by_name (clustering/administration/
// metadata.cc) and CATCH_NAME_ERRORS (admin_op_exc.hpp) fail it, until one
// is dropped or renamed through rethinkdb.table_config or db_config, by id.
//
// The maps dbs and tables hold one database or table per name, as before;
// the others of a name are in dupDBs and dupTables.

func errAmbiguousDB(name string) *Error {
	return ErrOpFailed("Database `%s` is ambiguous; there are multiple databases with that name.", name)
}

func errAmbiguousTable(db, name string) *Error {
	return ErrOpFailed("Table `%s.%s` is ambiguous; there are multiple tables with that name.", db, name)
}

// databasesNamed is every database called name.
func (m *Memory) databasesNamed(name string) []*database {
	d, ok := m.dbs[name]
	if !ok {
		return nil
	}
	return append([]*database{d}, m.dupDBs[name]...)
}

// allDatabases is every database, by id.
func (m *Memory) allDatabases() []*database {
	var out []*database
	for name, d := range m.dbs {
		out = append(out, d)
		out = append(out, m.dupDBs[name]...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// tablesNamed is every table of d called name.
func (d *database) tablesNamed(name string) []*Table {
	t, ok := d.tables[name]
	if !ok {
		return nil
	}
	return append([]*Table{t}, d.dupTables[name]...)
}

// allTables is every table of d, by id.
func (d *database) allTables() []*Table {
	var out []*Table
	for name, t := range d.tables {
		out = append(out, t)
		out = append(out, d.dupTables[name]...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// numTables counts d's tables, duplicates included.
func (d *database) numTables() int {
	n := len(d.tables)
	for _, dups := range d.dupTables {
		n += len(dups)
	}
	return n
}

// settled reports whether a creation made at created is visible to another
// creation now: always, unless creations race (CreateRaceWindow).
func (m *Memory) settled(created time.Time) bool {
	return m.CreateRaceWindow <= 0 || time.Since(created) >= m.CreateRaceWindow
}

// addDatabase adds d under its name, as a duplicate if the name is taken.
func (m *Memory) addDatabase(d *database) {
	if _, taken := m.dbs[d.name]; !taken {
		m.dbs[d.name] = d
		return
	}
	m.dupDBs[d.name] = append(m.dupDBs[d.name], d)
}

// removeDatabase takes d out of the names (its tables stay with it).
func (m *Memory) removeDatabase(d *database) {
	dups := m.dupDBs[d.name]
	if m.dbs[d.name] == d {
		delete(m.dbs, d.name)
		if len(dups) > 0 {
			m.dbs[d.name], dups = dups[0], dups[1:]
		}
	} else {
		for i, x := range dups {
			if x == d {
				dups = append(dups[:i:i], dups[i+1:]...)
				break
			}
		}
	}
	if len(dups) == 0 {
		delete(m.dupDBs, d.name)
	} else {
		m.dupDBs[d.name] = dups
	}
}

// addTable adds t under its name in its database, as a duplicate if the
// name is taken.
func (d *database) addTable(t *Table) {
	if _, taken := d.tables[t.name]; !taken {
		d.tables[t.name] = t
		return
	}
	if d.dupTables == nil {
		d.dupTables = map[string][]*Table{}
	}
	d.dupTables[t.name] = append(d.dupTables[t.name], t)
}

// removeTable takes t out of its database's names.
func (d *database) removeTable(t *Table) {
	dups := d.dupTables[t.name]
	if d.tables[t.name] == t {
		delete(d.tables, t.name)
		if len(dups) > 0 {
			d.tables[t.name], dups = dups[0], dups[1:]
		}
	} else {
		for i, x := range dups {
			if x == t {
				dups = append(dups[:i:i], dups[i+1:]...)
				break
			}
		}
	}
	if len(dups) == 0 {
		delete(d.dupTables, t.name)
	} else {
		d.dupTables[t.name] = dups
	}
}

// dropDatabase drops d and its tables, ending their feeds.
func (m *Memory) dropDatabase(d *database) (tablesDropped int) {
	m.removeDatabase(d)
	tables := d.allTables()
	for _, tb := range tables {
		tb.drop()
	}
	return len(tables)
}

// dropTable drops t, ending its feeds.
func (m *Memory) dropTable(t *Table) {
	t.db.removeTable(t)
	t.drop()
}
