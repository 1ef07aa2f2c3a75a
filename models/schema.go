package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

const (
	boardsTable  = "boards"
	playersTable = "players"
	// rankIndex orders a board's players best first when read descending:
	// [board, rank_score, -reached_at], where rank_score is the score on a
	// "desc" board (the field is absent and defaults to score) and minus
	// the score on an "asc" board (lower is better). A compound index
	// cannot mix directions, so the sort key carries the board's order and
	// the tie-break is negated: at equal scores, whoever reached the score
	// first (smaller reached_at) sorts higher. Every reader walks it
	// descending, whatever the board's order. It replaces the index "rank"
	// ([board, score, -reached_at]) of earlier versions, which a database
	// created by them still has and no query reads; so is their index
	// "board" (a board's players are the rank index's range of it).
	rankIndex = "standing"
	// createdIndex orders boards oldest first: [created_at, id], so boards
	// created in the same millisecond still have one order.
	createdIndex = "created"
)

// tableSpec is one table of the schema and its secondary indexes.
type tableSpec struct {
	name    string
	indexes []indexSpec
}

// indexSpec is a secondary index: on a field, or computed by fn.
type indexSpec struct {
	name  string
	field string           // index_create(name) on this field when fn is nil
	fn    func(r.Term) any // the index function
	multi bool
}

// schema is every table the service needs, with its indexes: add a table or
// an index here and EnsureSchema creates it.
var schema = []tableSpec{
	{name: boardsTable, indexes: []indexSpec{
		{name: createdIndex, fn: func(b r.Term) any {
			return []any{b.Field("created_at"), b.Field("id")}
		}},
		{name: nextResetIndex, field: nextResetField},
		{name: endingField, field: endingField},
	}},
	{name: playersTable, indexes: []indexSpec{
		{name: rankIndex, fn: func(p r.Term) any {
			return []any{p.Field("board"), p.Field(rankScoreField).Default(p.Field("score")), p.Field("reached_at").Mul(-1)}
		}},
	}},
	{name: heartbeatsTable},
	// The push service's.
	{name: usersTable},
	{name: tokensTable, indexes: []indexSpec{{name: userIndex, field: "user"}, {name: expiresIndex, field: "expires_at"}}},
	{name: channelsTable, indexes: []indexSpec{{name: userIndex, field: "user"}}},
	{name: membersTable, indexes: []indexSpec{{name: userIndex, field: "user"}, {name: channelIndex, field: "channel"}}},
	{name: eventsTable, indexes: []indexSpec{
		{name: channelSeqIndex, fn: func(e r.Term) any { return []any{e.Field("channel"), e.Field("seq")} }},
		{name: pendingIndex, fn: func(e r.Term) any { return r.Branch(e.HasFields("seq"), nil, true) }},
		{name: rawIndex, field: "raw"},
		{name: eventsCreatedIndex, field: "created_at"},
	}},
	// Leaderboards as games use them (issue 11).
	{name: idempotencyTable, indexes: []indexSpec{
		{name: createdAtField, field: createdAtField},
	}},
	{name: periodsTable, indexes: []indexSpec{
		{name: boardPeriodIndex, fn: func(p r.Term) any { return []any{p.Field("board"), p.Field("period")} }},
	}},
}

// ensureAttempts bounds EnsureSchema's retries after it met a concurrent
// creator (see isRacing).
const ensureAttempts = 8

// EnsureSchema creates the database, tables and indexes of schema that are
// missing and waits until they are ready. Every process calls it at start;
// it is idempotent, and when everything is there it costs one read of the
// configuration and, per table with indexes, index_list and index_wait.
//
// It is safe when several processes run it at the same moment on a real
// RethinkDB 2.4, whose table_create and db_create are not serialized: two
// processes creating one name both succeed and make two, and every query
// naming it then fails as "ambiguous". EnsureSchema reads the names from
// rethinkdb.db_config and table_config, where duplicates show; after
// creating a name, or finding it more than once, it resolves the
// duplicates by id (resolveDuplicates: every process keeps the same one,
// and only empty ones are dropped); and when a query meets a racing
// creator's work anyway (isRacing) it resolves again and starts over.
// Without permission to read the system tables it falls back to db_list and
// table_list, which cannot see duplicates.
func (st *Store) EnsureSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	for attempt := 0; attempt < ensureAttempts; attempt++ {
		if attempt > 0 {
			// A concurrent creator made a name twice after we looked, or is
			// resolving duplicates.
			select {
			case <-ctx.Done():
				return classify("ensure schema", ctx.Err())
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
			if err = st.resolveAllDuplicates(ctx); err != nil {
				if isRacing(err) {
					continue
				}
				return err
			}
		}
		if err = st.ensureSchemaOnce(ctx); err == nil || !isRacing(err) {
			return err
		}
	}
	return err
}

