package rankcache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/rankcache"
)

// ranksOf is every player's rank as store answers it, and its position in
// the standings (around with n = 0 is the player alone, at its place).
func ranksOf(t *testing.T, store *models.Store, board string, ids []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, id := range ids {
		p, err := store.Players.Get(ctx, board, id)
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("%s:%d:%d", p.Name, p.Score, p.Rank))
	}
	page, err := store.Players.ForBoard(ctx, board, 0, 1000)
	require.NoError(t, err)
	for i := 0; i < len(page); i += 7 {
		at, err := store.Players.ForBoard(ctx, board, i, 3)
		require.NoError(t, err)
		for j, p := range at {
			assert.Equal(t, page[i+j].ID, p.ID, "offset %d", i+j)
			assert.Equal(t, page[i+j].Rank, p.Rank, "offset %d", i+j)
		}
	}
	return out
}

// Through writes while it warms, a lost feed (the database restarts) and
// writes while it is rebuilt, the cache answers what counting answers.
func TestCacheMatchesCountingThroughWarmUpAndReconnects(t *testing.T) {
	db := minirethink.RunT(t)
	conn := testapp.ConnTo(db.Addr())
	counting := testapp.OpenStore(t, conn)
	cached := testapp.OpenStore(t, conn)
	ctx := context.Background()
	board := &models.Board{Name: "Cup"}
	require.NoError(t, counting.Boards.Save(ctx, board))
	var ids []string
	for i := range 200 {
		p := &models.Player{Board: board.ID, Name: fmt.Sprintf("P%d", i), Score: int64(i % 13)}
		require.NoError(t, counting.Players.Save(ctx, p))
		ids = append(ids, p.ID)
	}
	cache := rankcache.New()
	cached.Players.SetRanker(cache)

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	writes := func(n int) {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		for range n {
			_, err := counting.Players.AddScore(ctx, board.ID, ids[rng.IntN(len(ids))], int64(rng.IntN(7)-3))
			if err != nil {
				assert.ErrorIs(t, err, models.ErrUnavailable)
			}
		}
	}
	var writer sync.WaitGroup
	writer.Go(func() { writes(300) }) // while the cache warms up
	wg.Go(func() { cache.Run(runCtx, cached, testapp.Fast, testapp.Logger()) })
	t.Cleanup(func() { stop(); wg.Wait() })
	waitReady := func() {
		require.Eventually(t, func() bool { ok, _ := cache.Ready(); return ok }, 10*time.Second, time.Millisecond)
	}
	waitReady()
	writer.Wait()
	writes(100)
	assert.Equal(t, ranksOf(t, counting, board.ID, ids), ranksOf(t, cached, board.ID, ids))

	for round := range 3 {
		db.Restart()
		writes(50 * (round + 1))
		waitReady()
		writes(20)
		assert.Equal(t, ranksOf(t, counting, board.ID, ids), ranksOf(t, cached, board.ID, ids), "round %d", round)
	}
	_, n := cache.Ready()
	assert.Equal(t, len(ids), n)
}
