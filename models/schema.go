package models

import (
	"context"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

const (
	boardsTable  = "boards"
	playersTable = "players"
	// rankIndex orders a board's players best first when read descending:
	// [board, score, -reached_at]. A compound index cannot mix directions,
	// so the tie-break is negated: at equal scores, whoever reached the
	// score first (smaller reached_at) sorts higher.
	rankIndex  = "rank"
	boardIndex = "board"
)

// EnsureSchema creates the database, tables and indexes that are missing and
// waits for the indexes. Both processes call it at start; it is idempotent and
// safe to run concurrently (a racing creator's "already exists" is success).
func (st *Store) EnsureSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run := r.RunOpts{Context: ctx}

	var dbs []string
	if err := r.DBList().ReadAll(&dbs, st.session, run); err != nil {
		return classify("list databases", err)
	}
	if !containsString(dbs, st.cfg.Database) {
		if _, err := r.DBCreate(st.cfg.Database).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create database", err)
		}
	}
	var tables []string
	if err := st.db.TableList().ReadAll(&tables, st.session, run); err != nil {
		return classify("list tables", err)
	}
	for _, name := range []string{boardsTable, playersTable} {
		if containsString(tables, name) {
			continue
		}
		if _, err := st.db.TableCreate(name).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create table "+name, err)
		}
	}
	var indexes []string
	if err := st.Players.table.IndexList().ReadAll(&indexes, st.session, run); err != nil {
		return classify("list indexes", err)
	}
	want := map[string]any{
		boardIndex: "board",
		rankIndex: func(p r.Term) any {
			return []any{p.Field("board"), p.Field("score"), p.Field("reached_at").Mul(-1)}
		},
	}
	for name, fn := range want {
		if containsString(indexes, name) {
			continue
		}
		var err error
		if field, ok := fn.(string); ok {
			_, err = st.Players.table.IndexCreate(field).RunWrite(st.session, run)
		} else {
			_, err = st.Players.table.IndexCreateFunc(name, fn).RunWrite(st.session, run)
		}
		if err != nil && !alreadyExists(err) {
			return classify("create index "+name, err)
		}
	}
	if err := st.Players.table.IndexWait().Exec(st.session, r.ExecOpts{Context: ctx}); err != nil {
		return classify("wait for indexes", err)
	}
	return nil
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
