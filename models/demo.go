package models

import (
	"context"
	"errors"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// DemoPlayers are the original demo's five players, in the order the demo
// board ranks them while all are at 0.
var DemoPlayers = []string{"TS", "Brodie", "Brandi", "Rene", "Stan"}

// SeedDemo creates a demo board with the original's five players. They are
// inserted in one query, each a millisecond after the one before by the
// database's clock: created one by one, several would land in the same
// millisecond and tie, and the board would show them in a different order
// at every start.
func (st *Store) SeedDemo(ctx context.Context) (*Board, error) {
	board := &Board{Name: "Demo"}
	if err := st.Boards.Save(ctx, board); err != nil {
		return nil, err
	}
	docs := make([]any, len(DemoPlayers))
	for i, name := range DemoPlayers {
		docs[i] = map[string]any{
			"board":      board.ID,
			"name":       name,
			"score":      0,
			"reached_at": r.Now().ToEpochTime().Add(float64(i) / 1000),
		}
	}
	ctx, cancel := st.queryContext(ctx)
	defer cancel()
	res, err := st.write(ctx, "seed demo players", st.Players.table.Insert(docs))
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 {
		return nil, classify("seed demo players", errors.New(res.FirstError))
	}
	return board, nil
}
