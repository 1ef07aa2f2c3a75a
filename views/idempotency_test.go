package views_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
)

// A retry with the same Idempotency-Key gets the first answer again and
// writes nothing; the same key with another request is 422; keys are per
// path.
func TestIdempotentRetriesReplayTheFirstAnswer(t *testing.T) {
	a := start(t)
	idem := func(k string) []string { return append([]string{"Idempotency-Key", k}, auth...) }

	first := a.Do(t, "POST", "/boards/", `{"name": "Once"}`, idem("create-1")...)
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	again := a.Do(t, "POST", "/boards/", `{"name": "Once"}`, idem("create-1")...)
	assert.Equal(t, http.StatusCreated, again.Status)
	assert.Equal(t, string(first.Body), string(again.Body))
	assert.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	res := a.Do(t, "GET", "/boards/", nil)
	var list struct{ Boards []any }
	res.JSON(t, &list)
	assert.Len(t, list.Boards, 1, "one board")

	var b struct{ ID string }
	first.JSON(t, &b)
	pl := a.Do(t, "POST", "/boards/"+b.ID+"/players/", `{"name": "Ann"}`, idem("p")...)
	require.Equal(t, http.StatusCreated, pl.Status)
	var p struct{ ID string }
	pl.JSON(t, &p)
	add := "/boards/" + b.ID + "/players/" + p.ID + "/score-add/"
	for range 3 {
		res := a.Do(t, "POST", add, `{"amount": 5}`, idem("add-1")...)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	}
	assert.Equal(t, int64(5), scoreOf(t, a, b.ID, p.ID), "three tries, one add")

	res = a.Do(t, "POST", add, `{"amount": 6}`, idem("add-1")...)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.JSONEq(t, `{"error": "this Idempotency-Key was used with a different request"}`, string(res.Body))
	res = a.Do(t, "POST", "/boards/"+b.ID+"/players/"+p.ID+"/score/", `{"score": 5}`, idem("add-1")...)
	assert.Equal(t, http.StatusOK, res.Status, "the same key on another path is another key")
	assert.Equal(t, int64(10), scoreOf(t, a, b.ID, p.ID))

	// A client's mistake is answered the same way again.
	bad := a.Do(t, "POST", add, `{"amount": "x"}`, idem("bad")...)
	assert.Equal(t, http.StatusBadRequest, bad.Status)
	assert.Equal(t, string(bad.Body), string(a.Do(t, "POST", add, `{"amount": "x"}`, idem("bad")...).Body))
	assert.Equal(t, int64(10), scoreOf(t, a, b.ID, p.ID))
}

// Retries racing on two web processes that share one database: exactly one
// of them writes; each other one gets the first answer or, while the first
// is in flight, 409 with Retry-After, never a second write.
func TestIdempotentRetriesRacingOnTwoWebProcesses(t *testing.T) {
	db := minirethink.RunT(t)
	url := "rethinkdb://admin@" + db.Addr() + "/leaderboard"
	web := func() *testapp.App {
		return testapp.Start(t, testapp.Options{APIKeys: []string{key}, Config: func(c *config.Config) {
			c.DatabaseURL = url
		}})
	}
	webs := []*testapp.App{web(), web()}
	b := createBoard(t, webs[0], `{"name": "Race"}`)
	ann := createPlayer(t, webs[0], b, "Ann", 0)

	conflicts, replays := 0, 0
	for round := range 20 {
		k := fmt.Sprintf("race-%d", round)
		const tries = 8
		statuses := make([]int, tries)
		replayed := make([]bool, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Go(func() {
				res := webs[i%2].Do(t, "POST", "/boards/"+b+"/players/"+ann+"/score-add/", `{"amount": 1}`,
					append([]string{"Idempotency-Key", k}, auth...)...)
				statuses[i] = res.Status
				replayed[i] = res.Header.Get("Idempotent-Replayed") == "true"
				if res.Status == http.StatusConflict {
					assert.Equal(t, "5", res.Header.Get("Retry-After"))
				}
			})
		}
		wg.Wait()
		firsts := 0
		for i, s := range statuses {
			require.Contains(t, []int{http.StatusOK, http.StatusConflict}, s)
			switch {
			case s == http.StatusConflict:
				conflicts++
			case replayed[i]:
				replays++
			default:
				firsts++
			}
		}
		require.Equal(t, 1, firsts, "round %d: one write answered as the first: %v", round, statuses)
		require.Equal(t, int64(round+1), scoreOf(t, webs[1], b, ann), "round %d: one add", round)
	}
	t.Logf("%d retries got 409 while the first was in flight, %d the first answer", conflicts, replays)
	assert.Positive(t, conflicts, "retries did race with the first")
}

// A key past its 24 hours is claimed afresh (the write happens again) and
// swept away.
func TestIdempotencyKeysExpire(t *testing.T) {
	a := start(t)
	b := createBoard(t, a, `{"name": "Later"}`)
	ann := createPlayer(t, a, b, "Ann", 0)
	add := "/boards/" + b + "/players/" + ann + "/score-add/"
	hdr := append([]string{"Idempotency-Key", "k"}, auth...)
	require.Equal(t, http.StatusOK, a.Do(t, "POST", add, nil, hdr...).Status)
	require.Equal(t, http.StatusOK, a.Do(t, "POST", add, nil, hdr...).Status)
	assert.Equal(t, int64(1), scoreOf(t, a, b, ann))
	a.DB.FastForward(24*time.Hour + time.Second)
	require.Equal(t, http.StatusOK, a.Do(t, "POST", add, nil, hdr...).Status)
	assert.Equal(t, int64(2), scoreOf(t, a, b, ann), "a day later the key is new")

	a.DB.FastForward(24*time.Hour + time.Second)
	n, err := a.Store.Idempotency().Sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the key, claimed afresh a day ago, is past its window")
}
