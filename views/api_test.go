package views_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

type player struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Score int64  `json:"score"`
	Rank  int    `json:"rank"`
	Board string `json:"board"`
}

type board struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Players []player `json:"players"`
}

const key = "s3cret"

var auth = []string{"Authorization", "Bearer " + key}

func start(t *testing.T) *testapp.App {
	t.Helper()
	return testapp.Start(t, testapp.Options{APIKeys: []string{key}})
}

func scoreOf(t *testing.T, a *testapp.App, b, p string) int64 {
	t.Helper()
	res := a.Do(t, "GET", "/boards/"+b+"/players/"+p+"/", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got player
	res.JSON(t, &got)
	return got.Score
}

func TestGetBoardShowsTopNRanked(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "Finals", "A", "B", "C", "D", "E", "F")
	// Scores 10, 50, 30, 30, 0, 20; C reached 30 before D, so ranks higher.
	for i, amount := range []int{10, 50, 30, 30, 0, 20} {
		if amount == 0 {
			continue
		}
		res := a.Do(t, "POST", fmt.Sprintf("/boards/%s/players/%s/score-add/?amount=%d", b, ids[i], amount), nil, auth...)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		// reached_at is r.now(), which has millisecond precision: adds
		// within one millisecond are an exact tie and share a rank. The
		// database's clock moves on instead of the test sleeping.
		a.DB.FastForward(time.Millisecond)
	}

	tests := []struct {
		path  string
		names []string
	}{
		{"/boards/" + b + "/", []string{"B", "C", "D", "F", "A"}},
		{"/boards/" + b, []string{"B", "C", "D", "F", "A"}}, // trailing slash optional
		{"/boards/" + b + "/?limit=2", []string{"B", "C"}},
		{"/boards/" + b + "/?limit=100", []string{"B", "C", "D", "F", "A", "E"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := a.Do(t, "GET", tt.path, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, "application/json", strings.Split(res.Header.Get("Content-Type"), ";")[0])
			var got board
			res.JSON(t, &got)
			assert.Equal(t, b, got.ID)
			assert.Equal(t, "Finals", got.Name)
			var names []string
			for i, p := range got.Players {
				names = append(names, p.Name)
				assert.Equal(t, i+1, p.Rank, "rank of %s", p.Name)
				assert.Empty(t, p.Board, "players in a board do not repeat the board")
			}
			assert.Equal(t, tt.names, names)
		})
	}
}

func TestGetPlayer(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "Ann", "Bob")
	other, otherIDs := a.Board(t, "Other", "Zed")
	a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/", nil, auth...)

	res := a.Do(t, "GET", "/boards/"+b+"/players/"+ids[1]+"/", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var got player
	res.JSON(t, &got)
	assert.Equal(t, player{ID: ids[1], Name: "Bob", Score: 1, Rank: 1, Board: b}, got)

	res = a.Do(t, "GET", "/boards/"+b+"/players/"+ids[0], nil)
	res.JSON(t, &got)
	assert.Equal(t, 2, got.Rank)

	for _, path := range []string{
		"/boards/" + b + "/players/nope/",
		"/boards/" + b + "/players/" + otherIDs[0] + "/", // a player of another board
		"/boards/" + other + "/players/" + ids[0] + "/",
		"/boards/nope/players/" + ids[0] + "/",
	} {
		res := a.Do(t, "GET", path, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, path)
		assert.JSONEq(t, `{"error":"player not found"}`, string(res.Body), path)
	}
}

func TestScoreAdd(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		body   string
		header []string
		want   int64
	}{
		{"default adds one, as the original", "", "", nil, 1},
		{"json body", "", `{"amount": 25}`, []string{"Content-Type", "application/json"}, 25},
		{"negative", "", `{"amount": -7}`, nil, -7},
		{"query", "?amount=3", "", nil, 3},
		{"integral float", "", `{"amount": 2.0}`, nil, 2},
		{"exponent", "?amount=1e3", "", nil, 1000},
		{"empty object", "", `{}`, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := start(t)
			b, ids := a.Board(t, "B", "P")
			res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/"+tt.query, tt.body, append(auth, tt.header...)...)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			var got player
			res.JSON(t, &got)
			assert.Equal(t, tt.want, got.Score)
			assert.Equal(t, 1, got.Rank)
			assert.Equal(t, b, got.Board)
			assert.Equal(t, tt.want, scoreOf(t, a, b, ids[0]))
		})
	}
}

