package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/internal/worker"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// The Procfile's two processes started at the same moment on a fresh
// database that, like a real RethinkDB 2.4, does not serialize table
// creation: both come up, the database ends with one table of each name,
// and a score-add reaches a stream through the worker. Before EnsureSchema
// resolved duplicates, both processes died with "Table `leaderboard.players`
// is ambiguous".
func TestProcfileStartsTogetherOnAFreshDatabase(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			db := minirethink.RunT(t, minirethink.WithUnserializedCreates())
			url := "rethinkdb://" + db.Addr() + "/leaderboard"

			ctx, stop := context.WithCancel(context.Background())
			workerUp := make(chan error, 1)
			workerDone := make(chan struct{})
			t.Cleanup(func() { stop(); <-workerDone })
			go func() { // dblistener, as cmd/dblistener starts it
				defer close(workerDone)
				store, err := models.Open(ctx, testapp.ConnTo(db.Addr()), models.Options{})
				if err == nil {
					defer store.Close()
					err = store.EnsureSchema(ctx)
				}
				var wait func() error
				if err == nil {
					cfg := config.Defaults()
					cfg.PublishInterval = 10 * time.Millisecond
					wait, err = worker.Start(ctx, store, cfg, worker.Options{Logger: testapp.Logger()})
				}
				workerUp <- err
				if err == nil {
					_ = wait()
				}
			}()
			web := testapp.Start(t, testapp.Options{Config: func(c *config.Config) {
				c.DatabaseURL, c.OpenWrites = url, true
			}})
			require.NoError(t, <-workerUp, "the worker's schema setup")

			session := web.Session(t)
			var names []string
			require.NoError(t, r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": "leaderboard"}).
				Field("name").ReadAll(&names, session))
			sort.Strings(names)
			assert.Equal(t, []string{"board_periods", "boards", "channels", "events", "heartbeats", "idempotency_keys", "members", "players", "tokens", "users"}, names, "one table of each name")

			var board struct{ ID string }
			res := web.Do(t, "POST", "/boards/", `{"name": "Cup"}`)
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			res.JSON(t, &board)
			var ann struct{ ID string }
			res = web.Do(t, "POST", "/boards/"+board.ID+"/players/", `{"name": "Ann"}`)
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			res.JSON(t, &ann)
			s := testapp.OpenStream(t, web.Client(), web.URL+"/boards/"+board.ID+"/")
			require.Equal(t, http.StatusOK, web.Do(t, "POST", "/boards/"+board.ID+"/players/"+ann.ID+"/score-add/?amount=3", nil).Status)
			testapp.Until(t, s, testapp.ScoreIs("Ann", 3, 1))
		})
	}
}
