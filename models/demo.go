package models

import "context"

// DemoPlayers are the original demo's five players.
var DemoPlayers = []string{"TS", "Brodie", "Brandi", "Rene", "Stan"}

// SeedDemo creates a demo board with the original's five players.
func (st *Store) SeedDemo(ctx context.Context) (*Board, error) {
	board := &Board{Name: "Demo"}
	if err := st.Boards.Save(ctx, board); err != nil {
		return nil, err
	}
	for _, name := range DemoPlayers {
		if err := st.Players.Save(ctx, &Player{Board: board.ID, Name: name}); err != nil {
			return nil, err
		}
	}
	return board, nil
}
