package minirethink

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Writes through the real driver, held to RethinkDB 2.4.4's write results
// (see testdata/transcript-2.4.4.txt, recorded from a real server).

// createTestTable creates table name in db and returns it.
func createTestTable(t *testing.T, s *r.Session, db, name string) r.Term {
	t.Helper()
	_, err := r.DB(db).TableCreate(name).RunWrite(s)
	require.NoError(t, err, "create table %s.%s", db, name)
	return r.DB(db).Table(name)
}

// writeResult runs a write and returns its result document as sent, not
// decoded into the driver's WriteResponse (which would hide extra fields).
func writeResult(t *testing.T, s *r.Session, q r.Term) map[string]any {
	t.Helper()
	var res map[string]any
	require.NoError(t, q.ReadOne(&res, s), "%s", q)
	return res
}

// writeCounts is a write result with the six counters every result has.
func writeCounts(inserted, deleted, replaced, unchanged, skipped, errs int, extra map[string]any) map[string]any {
	res := map[string]any{
		"inserted": float64(inserted), "deleted": float64(deleted), "replaced": float64(replaced),
		"unchanged": float64(unchanged), "skipped": float64(skipped), "errors": float64(errs),
	}
	for k, v := range extra {
		res[k] = v
	}
	return res
}

const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

// TestWriteResultsAsTranscript replays the transcript's writes.
func TestWriteResultsAsTranscript(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")

		res := writeResult(t, s, players.Insert(map[string]any{"board": "b", "name": "x", "score": 1}))
		require.Len(t, res["generated_keys"], 1)
		assert.Regexp(t, uuidPattern, res["generated_keys"].([]any)[0])
		delete(res, "generated_keys")
		assert.Equal(t, writeCounts(1, 0, 0, 0, 0, 0, nil), res, "insert with generated keys")

		assert.Equal(t, writeCounts(3, 0, 0, 0, 0, 0, nil), writeResult(t, s, players.Insert([]any{
			map[string]any{"board": "b", "id": "a", "name": "A", "score": 10},
			map[string]any{"board": "b", "id": "c", "name": "C", "score": 5},
			map[string]any{"board": "b", "id": "d", "name": "D", "score": 3},
		})), "insert with ids")

		assert.Equal(t, writeCounts(0, 0, 0, 0, 0, 1, map[string]any{
			"first_error": "Duplicate primary key `id`:\n{\n\t\"board\":\t\"b\",\n\t\"id\":\t\"a\",\n\t\"name\":\t\"A\",\n\t\"score\":\t10\n}\n{\n\t\"id\":\t\"a\"\n}",
		}), writeResult(t, s, players.Insert(map[string]any{"id": "a"})), "insert conflict error")

		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, map[string]any{
			"changes": []any{map[string]any{
				"new_val": map[string]any{"board": "b", "id": "c", "name": "C", "score": 6.0},
				"old_val": map[string]any{"board": "b", "id": "c", "name": "C", "score": 5.0},
			}},
		}), writeResult(t, s, players.Get("c").Update(map[string]any{"score": r.Row.Field("score").Add(1)},
			r.UpdateOpts{ReturnChanges: true})), "update row add return_changes")

		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, nil),
			writeResult(t, s, players.Get("d").Update(map[string]any{"at": r.Now()})), "update with r.Now")

		_, err := players.Get("d").Update(map[string]any{"u": r.UUID()}).RunWrite(s)
		var logic r.RQLQueryLogicError
		require.ErrorAs(t, err, &logic, "update with r.UUID")
		assert.Contains(t, err.Error(), "rethinkdb: Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?")

		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 0, nil), writeResult(t, s,
			players.Get("d").Update(map[string]any{"u": r.UUID()}, r.UpdateOpts{NonAtomic: true})), "non_atomic")

		assert.Equal(t, writeCounts(0, 1, 0, 0, 0, 0, nil), writeResult(t, s, players.Get("a").Delete()), "delete")
		assert.Equal(t, writeCounts(0, 0, 0, 0, 1, 0, nil), writeResult(t, s, players.Get("a").Delete()), "delete again")
	})
}

// TestConcurrentIncrements: every increment is atomic, none is lost.
func TestConcurrentIncrements(t *testing.T) {
	const goroutines, total = 50, 1000
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.Insert(map[string]any{"id": "p", "score": 0}).RunWrite(s)
		require.NoError(t, err)

		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < total; i += goroutines {
					res, err := players.Get("p").Update(map[string]any{"score": r.Row.Field("score").Add(1)}).RunWrite(s)
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, 1, res.Replaced)
				}
			}()
		}
		wg.Wait()
		var doc map[string]any
		require.NoError(t, players.Get("p").ReadOne(&doc, s))
		assert.Equal(t, float64(total), doc["score"])
	})
}

