package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// ForBoard pages through a board's standings in rank order; a page that
// starts inside a tie gives its first player the tie's rank, as Get does.
func TestForBoardPagesTheStandings(t *testing.T) {
	db := minirethink.RunT(t)
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	ctx := context.Background()
	board := &models.Board{Name: "Cup"}
	require.NoError(t, store.Boards.Save(ctx, board))
	other := &models.Board{Name: "Other"}
	require.NoError(t, store.Boards.Save(ctx, other))
	require.NoError(t, store.Players.Save(ctx, &models.Player{Board: other.ID, Name: "Z", Score: 99}))

	// Scores 50, 40, 30, 30, 10; the two 30s reached it at the same instant.
	for _, p := range []struct {
		name  string
		score int64
	}{{"A", 50}, {"B", 40}, {"C", 30}, {"D", 30}, {"E", 10}} {
		require.NoError(t, store.Players.Save(ctx, &models.Player{Board: board.ID, Name: p.name, Score: p.score}))
	}
	tie := 1_700_000_000.0
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	_, err = r.DB("leaderboard").Table("players").Filter(map[string]any{"score": 30}).
		Update(map[string]any{"reached_at": tie}).RunWrite(session)
	require.NoError(t, err)

	type standing struct {
		Name string
		Rank int
	}
	page := func(skip, n int) []standing {
		t.Helper()
		players, err := store.Players.ForBoard(ctx, board.ID, skip, n)
		require.NoError(t, err)
		out := []standing{}
		for _, p := range players {
			out = append(out, standing{p.Name, p.Rank})
		}
		return out
	}
	tests := []struct {
		name    string
		skip, n int
		want    []standing
	}{
		{"first page", 0, 2, []standing{{"A", 1}, {"B", 2}}},
		{"page ending inside the tie", 1, 2, []standing{{"B", 2}, {page(2, 1)[0].Name, 3}}},
		{"page starting inside the tie", 3, 2, []standing{{page(3, 1)[0].Name, 3}, {"E", 5}}},
		{"everything", 0, 100, []standing{{"A", 1}, {"B", 2}, {page(2, 1)[0].Name, 3}, {page(3, 1)[0].Name, 3}, {"E", 5}}},
		{"past the end", 5, 2, []standing{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, page(tt.skip, tt.n))
		})
	}
	tied := []string{page(2, 1)[0].Name, page(3, 1)[0].Name}
	assert.ElementsMatch(t, []string{"C", "D"}, tied, "the tie holds C and D, each once")
}