// Every client mistake gets a clear JSON error with the right status and
// changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	_, otherIDs := a.Board(t, "Other", "Q")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	// Bring the score near the top of the range.
	huge := a.Do(t, "POST", add, `{"amount": 1000000000}`, auth...)
	require.Equal(t, http.StatusOK, huge.Status, "%s", huge.Body)

	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		errText string
	}{
		{"unknown board", "POST", "/boards/nope/players/" + ids[0] + "/score-add/", "", auth, 404, "player not found"},
		{"unknown player", "POST", "/boards/" + b + "/players/nope/score-add/", "", auth, 404, "player not found"},
		{"player of another board", "POST", "/boards/" + b + "/players/" + otherIDs[0] + "/score-add/", "", auth, 404, "player not found"},
		{"malformed json", "POST", add, `{"amount": `, auth, 400, "request body is not valid JSON"},
		{"wrong type", "POST", add, `{"amount": "5"}`, auth, 400, `field "amount" must be a number`},
		{"not an object", "POST", add, `[1]`, auth, 400, "request body must be a JSON object"},
		{"unknown field", "POST", add, `{"amout": 5}`, auth, 400, `unknown field "amout"`},
		{"two values", "POST", add, `{"amount": 1} {"amount": 2}`, auth, 400, "request body must hold a single JSON object"},
		{"fraction", "POST", add, `{"amount": 1.5}`, auth, 400, "amount must be an integer"},
		{"NaN in query", "POST", add + "?amount=NaN", "", auth, 400, "amount must be an integer"},
		{"Inf in query", "POST", add + "?amount=Inf", "", auth, 400, "amount must be an integer"},
		{"hex in query", "POST", add + "?amount=0x10", "", auth, 400, "amount must be an integer"},
		{"empty query amount", "POST", add + "?amount=", "", auth, 400, "amount must be an integer"},
		{"amount too large", "POST", add, `{"amount": 1000000001}`, auth, 400, "amount must be between -1000000000 and 1000000000"},
		{"amount too small", "POST", add + "?amount=-1000000001", "", auth, 400, "amount must be between -1000000000 and 1000000000"},
		{"amount far out of range", "POST", add, `{"amount": 1e300}`, auth, 400, "amount must be between -1000000000 and 1000000000"},
		{"body and query", "POST", add + "?amount=1", `{"amount": 2}`, auth, 400, "give amount in the body or in the query, not both"},
		{"invalid utf-8", "POST", add, "{\"amount\": 1, \"x\": \"\xff\"}", auth, 400, "request body must be valid UTF-8"},
		{"body over 64 KiB", "POST", add, `{"amount": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`, auth, 413, "request body is larger than 64 KiB"},
		{"no key", "POST", add, "", nil, 401, "missing API key: send Authorization: Bearer <key>"},
		{"wrong key", "POST", add, "", []string{"Authorization", "Bearer nope"}, 401, "invalid API key"},
		{"wrong scheme", "POST", add, "", []string{"Authorization", "Basic " + key}, 401, "missing API key: send Authorization: Bearer <key>"},
		{"wrong method", "GET", add, "", auth, 405, "method not allowed"},
		{"limit zero", "GET", "/boards/" + b + "/?limit=0", "", nil, 400, "limit must be an integer from 1 to 100"},
		{"limit too big", "GET", "/boards/" + b + "/?limit=101", "", nil, 400, "limit must be an integer from 1 to 100"},
		{"limit not a number", "GET", "/boards/" + b + "/?limit=abc", "", nil, 400, "limit must be an integer from 1 to 100"},
		{"unknown board GET", "GET", "/boards/nope/", "", nil, 404, "board not found"},
		{"unknown route", "GET", "/nope", "", nil, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, tt.method, tt.path, tt.body, tt.headers...)
			assert.Equal(t, tt.status, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
			if tt.status == 401 {
				assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
			}
			if tt.status == 405 {
				// Echo answers OPTIONS on every route, so it is allowed too.
				assert.ElementsMatch(t, []string{"OPTIONS", "POST"}, strings.Split(res.Header.Get("Allow"), ", "))
			}
			assert.Equal(t, int64(1_000_000_000), scoreOf(t, a, b, ids[0]), "nothing may change")
		})
	}
}

