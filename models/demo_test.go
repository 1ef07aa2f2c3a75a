package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// The demo board shows its five players at 0 in the same order at every
// start, not in whatever order equal timestamps happen to sort.
func TestDemoBoardHasAStableOrder(t *testing.T) {
	for start := range 5 {
		store := testapp.OpenStore(t, testapp.ConnTo(minirethink.RunT(t).Addr()))
		board, err := store.SeedDemo(context.Background())
		require.NoError(t, err)
		top, err := store.Players.TopForBoard(context.Background(), board.ID, 10)
		require.NoError(t, err)
		var names []string
		for i, p := range top {
			names = append(names, p.Name)
			assert.Equal(t, i+1, p.Rank, "start %d: no ties among the demo players", start)
			assert.Zero(t, p.Score)
		}
		assert.Equal(t, models.DemoPlayers, names, "start %d", start)
	}
}
