package models

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/minirethink"
)

// EnsureSchema against the embedded server with RethinkDB 2.4's racing
// table_create and db_create (minirethink.WithUnserializedCreates): several
// processes ensuring the schema at the same moment make duplicate
// databases and tables, which EnsureSchema must find and drop.

func openStore(t *testing.T, addr, db string) *Store {
	t.Helper()
	st, err := Open(context.Background(), ConnConfig{Address: addr, Database: db, Username: "admin"}, Options{MaxOpen: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func adminSession(t *testing.T, addr string) *r.Session {
	t.Helper()
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// configNames reads rethinkdb.table_config's table names in db, sorted
// (a name twice when it is duplicated), and how many databases are named db.
func configNames(t *testing.T, s *r.Session, db string) (tables []string, dbs int) {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": db}).ReadAll(&rows, s))
	for _, row := range rows {
		tables = append(tables, row["name"].(string))
	}
	sort.Strings(tables)
	require.NoError(t, r.DB("rethinkdb").Table("db_config").Filter(map[string]any{"name": db}).Count().ReadOne(&dbs, s))
	return tables, dbs
}

// ensureConcurrently runs EnsureSchema in n stores at once, each with its
// own connections, as n processes starting together would.
func ensureConcurrently(t *testing.T, addr, db string, n int) []error {
	t.Helper()
	stores := make([]*Store, n)
	for i := range stores {
		stores[i] = openStore(t, addr, db)
	}
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i, st := range stores {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = st.EnsureSchema(context.Background())
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func TestEnsureSchemaConcurrentOnRacingCreates(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			srv := minirethink.RunT(t, minirethink.WithUnserializedCreates())
			const db = "leaderboard"
			errs := ensureConcurrently(t, srv.Addr(), db, 4)
			for i, err := range errs {
				assert.NoError(t, err, "process %d", i)
			}

			admin := adminSession(t, srv.Addr())
			tables, dbs := configNames(t, admin, db)
			assert.Equal(t, 1, dbs, "one database")
			assert.Equal(t, []string{"board_periods", "boards", "channels", "events", "heartbeats", "idempotency_keys", "members", "players", "tokens", "users"}, tables, "one of each table")

			var statuses []map[string]any
			require.NoError(t, r.DB(db).Table("players").IndexStatus().ReadAll(&statuses, admin))
			var ready []string
			for _, st := range statuses {
				if st["ready"] == true {
					ready = append(ready, st["index"].(string))
				}
			}
			assert.Equal(t, []string{"standing"}, ready, "indexes ready on the table that is left")

			// Normal queries work.
			st := openStore(t, srv.Addr(), db)
			board := &Board{Name: "b"}
			require.NoError(t, st.Boards.Save(context.Background(), board))
			p := &Player{Board: board.ID, Name: "p"}
			require.NoError(t, st.Players.Save(context.Background(), p))
			_, err := st.Players.AddScore(context.Background(), board.ID, p.ID, 5)
			require.NoError(t, err)
			top, err := st.Players.TopForBoard(context.Background(), board.ID, 10)
			require.NoError(t, err)
			require.Len(t, top, 1)
			assert.Equal(t, int64(5), top[0].Score)
		})
	}
}

// TestEnsureSchemaKeepsTheDuplicateWithData: a process already wrote to its
// table when another made a second one of that name; the one holding data
// survives, whichever id is lower (ids are random, so the rounds see both
// orders).
func TestEnsureSchemaKeepsTheDuplicateWithData(t *testing.T) {
	for round := range 6 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			srv := minirethink.RunT(t, minirethink.WithUnserializedCreates())
			const db = "leaderboard"
			first := openStore(t, srv.Addr(), db)
			require.NoError(t, first.EnsureSchema(context.Background()))
			board := &Board{Name: "kept"}
			require.NoError(t, first.Boards.Save(context.Background(), board))

			admin := adminSession(t, srv.Addr())
			_, err := r.DB(db).TableCreate(boardsTable).RunWrite(admin)
			require.NoError(t, err, "a racing creator makes a second, empty, boards table")
			tables, _ := configNames(t, admin, db)
			require.Equal(t, []string{"board_periods", "boards", "boards", "channels", "events", "heartbeats", "idempotency_keys", "members", "players", "tokens", "users"}, tables)

			require.NoError(t, openStore(t, srv.Addr(), db).EnsureSchema(context.Background()))
			tables, _ = configNames(t, admin, db)
			assert.Equal(t, []string{"board_periods", "boards", "channels", "events", "heartbeats", "idempotency_keys", "members", "players", "tokens", "users"}, tables)
			got, err := first.Boards.Get(context.Background(), board.ID)
			require.NoError(t, err, "the table with data is the one left")
			assert.Equal(t, "kept", got.Name)
		})
	}
}

// TestEnsureSchemaCreatesTheDeclaredSchema holds EnsureSchema to the one
// list of tables and indexes, which later tables extend.
func TestEnsureSchemaCreatesTheDeclaredSchema(t *testing.T) {
	srv := minirethink.RunT(t)
	st := openStore(t, srv.Addr(), "lb")
	require.NoError(t, st.EnsureSchema(context.Background()))
	require.NoError(t, st.EnsureSchema(context.Background()), "idempotent")
	admin := adminSession(t, srv.Addr())
	var tables []string
	require.NoError(t, r.DB("lb").TableList().ReadAll(&tables, admin))
	var want []string
	for _, spec := range schema {
		want = append(want, spec.name)
		var indexes, wantIndexes []string
		require.NoError(t, r.DB("lb").Table(spec.name).IndexList().ReadAll(&indexes, admin))
		for _, ix := range spec.indexes {
			wantIndexes = append(wantIndexes, ix.name)
		}
		sort.Strings(wantIndexes)
		assert.Equal(t, wantIndexes, nilIfEmpty(indexes), "indexes of %s", spec.name)
	}
	sort.Strings(want)
	assert.Equal(t, want, tables)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