func (st *Store) ensureSchemaOnce(ctx context.Context) error {
	run := r.RunOpts{Context: ctx}
	db := st.cfg.Database
	cfg, err := st.readSchemaConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.dbs == 0 {
		if _, err := r.DBCreate(db).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create database", err)
		}
	}
	if cfg.dbs != 1 && cfg.checked {
		if err := st.resolveDuplicates(ctx, dbDuplicates(db)); err != nil {
			return err
		}
	}
	var created []string
	for _, t := range schema {
		if cfg.tables[t.name] > 0 {
			continue
		}
		if _, err := st.db.TableCreate(t.name).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create table "+t.name, err)
		}
		created = append(created, t.name)
	}
	if cfg.checked {
		for _, t := range schema {
			if cfg.tables[t.name] > 1 || containsString(created, t.name) {
				if err := st.resolveDuplicates(ctx, tableDuplicates(db, t.name)); err != nil {
					return err
				}
			}
		}
	}
	if len(created) > 0 {
		if err := st.db.Wait().Exec(st.session, r.ExecOpts{Context: ctx}); err != nil {
			return classify("wait for tables", err)
		}
	}
	for _, t := range schema {
		if err := st.ensureIndexes(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// schemaConfig is what exists: how many databases have the schema's
// database name and how many tables each name of it.
type schemaConfig struct {
	dbs    int
	tables map[string]int
	// checked: read from the system tables, so duplicates show. A user
	// without permission to read them gets db_list and table_list, which
	// name a duplicated name once.
	checked bool
}

// readSchemaConfig reads the schema's databases and tables from
// rethinkdb.db_config and table_config in one query, which shows duplicates
// (db_list and table_list name a duplicated name once).
func (st *Store) readSchemaConfig(ctx context.Context) (schemaConfig, error) {
	run := r.RunOpts{Context: ctx}
	db := st.cfg.Database
	var got struct {
		DBs    int      `rethinkdb:"dbs"`
		Tables []string `rethinkdb:"tables"`
	}
	err := r.Expr(map[string]any{
		"dbs":    r.DB("rethinkdb").Table("db_config").Filter(map[string]any{"name": db}).Count(),
		"tables": r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": db}).Field("name").CoerceTo("array"),
	}).ReadOne(&got, st.session, run)
	cfg := schemaConfig{tables: map[string]int{}, checked: true}
	if err == nil {
		cfg.dbs = got.DBs
		for _, name := range got.Tables {
			cfg.tables[name]++
		}
		return cfg, nil
	}
	if !strings.Contains(err.Error(), "permission") {
		return cfg, classify("read the configuration", err)
	}
	cfg.checked = false
	var dbs, tables []string
	if err := r.DBList().ReadAll(&dbs, st.session, run); err != nil {
		return cfg, classify("list databases", err)
	}
	if !containsString(dbs, db) {
		return cfg, nil
	}
	cfg.dbs = 1
	if err := st.db.TableList().ReadAll(&tables, st.session, run); err != nil {
		return cfg, classify("list tables", err)
	}
	for _, name := range tables {
		cfg.tables[name] = 1
	}
	return cfg, nil
}

// ensureIndexes creates t's missing indexes and waits until all are ready.
func (st *Store) ensureIndexes(ctx context.Context, t tableSpec) error {
	if len(t.indexes) == 0 {
		return nil
	}
	run := r.RunOpts{Context: ctx}
	table := st.db.Table(t.name)
	var existing []string
	if err := table.IndexList().ReadAll(&existing, st.session, run); err != nil {
		return classify("list indexes of "+t.name, err)
	}
	for _, ix := range t.indexes {
		if containsString(existing, ix.name) {
			continue
		}
		var err error
		if ix.fn == nil {
			_, err = table.IndexCreate(ix.field, r.IndexCreateOpts{Multi: ix.multi}).RunWrite(st.session, run)
		} else {
			_, err = table.IndexCreateFunc(ix.name, ix.fn, r.IndexCreateOpts{Multi: ix.multi}).RunWrite(st.session, run)
		}
		if err != nil && !alreadyExists(err) {
			return classify("create index "+ix.name+" on "+t.name, err)
		}
	}
	if err := table.IndexWait().Exec(st.session, r.ExecOpts{Context: ctx}); err != nil {
		return classify("wait for indexes of "+t.name, err)
	}
	return nil
}

// resolveAllDuplicates resolves every name of the schema that may be
// duplicated: the database, then its tables.
func (st *Store) resolveAllDuplicates(ctx context.Context) error {
	if err := st.resolveDuplicates(ctx, dbDuplicates(st.cfg.Database)); err != nil {
		return err
	}
	for _, t := range schema {
		if err := st.resolveDuplicates(ctx, tableDuplicates(st.cfg.Database, t.name)); err != nil {
			return err
		}
	}
	return nil
}

// duplicates says how to find and handle the tables or databases of one
// name, through their rows in a system table.
type duplicates struct {
	what   string // for errors: "database leaderboard", "table leaderboard.players"
	name   string
	config r.Term // rethinkdb.db_config or table_config
	// sameDB narrows config's rows to the table's database; nil for
	// databases.
	sameDB func(row r.Term) r.Term
	// isEmpty is whether the one now called name holds nothing; it
	// fails with "does not exist" when none is called name.
	isEmpty func(name string) r.Term
	// prepare, when set, makes the one called name countable by isEmpty.
	prepare func(ctx context.Context, st *Store, name string) error
}

func dbDuplicates(db string) duplicates {
	return duplicates{
		prepare: resolveTablesIn,
		what:    "database " + db,
		name:    db,
		config:  r.DB("rethinkdb").Table("db_config"),
		// A database holds data when one of its tables does: one that
		// only has the empty tables a racing EnsureSchema made in it is
		// empty.
		isEmpty: func(name string) r.Term {
			return r.DB(name).TableList().Filter(func(table r.Term) r.Term {
				return r.DB(name).Table(table).IsEmpty().Not()
			}).IsEmpty()
		},
	}
}

func tableDuplicates(db, table string) duplicates {
	return duplicates{
		what:   "table " + db + "." + table,
		name:   table,
		config: r.DB("rethinkdb").Table("table_config"),
		sameDB: func(row r.Term) r.Term { return row.Field("db").Eq(db) },
		isEmpty: func(name string) r.Term {
			return r.DB(db).Table(name).IsEmpty()
		},
	}
}

// resolveTablesIn resolves the duplicate tables of database db (one set
// aside), so that its tables can be counted.
func resolveTablesIn(ctx context.Context, st *Store, db string) error {
	var names []string
	err := r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": db}).Field("name").
		ReadAll(&names, st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("list the tables of "+db, err)
	}
	seen := map[string]int{}
	for _, name := range names {
		if seen[name]++; seen[name] == 2 {
			if err := st.resolveDuplicates(ctx, tableDuplicates(db, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setAside is the name a duplicate goes by while duplicates are resolved:
// the name and its id, which no other has.
func (d duplicates) setAside(id string) string { return d.name + "_" + id }

// rows selects the rows of d's name, and of those set aside.
func (d duplicates) rows() r.Term {
	return d.config.Filter(func(row r.Term) r.Term {
		named := row.Field("name").Eq(d.name).Or(row.Field("name").Eq(r.Add(d.name+"_", row.Field("id"))))
		if d.sameDB != nil {
			return d.sameDB(row).And(named)
		}
		return named
	})
}

// rename gives the one with id a new name through its system table row.
// It is gone (another process dropped it) when the row is.
func (st *Store) rename(ctx context.Context, d duplicates, id, name string) (gone bool, err error) {
	res, err := d.config.Get(id).Update(map[string]any{"name": name}).RunWrite(st.session, r.RunOpts{Context: ctx})
	if err == nil && res.Errors > 0 {
		err = errors.New(res.FirstError)
	}
	return err == nil && res.Skipped > 0, err
}

// resolveDuplicates leaves one table (or database) of d's name when racing
// creators made several: the one holding data, else the one with the
// lowest id, whichever process decides. Only empty ones are dropped.
//
// A duplicated name cannot be read (it is ambiguous), so each is first
// renamed to the name plus its id through its system table row, and
// counted by that name. Each empty one but the one kept is then dropped,
// by id, in one query that checks it is still set aside and still empty;
// the one kept gets the name back. Every step is idempotent, so processes
// doing this at the same time agree; while it runs the name is missing for
// a moment. If more than one holds data, none of those is dropped: they
// stay under their set-aside names and EnsureSchema fails, for a person to
// merge them.
func (st *Store) resolveDuplicates(ctx context.Context, d duplicates) error {
	run := r.RunOpts{Context: ctx}
	var rows []map[string]any
	if err := d.rows().ReadAll(&rows, st.session, run); err != nil {
		return classify("read the configuration of "+d.what, err)
	}
	if len(rows) == 0 || len(rows) == 1 && rows[0]["name"] == d.name {
		return nil
	}
	ids := make([]string, 0, len(rows))
	var named []any // those still called d.name
	for _, row := range rows {
		id, _ := row["id"].(string)
		ids = append(ids, id)
		if row["name"] == d.name {
			named = append(named, id)
		}
	}
	sort.Strings(ids)
	// All at once, so that the name never leads to just one of them, into
	// which another process would create or write.
	if len(named) > 0 {
		res, err := d.config.GetAll(named...).Update(func(row r.Term) any {
			return map[string]any{"name": r.Add(d.name+"_", row.Field("id"))}
		}).RunWrite(st.session, run)
		if err == nil && res.Errors > 0 {
			err = errors.New(res.FirstError)
		}
		if err != nil {
			return classify("set aside the duplicates of "+d.what, err)
		}
	}

	var present, withData []string
	for _, id := range ids {
		if d.prepare != nil {
			if err := d.prepare(ctx, st, d.setAside(id)); err != nil {
				return err
			}
		}
		var empty bool
		err := d.isEmpty(d.setAside(id)).ReadOne(&empty, st.session, run)
		if err != nil && strings.Contains(err.Error(), "does not exist") {
			continue // another process dropped it, or gave it the name back
		}
		if err != nil {
			return classify("read a duplicate of "+d.what, err)
		}
		present = append(present, id)
		if !empty {
			withData = append(withData, id)
		}
	}
	if len(present) == 0 {
		return nil // another process resolved them
	}
	keep := present[0]
	if len(withData) > 0 {
		keep = withData[0]
	}
	for _, id := range present {
		if id == keep || containsString(withData, id) {
			continue
		}
		row := d.config.Get(id)
		drop := r.Branch(row.Field("name").Default(nil).Eq(d.setAside(id)).And(d.isEmpty(d.setAside(id))), row.Delete(), nil)
		if err := drop.Exec(st.session, r.ExecOpts{Context: ctx}); err != nil && !strings.Contains(err.Error(), "does not exist") {
			return classify("drop an empty duplicate of "+d.what, err)
		}
	}
	gone, err := st.rename(ctx, d, keep, d.name)
	if err != nil {
		if alreadyExists(err) {
			// Yet another creator made the name meanwhile: a new duplicate.
			return fmt.Errorf("%s: %w", d.what, errCreatedAgain)
		}
		return classify("give "+d.what+" its name back", err)
	}
	if gone {
		// Another process, deciding from what it saw earlier, dropped it.
		return fmt.Errorf("%s: %w", d.what, errCreatedAgain)
	}
	if len(withData) > 1 {
		var others []string
		for _, id := range withData[1:] {
			others = append(others, d.setAside(id))
		}
		return fmt.Errorf("%s was created more than once and more than one holds data: kept the one with id %s, the others are named %s; merge them by hand",
			d.what, keep, strings.Join(others, ", "))
	}
	return nil
}

// errCreatedAgain: while a name's duplicates were resolved it was created
// once more, or the one kept went; resolving starts over.
var errCreatedAgain = errors.New("changed by another process while its duplicates were resolved")

// isRacing reports the errors of racing creators: RethinkDB's for a name
// made twice, a name missing for a moment while another process resolves
// its duplicates, and a name made again meanwhile. EnsureSchema resolves
// duplicates and starts over after them.
func isRacing(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "is ambiguous; there are multiple") || strings.Contains(msg, "does not exist") ||
		errors.Is(err, errCreatedAgain)
}

func alreadyExists(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already exists")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
