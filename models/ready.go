package models

import (
	"context"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// requiredTables and requiredIndexes are what the service cannot work
// without, as CheckReady checks them: EnsureSchema's tables and indexes and
// the heartbeats table.
var (
	requiredTables  = []string{boardsTable, playersTable, heartbeatsTable}
	requiredIndexes = []string{boardIndex, rankIndex} // on players
)

// Prepare creates whatever of the schema is missing: EnsureSchema's
// database, tables and indexes, then the heartbeats table. Every process
// runs it at start, and again when a query finds part of the schema missing
// (ErrSchemaMissing: a database that restarted empty). It is idempotent.
func (st *Store) Prepare(ctx context.Context) error {
	if err := st.EnsureSchema(ctx); err != nil {
		return err
	}
	return st.ensureHeartbeats(ctx)
}

// CheckReady reports what keeps the service from working, in sentences for
// an operator: a missing database, table or index, or a worker whose
// heartbeat is missing or stale. No problems means ready. The error is the
// database's (ErrUnavailable when it cannot be reached). It costs two small
// reads: the table and index lists, and one heartbeat.
func (st *Store) CheckReady(ctx context.Context) ([]string, error) {
	qctx, cancel := st.queryContext(ctx)
	defer cancel()
	name := st.cfg.Database
	var schema struct {
		DB      bool     `rethinkdb:"db"`
		Tables  []string `rethinkdb:"tables"`
		Indexes []string `rethinkdb:"indexes"`
	}
	tables := st.db.TableList()
	err := r.Branch(r.DBList().Contains(name),
		map[string]any{
			"db":     true,
			"tables": tables,
			"indexes": r.Branch(tables.Contains(playersTable),
				st.Players.table.IndexList(), []string{}),
		},
		map[string]any{"db": false, "tables": []string{}, "indexes": []string{}},
	).ReadOne(&schema, st.session, r.RunOpts{Context: qctx})
	if err != nil {
		return nil, classify("check schema", err)
	}
	if !schema.DB {
		return []string{fmt.Sprintf("database %s is missing", name)}, nil
	}
	var problems []string
	for _, t := range requiredTables {
		if !containsString(schema.Tables, t) {
			problems = append(problems, fmt.Sprintf("table %s.%s is missing", name, t))
		}
	}
	if containsString(schema.Tables, playersTable) {
		for _, idx := range requiredIndexes {
			if !containsString(schema.Indexes, idx) {
				problems = append(problems, fmt.Sprintf("index %s of table %s.%s is missing", idx, name, playersTable))
			}
		}
	}
	if containsString(schema.Tables, heartbeatsTable) {
		hb, err := st.Heartbeats().Get(ctx, WorkerHeartbeat)
		if err != nil {
			return nil, err
		}
		if p := WorkerProblem(hb); p != "" {
			problems = append(problems, p)
		}
	}
	return problems, nil
}
