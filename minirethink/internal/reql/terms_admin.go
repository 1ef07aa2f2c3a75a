package reql

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Administration terms: databases, tables and secondary indexes, with the
// result documents and messages of RethinkDB 2.4 (rdb_protocol/terms/
// db_table.cc and sindex.cc, clustering/administration/
// real_reql_cluster_interface.cc and artificial_reql_cluster_interface.cc).
// Every term that changes the schema takes the engine's write lock (writes:
// true), so no query sees a table or an index half made.
//
// The embedded server is one server with the tag "default": table
// configurations name it (Memory.ServerName) as every shard's only replica,
// and tables and indexes are ready as soon as they exist, so wait,
// index_wait and sync answer at once.

func adminTerms(reg termTable) {
	reg.add(ql2.Term_DB_CREATE, termDef{fn: dbCreateTerm, minArgs: 1, maxArgs: 1, writes: true})
	reg.add(ql2.Term_DB_DROP, termDef{fn: dbDropTerm, minArgs: 1, maxArgs: 1, writes: true})
	reg.add(ql2.Term_DB_LIST, termDef{fn: dbListTerm})
	reg.add(ql2.Term_TABLE_CREATE, termDef{fn: tableCreateTerm, minArgs: 1, maxArgs: 2,
		opts: []string{"primary_key", "shards", "replicas", "nonvoting_replica_tags",
			"primary_replica_tag", "durability"},
		writes: true})
	reg.add(ql2.Term_TABLE_DROP, termDef{fn: tableDropTerm, minArgs: 1, maxArgs: 2, writes: true})
	reg.add(ql2.Term_TABLE_LIST, termDef{fn: tableListTerm, maxArgs: 1})
	reg.add(ql2.Term_INDEX_CREATE, termDef{fn: indexCreateTerm, minArgs: 2, maxArgs: 3,
		opts: []string{"multi", "geo"}, writes: true})
	reg.add(ql2.Term_INDEX_DROP, termDef{fn: indexDropTerm, minArgs: 2, maxArgs: 2, writes: true})
	reg.add(ql2.Term_INDEX_LIST, termDef{fn: indexListTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_INDEX_RENAME, termDef{fn: indexRenameTerm, minArgs: 3, maxArgs: 3,
		opts: []string{"overwrite"}, writes: true})
	reg.add(ql2.Term_INDEX_STATUS, termDef{fn: indexStatusTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_INDEX_WAIT, termDef{fn: indexStatusTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_WAIT, termDef{fn: waitTerm, maxArgs: 1, opts: []string{"timeout", "wait_for"}})
	reg.add(ql2.Term_SYNC, termDef{fn: syncTerm, minArgs: 1, maxArgs: 1})
	// config, status, reconfigure, rebalance and grant stay unregistered:
	// their answers are selections of the system tables, which the
	// embedded server does not have, so check() refuses them by name.
}

// systemDB is the database every RethinkDB server has, holding the system
// tables (users, table_config, ...). It is listed and can be named; of its
// tables, table_config and db_config are implemented (system_tables.go).
const systemDB = "rethinkdb"

func errSystemTableList() *Error {
	return ErrUnsupported("table_list of the system database `rethinkdb`")
}

// errSpecialDB is RethinkDB's refusal of schema changes in the system
// database.
func errSpecialDB(what string) *Error {
	return ErrOpFailed("Database `%s` is special; %s", systemDB, what)
}

func (m *Memory) serverName() string {
	if m.ServerName == "" {
		return "minirethink"
	}
	return m.ServerName
}

// adminDatabase finds a database named by a db term, which RethinkDB
// resolves when it evaluates the term.
func (m *Memory) adminDatabase(name string) (*database, error) {
	d, ok := m.dbs[name]
	if !ok {
		return nil, ErrOpFailed("Database `%s` does not exist.", name)
	}
	if len(m.dupDBs[name]) > 0 {
		return nil, errAmbiguousDB(name)
	}
	return d, nil
}

// dbTermName evaluates a term that must be a database and checks that it
// exists (the system database always does).
func (ec *evalCtx) dbTermName(t *Term) (string, error) {
	v, err := ec.eval(t)
	if err != nil {
		return "", err
	}
	d, ok := v.(*dbVal)
	if !ok {
		return "", valueTypeError("DATABASE", v)
	}
	return d.name, ec.dbExists(d.name)
}

func (ec *evalCtx) dbExists(name string) error {
	if name == systemDB {
		return nil
	}
	_, err := ec.m.adminDatabase(name)
	return err
}

// tableTarget reads the (db, name) of table_create and table_drop: one
// argument names a table of the query's default database, two a database
// and a table.
func (ec *evalCtx) tableTarget(t *Term) (dbName, name string, err error) {
	nameArg := t.Args[0]
	if len(t.Args) == 2 {
		if dbName, err = ec.dbTermName(t.Args[0]); err != nil {
			return "", "", err
		}
		nameArg = t.Args[1]
	} else {
		dbName = ec.db
		if err = ec.dbExists(dbName); err != nil {
			return "", "", err
		}
	}
	if name, err = ec.str(nameArg); err != nil {
		return "", "", err
	}
	return dbName, name, validName("Table", name)
}

// configChange is one element of a result's config_changes.
func configChange(old, new any) []any {
	return []any{map[string]any{"old_val": old, "new_val": new}}
}

func dbConfig(d *database) map[string]any {
	return map[string]any{"id": d.id, "name": d.name}
}

func dbCreateTerm(ec *evalCtx, t *Term) (any, error) {
	name, err := ec.dbNameArg(t.Args[0])
	if err != nil {
		return nil, err
	}
	if name == systemDB {
		return nil, ErrOpFailed("Database `%s` already exists.", name)
	}
	for _, other := range ec.m.databasesNamed(name) {
		if ec.m.settled(other.created) {
			return nil, ErrOpFailed("Database `%s` already exists.", name)
		}
	}
	d := newDatabase(name)
	ec.m.addDatabase(d)
	return map[string]any{
		"dbs_created":    1.0,
		"config_changes": configChange(nil, dbConfig(d)),
	}, nil
}

func dbDropTerm(ec *evalCtx, t *Term) (any, error) {
	name, err := ec.dbNameArg(t.Args[0])
	if err != nil {
		return nil, err
	}
	if name == systemDB {
		return nil, errSpecialDB("you can't delete it.")
	}
	d, err := ec.m.adminDatabase(name)
	if err != nil {
		return nil, err
	}
	dropped := ec.m.dropDatabase(d)
	return map[string]any{
		"dbs_dropped":    1.0,
		"tables_dropped": float64(dropped),
		"config_changes": configChange(dbConfig(d), nil),
	}, nil
}

func dbListTerm(ec *evalCtx, t *Term) (any, error) {
	names := []string{systemDB}
	for name := range ec.m.dbs {
		names = append(names, name)
	}
	return sortedNames(names), nil
}

// sortedNames is names in byte order, as RethinkDB lists names (a
// std::set), as a datum.
func sortedNames(names []string) []any {
	sort.Strings(names)
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out
}

// tableReplicaConfig is what table_create's sharding and replication
// options ask for.
type tableReplicaConfig struct {
	shards     int
	replicas   map[string]int // per server tag
	primaryTag string
	nonvoting  []string
	durability string
}

// replicaOpts reads table_create's shards, replicas, nonvoting_replica_tags,
// primary_replica_tag and durability with RethinkDB's type checks
// (get_replicas_and_primary in db_table.cc).
func (ec *evalCtx) replicaOpts(t *Term) (tableReplicaConfig, error) {
	c := tableReplicaConfig{shards: 1, replicas: map[string]int{"default": 1}, primaryTag: "default", durability: "hard"}
	if o, ok := t.Opts["shards"]; ok {
		n, err := ec.integer(o)
		if err != nil {
			return c, err
		}
		if n <= 0 {
			return c, ErrQueryLogic("Every table must have at least one shard.")
		}
		c.shards = n
	}
	var replicas, nonvoting any
	var err error
	if o, ok := t.Opts["replicas"]; ok {
		if replicas, err = ec.datum(o); err != nil {
			return c, err
		}
	}
	if o, ok := t.Opts["nonvoting_replica_tags"]; ok {
		if nonvoting, err = ec.datum(o); err != nil {
			return c, err
		}
	}
	_, hasPrimaryTag := t.Opts["primary_replica_tag"]
	if hasPrimaryTag {
		if c.primaryTag, err = ec.str(t.Opts["primary_replica_tag"]); err != nil {
			return c, err
		}
	}
	if _, ok := t.Opts["replicas"]; ok {
		c.replicas = map[string]int{}
		switch x := replicas.(type) {
		case map[string]any:
			if rank(x) != rankObject {
				return c, ErrQueryLogic("Expected type OBJECT or NUMBER but found %s:\n%s", TypeName(x), Print(x))
			}
			if !hasPrimaryTag {
				return c, ErrQueryLogic("`primary_replica_tag` must be specified when `replicas` is an OBJECT.")
			}
			for _, tag := range sortedKeys(x) {
				if err := validName("Server tag", tag); err != nil {
					return c, err
				}
				n, ok := x[tag].(float64)
				if !ok {
					return c, expected("NUMBER", x[tag])
				}
				if _, err := checkedInt(n); err != nil {
					return c, err
				}
				if n < 0 {
					return c, ErrQueryLogic("Can't have a negative number of replicas")
				}
				c.replicas[tag] = int(min(n, 1<<31))
			}
		case float64:
			if hasPrimaryTag {
				return c, ErrQueryLogic("`replicas` must be an OBJECT if `primary_replica_tag` is specified.")
			}
			if _, ok := t.Opts["nonvoting_replica_tags"]; ok {
				return c, ErrQueryLogic("`replicas` must be an OBJECT if `nonvoting_replica_tags` is specified.")
			}
			if _, err := checkedInt(x); err != nil {
				return c, err
			}
			if x < 0 {
				// RethinkDB reads it as an unsigned size; what it then
				// answers is not worth guessing.
				return c, ErrUnsupported("A negative `replicas` in table_create")
			}
			c.replicas[c.primaryTag] = int(min(x, 1<<31))
		default:
			return c, ErrQueryLogic("Expected type OBJECT or NUMBER but found %s:\n%s", TypeName(x), Print(x))
		}
	}
	if _, ok := t.Opts["nonvoting_replica_tags"]; ok {
		list, ok := nonvoting.([]any)
		if !ok {
			return c, ErrQueryLogic("Expected type ARRAY but found %s:\n%s", TypeName(nonvoting), Print(nonvoting))
		}
		for _, e := range list {
			tag, ok := e.(string)
			if !ok {
				return c, ErrQueryLogic("Expected type STRING but found %s:\n%s", TypeName(e), Print(e))
			}
			if err := validName("Server tag", tag); err != nil {
				return c, err
			}
			c.nonvoting = append(c.nonvoting, tag)
		}
	}
	if hasPrimaryTag {
		if err := validName("Server tag", c.primaryTag); err != nil {
			return c, err
		}
	}
	if o, ok := t.Opts["durability"]; ok {
		d, err := ec.str(o)
		if err != nil {
			return c, err
		}
		if d != "hard" && d != "soft" {
			return c, ErrQueryLogic("Durability option `%s` unrecognized (options are \"hard\" and \"soft\").", d)
		}
		c.durability = d
	}
	return c, nil
}

// place checks the configuration against the one server, tagged
// "default", as table_generate_config's validate_params does.
func (c tableReplicaConfig) place() error {
	total := 0
	for _, n := range c.replicas {
		total += n
	}
	if total == 0 {
		return ErrOpFailed("You must set `replicas` to at least one. `replicas` includes the primary replica; " +
			"if there are zero replicas, there is nowhere to put the data.")
	}
	if c.shards > maxShards {
		return ErrOpFailed("Maximum number of shards is %d.", maxShards)
	}
	if c.replicas[c.primaryTag] == 0 {
		return ErrOpFailed("Can't use server tag `%s` for primary replicas because you specified no replicas in server tag `%s`.",
			c.primaryTag, c.primaryTag)
	}
	tags := make([]string, 0, len(c.replicas))
	for tag := range c.replicas {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	for _, tag := range tags {
		n := c.replicas[tag]
		servers := 0
		if tag == "default" {
			servers = 1
		}
		if n > servers {
			return ErrOpFailed("Can't put %d replicas on servers with the tag `%s` because there are only %d servers "+
				"with the tag `%s`. It's impossible to have more replicas of the data than there are servers.",
				n, tag, servers, tag)
		}
	}
	if len(c.nonvoting) > 0 {
		// With one server the only replica would be non-voting; which
		// error RethinkDB gives for that was not checked.
		return ErrUnsupported("A non-empty `nonvoting_replica_tags` in table_create")
	}
	return nil
}

// maxShards is RethinkDB 2.4's limit on a table's shards.
const maxShards = 64

func tableCreateTerm(ec *evalCtx, t *Term) (any, error) {
	cfg, err := ec.replicaOpts(t)
	if err != nil {
		return nil, err
	}
	pk, err := ec.optString(t, "primary_key", "id")
	if err != nil {
		return nil, err
	}
	dbName, name, err := ec.tableTarget(t)
	if err != nil {
		return nil, err
	}
	if dbName == systemDB {
		return nil, errSpecialDB("you can't create new tables in it.")
	}
	d, err := ec.m.adminDatabase(dbName)
	if err != nil {
		return nil, err
	}
	for _, other := range d.tablesNamed(name) {
		if ec.m.settled(other.created) {
			return nil, ErrOpFailed("Table `%s.%s` already exists.", dbName, name)
		}
	}
	if err := cfg.place(); err != nil {
		return nil, err
	}
	tb := newTable(d, newUUID(), name, pk)
	tb.shards = cfg.shards
	if cfg.durability == "soft" {
		tb.durability = "soft"
	}
	d.addTable(tb)
	return map[string]any{
		"tables_created": 1.0,
		"config_changes": configChange(nil, ec.m.tableConfig(tb)),
	}, nil
}

// tableConfig is the table's row of rethinkdb.table_config, which
// table_create and table_drop return as new_val and old_val.
func (m *Memory) tableConfig(tb *Table) map[string]any {
	n := max(tb.shards, 1)
	shards := make([]any, n)
	for i := range shards {
		shards[i] = map[string]any{
			"nonvoting_replicas": []any{},
			"primary_replica":    m.serverName(),
			"replicas":           []any{m.serverName()},
		}
	}
	durability := "hard"
	if tb.durability != "" {
		durability = tb.durability
	}
	return map[string]any{
		"db":          tb.db.name,
		"durability":  durability,
		"id":          tb.id,
		"indexes":     tb.indexNames(),
		"name":        tb.name,
		"primary_key": tb.primaryKey,
		"shards":      shards,
		"write_acks":  "majority",
		"write_hook":  nil,
	}
}

func (tb *Table) indexNames() []any {
	names := make([]string, 0, len(tb.indexes))
	for name := range tb.indexes {
		names = append(names, name)
	}
	return sortedNames(names)
}

func tableDropTerm(ec *evalCtx, t *Term) (any, error) {
	dbName, name, err := ec.tableTarget(t)
	if err != nil {
		return nil, err
	}
	if dbName == systemDB {
		return nil, errSpecialDB("you can't drop tables in it.")
	}
	tb, err := ec.m.lookupTable(dbName, name)
	if err != nil {
		return nil, err
	}
	cfg := ec.m.tableConfig(tb)
	ec.m.dropTable(tb)
	return map[string]any{
		"tables_dropped": 1.0,
		"config_changes": configChange(cfg, nil),
	}, nil
}

func tableListTerm(ec *evalCtx, t *Term) (any, error) {
	dbName := ec.db
	if len(t.Args) == 1 {
		var err error
		if dbName, err = ec.dbTermName(t.Args[0]); err != nil {
			return nil, err
		}
	} else if err := ec.dbExists(dbName); err != nil {
		return nil, err
	}
	if dbName == systemDB {
		return nil, errSystemTableList()
	}
	d, err := ec.m.adminDatabase(dbName)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(d.tables))
	for name := range d.tables {
		names = append(names, name)
	}
	return sortedNames(names), nil
}

// waitTerm answers at once: an embedded table is always ready.
func waitTerm(ec *evalCtx, t *Term) (any, error) {
	var target any = &dbVal{name: ec.db}
	if len(t.Args) == 1 {
		v, err := ec.eval(t.Args[0])
		if err != nil {
			return nil, err
		}
		target = v
	}
	d, isDB := target.(*dbVal)
	if isDB {
		if err := ec.dbExists(d.name); err != nil {
			return nil, err
		}
	}
	if len(t.Args) == 0 {
		return nil, ErrQueryLogic("`wait` can only be called on a table or database.")
	}
	if o, ok := t.Opts["wait_for"]; ok {
		s, err := ec.str(o)
		if err != nil {
			return nil, err
		}
		switch s {
		case "ready_for_outdated_reads", "ready_for_reads", "ready_for_writes", "all_replicas_ready":
		default:
			return nil, ErrQueryLogic("Unknown table readiness state: '%s', must be one of "+
				"'ready_for_outdated_reads', 'ready_for_reads', 'ready_for_writes', or 'all_replicas_ready'", s)
		}
	}
	if o, ok := t.Opts["timeout"]; ok {
		if _, err := ec.integer(o); err != nil {
			return nil, err
		}
	}
	if !isDB {
		tv, ok := target.(*tableVal)
		if !ok {
			return nil, valueTypeError("TABLE", target)
		}
		if tv.t.system != "" {
			return nil, errSystemTableOp("wait", tv.t)
		}
		return map[string]any{"ready": 1.0}, nil
	}
	if d.name == systemDB {
		return nil, errSpecialDB("the system tables in it are always available and don't need to be waited on.")
	}
	db, err := ec.m.adminDatabase(d.name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ready": float64(db.numTables())}, nil
}

func syncTerm(ec *evalCtx, t *Term) (any, error) {
	if _, err := ec.dataTableArg(t.Args[0], "sync"); err != nil {
		return nil, err
	}
	return map[string]any{"synced": 1.0}, nil
}

// sindexCreateVar is the variable of the function RethinkDB makes for
// index_create(name) without a function: r.var(x)[name], a GET_FIELD in its
// minidriver, with x the SINDEXCREATE_X dummy variable, 18th in
// minidriver_t::dummy_var_t, which dummy_var_to_sym numbers -1-18. It shows
// in index_status's query as _var19.
const sindexCreateVar = -19

func indexCreateTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.dataTableArg(t.Args[0], "index_create")
	if err != nil {
		return nil, err
	}
	name, err := ec.str(t.Args[1])
	if err != nil {
		return nil, err
	}
	if name == tb.primaryKey {
		return nil, ErrQueryLogic("Index name conflict: `%s` is the name of the primary key.", name)
	}
	var f *funcVal
	if len(t.Args) == 3 {
		if f, err = ec.indexFunction(t.Args[2]); err != nil {
			return nil, err
		}
	} else {
		field := &Term{Type: ql2.Term_FUNC, Args: []*Term{
			{Type: ql2.Term_MAKE_ARRAY, Args: []*Term{{Type: ql2.Term_DATUM, Datum: float64(sindexCreateVar)}}},
			{Type: ql2.Term_GET_FIELD, Args: []*Term{
				{Type: ql2.Term_VAR, Args: []*Term{{Type: ql2.Term_DATUM, Datum: float64(sindexCreateVar)}}},
				{Type: ql2.Term_DATUM, Datum: name},
			}},
		}}
		if f, err = ec.function(field); err != nil {
			return nil, err
		}
	}
	if indexFuncNonDeterministic(f.body) {
		return nil, ErrQueryLogic("Could not prove function deterministic.  Index functions must be deterministic.")
	}
	multi, err := ec.optTruthy(t, "multi")
	if err != nil {
		return nil, err
	}
	geo, err := ec.optTruthy(t, "geo")
	if err != nil {
		return nil, err
	}
	if geo {
		return nil, ErrUnsupported("The optional argument `geo` of index_create (geospatial indexes)")
	}
	if _, exists := tb.indexes[name]; exists {
		return nil, ErrOpFailed("Index `%s` already exists on table `%s`.", name, tb.FullName())
	}
	def, err := json.Marshal(termJSON(funcTerm(f)))
	if err != nil {
		return nil, ErrOpFailed("Cannot store the index function: %v.", err)
	}
	ix := &index{name: name, fn: f, multi: multi, def: def, tree: newIndexTree()}
	ix.build(ec, tb)
	tb.indexes[name] = ix
	return map[string]any{"created": 1.0}, nil
}

// indexFunction evaluates index_create's third argument, which must be a
// function (RethinkDB's as_func, no shortcut) or a function blob from
// index_status.
func (ec *evalCtx) indexFunction(t *Term) (*funcVal, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, err
	}
	if f, ok := v.(*funcVal); ok {
		return f, nil
	}
	if o, ok := v.(map[string]any); ok && rank(o) == rankBinary {
		data, _ := o["data"].(string)
		raw, _ := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(data))
		var decoded any
		if strings.HasPrefix(string(raw), "$reql_index_function$") || json.Unmarshal(raw, &decoded) == nil {
			// RethinkDB's blobs are its own binary serialization, and
			// ours (see indexStatusDoc) are not RethinkDB's.
			return nil, ErrUnsupported("Creating an index from the `function` blob of `index_status`")
		}
		return nil, ErrQueryLogic("Cannot create an sindex except from a reql_index_function returned from " +
			"`index_status` in the field `function`.")
	}
	return nil, valueTypeError("FUNCTION", v)
}

// optTruthy reads a boolean option the way RethinkDB's as_bool does:
// anything but false and null is true.
func (ec *evalCtx) optTruthy(t *Term, name string) (bool, error) {
	o, ok := t.Opts[name]
	if !ok {
		return false, nil
	}
	return ec.truthy(o)
}

// indexFuncNonDeterministic: index functions must be deterministic, and
// unlike a write's function r.now() does not count as deterministic in one
// (assert_deterministic with constant_now_t::no).
func indexFuncNonDeterministic(t *Term) bool {
	return anyTerm(t, func(x *Term) bool {
		switch x.Type {
		case ql2.Term_NOW, ql2.Term_DB, ql2.Term_DB_LIST, ql2.Term_TABLE_LIST, ql2.Term_INDEX_LIST,
			ql2.Term_INDEX_STATUS, ql2.Term_INDEX_WAIT, ql2.Term_CONFIG, ql2.Term_STATUS:
			return true
		}
		return nonDeterministic(x)
	})
}

// funcTerm is the FUNC term of f, as a client would send it.
func funcTerm(f *funcVal) *Term {
	params := &Term{Type: ql2.Term_MAKE_ARRAY}
	for _, p := range f.params {
		params.Args = append(params.Args, &Term{Type: ql2.Term_DATUM, Datum: p})
	}
	return &Term{Type: ql2.Term_FUNC, Args: []*Term{params, f.body}}
}

func indexDropTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.dataTableArg(t.Args[0], "index_drop")
	if err != nil {
		return nil, err
	}
	name, err := ec.str(t.Args[1])
	if err != nil {
		return nil, err
	}
	if _, ok := tb.indexes[name]; !ok {
		return nil, ErrOpFailed("Index `%s` does not exist on table `%s`.", name, tb.FullName())
	}
	tb.endIndexFeeds(name)
	delete(tb.indexes, name)
	return map[string]any{"dropped": 1.0}, nil
}

func indexListTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.dataTableArg(t.Args[0], "index_list")
	if err != nil {
		return nil, err
	}
	return tb.indexNames(), nil
}

func indexRenameTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.dataTableArg(t.Args[0], "index_rename")
	if err != nil {
		return nil, err
	}
	oldName, err := ec.str(t.Args[1])
	if err != nil {
		return nil, err
	}
	newName, err := ec.str(t.Args[2])
	if err != nil {
		return nil, err
	}
	for _, n := range []string{oldName, newName} {
		if n == tb.primaryKey {
			return nil, ErrQueryLogic("Index name conflict: `%s` is the name of the primary key.", n)
		}
	}
	overwrite, err := ec.optTruthy(t, "overwrite")
	if err != nil {
		return nil, err
	}
	ix, ok := tb.indexes[oldName]
	_, taken := tb.indexes[newName]
	if !ok || (taken && !overwrite && oldName != newName) {
		if overwrite {
			return nil, ErrOpFailed("Index `%s` does not exist on table `%s`.", oldName, tb.FullName())
		}
		return nil, ErrOpFailed("Index `%s` does not exist or index `%s` already exists on table `%s`.",
			oldName, newName, tb.FullName())
	}
	if oldName == newName {
		return map[string]any{"renamed": 0.0}, nil
	}
	tb.endIndexFeeds(oldName)
	tb.endIndexFeeds(newName)
	ix.name = newName
	delete(tb.indexes, oldName)
	tb.indexes[newName] = ix
	return map[string]any{"renamed": 1.0}, nil
}