func TestScoreMustStayWithinExactIntegers(t *testing.T) {
	a := start(t)
	b, _ := a.Board(t, "B", "P")
	res := a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Max", "score": 9007199254740990}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var p player
	res.JSON(t, &p)

	add := "/boards/" + b + "/players/" + p.ID + "/score-add/"
	res = a.Do(t, "POST", add, `{"amount": 2}`, auth...)
	require.Equal(t, http.StatusOK, res.Status, "up to 2^53 is fine: %s", res.Body)
	res = a.Do(t, "POST", add, `{"amount": 1}`, auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.JSONEq(t, `{"error": "score would leave the range -2^53..2^53"}`, string(res.Body))
	assert.Equal(t, int64(1<<53), scoreOf(t, a, b, p.ID))

	res = a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Min", "score": -9007199254740993}`, auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)

	// The same at the bottom of the range.
	res = a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Min", "score": -9007199254740990}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.JSON(t, &p)
	sub := "/boards/" + b + "/players/" + p.ID + "/score-add/"
	require.Equal(t, http.StatusOK, a.Do(t, "POST", sub, `{"amount": -2}`, auth...).Status)
	res = a.Do(t, "POST", sub, `{"amount": -1}`, auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.JSONEq(t, `{"error": "score would leave the range -2^53..2^53"}`, string(res.Body))
	assert.Equal(t, int64(-1<<53), scoreOf(t, a, b, p.ID))
}

func TestConcurrentScoreAddsAreNeverLost(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	const n = 200
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() {
			res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil, auth...)
			statuses <- res.Status
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		require.Equal(t, http.StatusOK, s)
	}
	assert.Equal(t, int64(n), scoreOf(t, a, b, ids[0]))
}

func TestBoardsCreateListDelete(t *testing.T) {
	a := start(t)
	var created []board
	for i := range 5 {
		res := a.Do(t, "POST", "/boards/", fmt.Sprintf(`{"name": " Board %d "}`, i), auth...)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var got board
		res.JSON(t, &got)
		assert.Equal(t, fmt.Sprintf("Board %d", i), got.Name, "names are trimmed")
		assert.Equal(t, "/boards/"+got.ID+"/", res.Header.Get("Location"))
		assert.Empty(t, got.Players)
		created = append(created, got)
		// Each board a millisecond later than the last (the database's
		// clock), so the oldest-first order is the creation order.
		a.DB.FastForward(time.Millisecond)
	}

	// Pages of 2 walk every board exactly once, oldest first.
	type page struct {
		Boards []board `json:"boards"`
		Next   *string `json:"next"`
	}
	var listed []string
	path := "/boards/?limit=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		res := a.Do(t, "GET", path, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p page
		res.JSON(t, &p)
		for _, b := range p.Boards {
			listed = append(listed, b.Name)
		}
		if p.Next == nil {
			break
		}
		path = *p.Next
	}
	assert.Equal(t, []string{"Board 0", "Board 1", "Board 2", "Board 3", "Board 4"}, listed)

	// A page cannot start after a board deleted since: a 400 that says so.
	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/boards/"+created[4].ID+"/", nil, auth...).Status)
	res := a.Do(t, "GET", "/boards/?after="+created[4].ID, nil)
	assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	assert.Contains(t, string(res.Body), "no longer exists")

	// Deleting a board deletes its players.
	target := created[0].ID
	res = a.Do(t, "POST", "/boards/"+target+"/players/", `{"name": "Gone"}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var p player
	res.JSON(t, &p)
	assert.Equal(t, "/boards/"+target+"/players/"+p.ID+"/", res.Header.Get("Location"))

	assert.Equal(t, http.StatusUnauthorized, a.Do(t, "DELETE", "/boards/"+target+"/", nil).Status)
	res = a.Do(t, "DELETE", "/boards/"+target+"/", nil, auth...)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+target+"/", nil).Status)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+target+"/players/"+p.ID+"/", nil).Status)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "DELETE", "/boards/"+target+"/", nil, auth...).Status)
}

func TestCreateBoardValidation(t *testing.T) {
	a := start(t)
	tests := []struct {
		name, body, errText string
	}{
		{"missing name", `{}`, `field "name" is required`},
		{"empty body", ``, `field "name" is required`},
		{"empty name", `{"name": "  "}`, "board name must not be empty"},
		{"long name", `{"name": "` + strings.Repeat("é", 101) + `"}`, "board name must be at most 100 characters (got 101)"},
		{"control character", `{"name": "a\u0007b"}`, "board name must not contain control characters"},
		{"name of wrong type", `{"name": 5}`, `field "name" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, "POST", "/boards/", tt.body, auth...)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
		})
	}
	// 100 characters is allowed.
	res := a.Do(t, "POST", "/boards/", `{"name": "`+strings.Repeat("é", 100)+`"}`, auth...)
	assert.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	var list struct{ Boards []board }
	a.Do(t, "GET", "/boards/", nil).JSON(t, &list)
	assert.Len(t, list.Boards, 1, "only the valid board was created")
}

