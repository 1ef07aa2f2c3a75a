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

// A board whose delete stopped after its first step (marked deleting) is
// gone for everyone, takes no player and no score, is not republished,
// and a retried Delete finishes it.
func TestInterruptedDeleteIsFinishedByARetry(t *testing.T) {
	db := minirethink.RunT(t)
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	ctx := context.Background()
	board := &models.Board{Name: "Cup"}
	require.NoError(t, store.Boards.Save(ctx, board))
	ann := &models.Player{Board: board.ID, Name: "Ann"}
	require.NoError(t, store.Players.Save(ctx, ann))
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	lb := r.DB("leaderboard")
	_, err = lb.Table("boards").Get(board.ID).Update(map[string]any{"deleting": true}).RunWrite(session)
	require.NoError(t, err)

	tests := []struct {
		name string
		op   func() error
	}{
		{"get", func() error { _, err := store.Boards.Get(ctx, board.ID); return err }},
		{"get a player", func() error { _, err := store.Players.Get(ctx, board.ID, ann.ID); return err }},
		{"create a player", func() error { return store.Players.Save(ctx, &models.Player{Board: board.ID, Name: "Bob"}) }},
		{"add a score", func() error { _, err := store.Players.AddScore(ctx, board.ID, ann.ID, 1); return err }},
		{"republish", func() error { _, _, err := store.Boards.SaveTop(ctx, board.ID, nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.op(), models.ErrNotFound)
		})
	}
	boards, err := store.Boards.List(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, boards, "a board being deleted is not listed")
	var players int
	require.NoError(t, lb.Table("players").Count().ReadOne(&players, session))
	assert.Equal(t, 1, players, "only Ann, unchanged")

	require.NoError(t, store.Boards.Delete(ctx, board.ID), "a retried delete finishes")
	require.NoError(t, lb.Table("players").Count().ReadOne(&players, session))
	assert.Zero(t, players)
	var left int
	require.NoError(t, lb.Table("boards").Count().ReadOne(&left, session))
	assert.Zero(t, left)
	assert.ErrorIs(t, store.Boards.Delete(ctx, board.ID), models.ErrNotFound, "and then it is gone")
}