// indexStatusTerm is index_status and index_wait: every index is ready as
// soon as index_create returns, so waiting is reading the status.
func indexStatusTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.dataTableArg(t.Args[0], "index_status and index_wait")
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, a := range t.Args[1:] {
		name, err := ec.str(a)
		if err != nil {
			return nil, err
		}
		wanted[name] = true
	}
	var missing []string
	for name := range wanted {
		if _, ok := tb.indexes[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, ErrOpFailed("Index `%s` was not found on table `%s`.", missing[0], tb.FullName())
	}
	out := []any{}
	for _, n := range tb.indexNames() {
		name := n.(string)
		if len(wanted) > 0 && !wanted[name] {
			continue
		}
		out = append(out, indexStatusDoc(tb.indexes[name]))
	}
	return out, nil
}

// indexStatusDoc is one index's document in index_status and index_wait.
//
// "function" is, in RethinkDB, an opaque blob: its own binary serialization
// of the index function ("$reql_index_function$", cluster and ReQL versions,
// the function's term with backtrace ids, multi, geo), which index_create
// accepts back. The embedded server cannot produce that format; its blob is
// its own serialization, the function's JSON term, so it can be compared
// between indexes of the embedded server but not with a real server's, and
// index_create refuses it. "query" is RethinkDB's JavaScript rendering of
// the function (see jsIndexFunction).
func indexStatusDoc(ix *index) map[string]any {
	return map[string]any{
		"index":    ix.name,
		"ready":    true,
		"outdated": false,
		"multi":    ix.multi,
		"geo":      false,
		"function": binaryDatum(ix.def),
		"query":    indexCreateQuery(ix),
	}
}

