package views_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// send is a.Do for goroutines other than the test's.
func send(a *testapp.App, method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, a.URL+path, bytes.NewBufferString(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set(auth[0], auth[1])
	res, err := a.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// A board deleted while players are being created under it and scores
// added: once the delete answered 204 and every request finished, no
// player of the board is left, whatever a create answered, and no score-add
// sent after the 204 succeeds.
func TestDeleteBoardWhileCreatingPlayers(t *testing.T) {
	a := start(t)
	session := a.Session(t)
	players := r.DB("leaderboard").Table("players")
	const creators, adders, rounds = 6, 3, 8
	for round := range rounds {
		b, ids := a.Board(t, "Doomed", "Ann")
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created []string // players whose create answered 201
			errs    []error
			oddity  []string
			ready   = make(chan struct{}, creators*4)
			deleted atomic.Bool // the delete answered 204
		)
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		for range creators {
			wg.Go(func() {
				for {
					status, body, err := send(a, "POST", "/boards/"+b+"/players/", `{"name": "Bob"}`)
					if err != nil {
						fail(err)
						return
					}
					switch status {
					case http.StatusCreated:
						var p player
						if err := json.Unmarshal(body, &p); err != nil {
							fail(err)
							return
						}
						mu.Lock()
						created = append(created, p.ID)
						mu.Unlock()
						select {
						case ready <- struct{}{}:
						default:
						}
					case http.StatusNotFound:
						return
					default:
						mu.Lock()
						oddity = append(oddity, string(body))
						mu.Unlock()
						return
					}
				}
			})
		}
		for i := range adders {
			wg.Go(func() {
				for n := 0; ; n++ {
					id := ids[0]
					mu.Lock()
					if len(created) > 0 {
						id = created[(n*adders+i)%len(created)]
					}
					mu.Unlock()
					after := deleted.Load()
					status, body, err := send(a, "POST", "/boards/"+b+"/players/"+id+"/score-add/", "")
					if err != nil {
						fail(err)
						return
					}
					switch {
					case status == http.StatusOK && after:
						mu.Lock()
						oddity = append(oddity, "a score-add sent after the delete's 204 succeeded: "+string(body))
						mu.Unlock()
						return
					case status == http.StatusNotFound && after:
						return
					case status != http.StatusOK && status != http.StatusNotFound:
						mu.Lock()
						oddity = append(oddity, string(body))
						mu.Unlock()
						return
					}
				}
			})
		}
		for range creators * 2 {
			<-ready
		}
		status, body, err := send(a, "DELETE", "/boards/"+b+"/", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, status, "%s", body)
		deleted.Store(true)
		wg.Wait()
		require.Empty(t, errs)
		assert.Empty(t, oddity, "round %d", round)

		var left []map[string]any
		require.NoError(t, players.Filter(map[string]any{"board": b}).ReadAll(&left, session))
		assert.Empty(t, left, "round %d: players of the deleted board, of %d created", round, len(created))
		var survivors int
		keys := make([]any, len(created))
		for i, id := range created {
			keys[i] = id
		}
		require.NoError(t, players.GetAll(keys...).Count().ReadOne(&survivors, session))
		assert.Zero(t, survivors, "round %d: players whose create answered 201 outlive the delete", round)
	}
}