func TestWriteErrorsPerDocument(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		_, err := players.Insert([]any{
			map[string]any{"id": 1, "board": "x", "score": 1},
			map[string]any{"id": 2, "board": "y", "score": 2},
		}).RunWrite(s)
		require.NoError(t, err)

		// The application's AddScore pattern: r.error in a branch fails that
		// document alone, which is counted and not written.
		res := writeResult(t, s, players.Update(func(row r.Term) any {
			return r.Branch(row.Field("board").Eq("x"), r.Error("other board"),
				map[string]any{"score": row.Field("score").Add(1)})
		}))
		assert.Equal(t, writeCounts(0, 0, 1, 0, 0, 1, map[string]any{"first_error": "other board"}), res)
		var docs []map[string]any
		require.NoError(t, players.OrderBy(r.OrderByOpts{Index: "id"}).ReadAll(&docs, s))
		assert.Equal(t, []map[string]any{
			{"id": 1.0, "board": "x", "score": 1.0},
			{"id": 2.0, "board": "y", "score": 3.0},
		}, docs)

		assert.Equal(t, writeCounts(0, 0, 0, 0, 0, 1, map[string]any{
			"first_error": "Primary key `id` cannot be changed (`{\n\t\"board\":\t\"x\",\n\t\"id\":\t1,\n\t\"score\":\t1\n}` -> `{\n\t\"id\":\t3\n}`).",
		}), writeResult(t, s, players.Get(1).Replace(map[string]any{"id": 3})), "replace changing the key")

		assert.Equal(t, writeCounts(0, 0, 0, 0, 0, 1, map[string]any{
			"first_error": "Inserted object must have primary key `id`:\n{\n\t\"score\":\t1\n}",
		}), writeResult(t, s, players.Get(1).Replace(map[string]any{"score": 1})), "replace without the key")
	})
}

func TestReturnChanges(t *testing.T) {
	doc := map[string]any{"id": "a", "score": 1.0}
	tests := []struct {
		name  string
		query func(players r.Term) r.Term
		want  map[string]any
	}{
		{"true, unchanged", func(p r.Term) r.Term {
			return p.Get("a").Update(map[string]any{"score": 1}, r.UpdateOpts{ReturnChanges: true})
		}, writeCounts(0, 0, 0, 1, 0, 0, map[string]any{"changes": []any{}})},
		{"always, unchanged", func(p r.Term) r.Term {
			return p.Get("a").Update(map[string]any{"score": 1}, r.UpdateOpts{ReturnChanges: "always"})
		}, writeCounts(0, 0, 0, 1, 0, 0, map[string]any{"changes": []any{map[string]any{"old_val": doc, "new_val": doc}}})},
		{"always, skipped", func(p r.Term) r.Term {
			return p.Get("zz").Update(map[string]any{"score": 1}, r.UpdateOpts{ReturnChanges: "always"})
		}, writeCounts(0, 0, 0, 0, 1, 0, map[string]any{"changes": []any{map[string]any{"old_val": nil, "new_val": nil}}})},
		{"always, duplicate key", func(p r.Term) r.Term {
			return p.Insert(map[string]any{"id": "a"}, r.InsertOpts{ReturnChanges: "always"})
		}, writeCounts(0, 0, 0, 0, 0, 1, map[string]any{
			"first_error": "Duplicate primary key `id`:\n{\n\t\"id\":\t\"a\",\n\t\"score\":\t1\n}\n{\n\t\"id\":\t\"a\"\n}",
			"changes": []any{map[string]any{"old_val": doc, "new_val": doc,
				"error": "Duplicate primary key `id`:\n{\n\t\"id\":\t\"a\",\n\t\"score\":\t1\n}\n{\n\t\"id\":\t\"a\"\n}"}},
		})},
		{"delete", func(p r.Term) r.Term {
			return p.Get("a").Delete(r.DeleteOpts{ReturnChanges: true})
		}, writeCounts(0, 1, 0, 0, 0, 0, map[string]any{"changes": []any{map[string]any{"old_val": doc, "new_val": nil}}})},
		{"conflict update", func(p r.Term) r.Term {
			return p.Insert(map[string]any{"id": "a", "x": 1}, r.InsertOpts{Conflict: "update", ReturnChanges: true})
		}, writeCounts(0, 0, 1, 0, 0, 0, map[string]any{"changes": []any{map[string]any{
			"old_val": doc, "new_val": map[string]any{"id": "a", "score": 1.0, "x": 1.0}}}})},
		{"conflict function", func(p r.Term) r.Term {
			return p.Insert(map[string]any{"id": "a", "score": 5}, r.InsertOpts{
				Conflict: func(id, old, new r.Term) any {
					return old.Merge(map[string]any{"score": old.Field("score").Add(new.Field("score"))})
				}})
		}, writeCounts(0, 0, 1, 0, 0, 0, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachServer(t, func(t *testing.T, s *r.Session, db string) {
				players := createTestTable(t, s, db, "players")
				_, err := players.Insert(doc).RunWrite(s)
				require.NoError(t, err)
				assert.Equal(t, tt.want, writeResult(t, s, tt.query(players)), fmt.Sprint(tt.query(players)))
			})
		})
	}
}
