package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// CheckReady names what is missing, so /readyz can tell an operator.
func TestCheckReadyNamesWhatIsMissing(t *testing.T) {
	const hint = "is dblistener running? (heroku ps:scale worker=1)"
	lb := r.DB("leaderboard")
	tests := []struct {
		name  string
		setup func(t *testing.T, s *r.Session)
		want  []string
	}{
		{"ready", func(t *testing.T, s *r.Session) {}, nil},
		{"no heartbeat", func(t *testing.T, s *r.Session) {
			_, err := lb.Table("heartbeats").Delete().RunWrite(s)
			require.NoError(t, err)
		}, []string{"no worker heartbeat: " + hint}},
		{"stale heartbeat", func(t *testing.T, s *r.Session) {
			_, err := lb.Table("heartbeats").Insert(map[string]any{
				"id": models.WorkerHeartbeat, "at": r.Now().Sub(42), "stale_after": 15,
			}, r.InsertOpts{Conflict: "replace"}).RunWrite(s)
			require.NoError(t, err)
		}, []string{"worker heartbeat is 42s old: " + hint}},
		{"no heartbeats table", func(t *testing.T, s *r.Session) {
			_, err := lb.TableDrop("heartbeats").RunWrite(s)
			require.NoError(t, err)
		}, []string{"table leaderboard.heartbeats is missing"}},
		{"no rank index", func(t *testing.T, s *r.Session) {
			_, err := lb.Table("players").IndexDrop("standing").RunWrite(s)
			require.NoError(t, err)
		}, []string{"index standing of table leaderboard.players is missing"}},
		{"no players table", func(t *testing.T, s *r.Session) {
			_, err := lb.TableDrop("players").RunWrite(s)
			require.NoError(t, err)
		}, []string{"table leaderboard.players is missing"}},
		{"no database", func(t *testing.T, s *r.Session) {
			_, err := r.DBDrop("leaderboard").RunWrite(s)
			require.NoError(t, err)
		}, []string{"database leaderboard is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := minirethink.RunT(t)
			ctx := context.Background()
			store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
			require.NoError(t, store.EnsureSchema(ctx))
			require.NoError(t, store.Heartbeats().Beat(ctx, models.WorkerHeartbeat, time.Minute))
			session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = session.Close() })
			tt.setup(t, session)

			problems, err := store.CheckReady(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.want, problems)

			// EnsureSchema repairs whatever was missing but the heartbeat itself,
			// which only the worker writes.
			require.NoError(t, store.EnsureSchema(ctx))
			problems, err = store.CheckReady(ctx)
			require.NoError(t, err)
			for _, p := range problems {
				assert.Contains(t, p, hint, "only the worker's heartbeat may be missing after EnsureSchema")
			}
		})
	}
}

// A missing database, table or index is a passing state the processes
// repair, so it is ErrUnavailable (a 503) and ErrSchemaMissing, never a 500.
func TestMissingSchemaIsUnavailable(t *testing.T) {
	db := minirethink.RunT(t)
	ctx := context.Background()
	store := testapp.OpenStore(t, testapp.ConnTo(db.Addr()))
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	board := &models.Board{Name: "Cup"}
	require.NoError(t, store.Boards.Save(ctx, board))

	_, err = r.DB("leaderboard").Table("players").IndexDrop("standing").RunWrite(session)
	require.NoError(t, err)
	_, err = store.Players.TopForBoard(ctx, board.ID, 5)
	assert.ErrorIs(t, err, models.ErrSchemaMissing, "a missing index")
	assert.ErrorIs(t, err, models.ErrUnavailable)

	_, err = r.DBDrop("leaderboard").RunWrite(session)
	require.NoError(t, err)
	_, err = store.Boards.Get(ctx, board.ID)
	assert.ErrorIs(t, err, models.ErrSchemaMissing, "a missing database")
	assert.ErrorIs(t, err, models.ErrUnavailable)
}