// binaryDatum is a BINARY pseudo-type with its data base64-encoded as
// RethinkDB sends it: MIME style, lines of 76 characters ended by CRLF.
func binaryDatum(b []byte) map[string]any {
	s := base64.StdEncoding.EncodeToString(b)
	var lines []string
	for len(s) > 76 {
		lines = append(lines, s[:76])
		s = s[76:]
	}
	lines = append(lines, s)
	return map[string]any{"$reql_type$": "BINARY", "data": strings.Join(lines, "\r\n")}
}

// indexCreateQuery is format_index_create_query of sindex.cc.
func indexCreateQuery(ix *index) string {
	q := "indexCreate('" + ix.name + "', " + jsIndexFunction(ix.fn) + ""
	if ix.multi {
		q += ", {multi: true}"
	}
	return q + ")"
}

// termJSON is t in the JSON protocol, the inverse of parseTerm: terms are
// [type, [args...], {optargs}], MAKE_OBJ an object of terms, datums bare.
func termJSON(t *Term) any {
	switch t.Type {
	case ql2.Term_DATUM:
		return datumTermJSON(t.Datum)
	case ql2.Term_MAKE_OBJ:
		if len(t.Args) == 0 {
			out := make(map[string]any, len(t.Opts))
			for k, o := range t.Opts {
				out[k] = termJSON(o)
			}
			return out
		}
	}
	out := []any{float64(t.Type)}
	if len(t.Args) > 0 || len(t.Opts) > 0 {
		args := make([]any, len(t.Args))
		for i, a := range t.Args {
			args[i] = termJSON(a)
		}
		out = append(out, args)
	}
	if len(t.Opts) > 0 {
		opts := make(map[string]any, len(t.Opts))
		for k, o := range t.Opts {
			opts[k] = termJSON(o)
		}
		out = append(out, opts)
	}
	return out
}

// datumTermJSON writes a datum as a term: in the JSON protocol an array is
// always a term, so an array datum is MAKE_ARRAY.
func datumTermJSON(v any) any {
	switch x := v.(type) {
	case []any:
		args := make([]any, len(x))
		for i, e := range x {
			args[i] = datumTermJSON(e)
		}
		return []any{float64(ql2.Term_MAKE_ARRAY), args}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = datumTermJSON(e)
		}
		return out
	case minVal:
		return []any{float64(ql2.Term_MINVAL)}
	case maxVal:
		return []any{float64(ql2.Term_MAXVAL)}
	}
	return v
}