func TestPlayersCreateDelete(t *testing.T) {
	a := start(t)
	b, _ := a.Board(t, "B")
	other, otherIDs := a.Board(t, "O", "X")

	res := a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Ann", "score": 42}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ann player
	res.JSON(t, &ann)
	assert.Equal(t, player{ID: ann.ID, Name: "Ann", Score: 42, Rank: 1, Board: b}, ann)

	res = a.Do(t, "POST", "/boards/nope/players/", `{"name": "Ann"}`, auth...)
	assert.Equal(t, http.StatusNotFound, res.Status)
	assert.JSONEq(t, `{"error": "board not found"}`, string(res.Body))
	res = a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Ann", "score": 1.5}`, auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.JSONEq(t, `{"error": "score must be an integer"}`, string(res.Body))
	res = a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Ann", "score": "42"}`, auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.JSONEq(t, `{"error": "field \"score\" must be a number"}`, string(res.Body))

	// A player cannot be deleted through another board.
	res = a.Do(t, "DELETE", "/boards/"+b+"/players/"+otherIDs[0]+"/", nil, auth...)
	assert.Equal(t, http.StatusNotFound, res.Status)
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/boards/"+other+"/players/"+otherIDs[0]+"/", nil).Status)

	res = a.Do(t, "DELETE", "/boards/"+b+"/players/"+ann.ID+"/", nil, auth...)
	assert.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+b+"/players/"+ann.ID+"/", nil).Status)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "DELETE", "/boards/"+b+"/players/"+ann.ID+"/", nil, auth...).Status)
}

func TestHealthAndDatabaseOutage(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/healthz", nil).Status)
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/readyz", nil).Status)

	a.DB.Close()
	for _, req := range []struct {
		method, path string
		cached       bool
	}{
		{"GET", "/readyz", false},
		{"GET", "/boards/" + b + "/", true},
		{"POST", "/boards/" + b + "/players/" + ids[0] + "/score-add/", false},
	} {
		res := a.Do(t, req.method, req.path, nil, auth...)
		// A board is answered from the cache until the boards changefeed
		// reports the outage, which takes a moment after the session closed.
		for deadline := time.Now().Add(5 * time.Second); req.cached && res.Status == http.StatusOK && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			res = a.Do(t, req.method, req.path, nil, auth...)
		}
		assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s %s: %s", req.method, req.path, res.Body)
		assert.Equal(t, "5", res.Header.Get("Retry-After"))
		assert.JSONEq(t, `{"error": "the database is unavailable, try again shortly"}`, string(res.Body))
	}
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/healthz", nil).Status, "the process itself is up")
}

func TestOpenWritesWithoutKeys(t *testing.T) {
	a := testapp.Start(t, testapp.Options{})
	res := a.Do(t, "POST", "/boards/", `{"name": "Open"}`)
	assert.Equal(t, http.StatusCreated, res.Status)
}
