package models

import (
	"context"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// CheckReady reports what keeps the service from working, in sentences for
// an operator: a missing database, table or index, or a worker whose
// heartbeat is missing or stale. No problems means ready. The error is the
// database's (ErrUnavailable when it cannot be reached). It costs two small
// reads: the table and index lists, and one heartbeat.
func (st *Store) CheckReady(ctx context.Context) ([]string, error) {
	qctx, cancel := st.queryContext(ctx)
	defer cancel()
	name := st.cfg.Database
	var found struct {
		DB      bool                `rethinkdb:"db"`
		Tables  []string            `rethinkdb:"tables"`
		Indexes map[string][]string `rethinkdb:"indexes"`
	}
	tables := st.db.TableList()
	indexes := map[string]any{}
	for _, t := range schema {
		if len(t.indexes) > 0 {
			indexes[t.name] = r.Branch(tables.Contains(t.name), st.db.Table(t.name).IndexList(), []string{})
		}
	}
	err := r.Branch(r.DBList().Contains(name),
		map[string]any{"db": true, "tables": tables, "indexes": indexes},
		map[string]any{"db": false, "tables": []string{}, "indexes": map[string]any{}},
	).ReadOne(&found, st.session, r.RunOpts{Context: qctx})
	if err != nil {
		return nil, classify("check schema", err)
	}
	if !found.DB {
		return []string{fmt.Sprintf("database %s is missing", name)}, nil
	}
	var problems []string
	for _, t := range schema {
		if !containsString(found.Tables, t.name) {
			problems = append(problems, fmt.Sprintf("table %s.%s is missing", name, t.name))
			continue
		}
		for _, idx := range t.indexes {
			if !containsString(found.Indexes[t.name], idx.name) {
				problems = append(problems, fmt.Sprintf("index %s of table %s.%s is missing", idx.name, name, t.name))
			}
		}
	}
	if containsString(found.Tables, heartbeatsTable) {
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
