package views_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

type ranked struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Score    int64          `json:"score"`
	Rank     int            `json:"rank"`
	Metadata map[string]any `json:"metadata"`
}

type page struct {
	Players []ranked `json:"players"`
	Next    *string  `json:"next"`
}

// warm waits until the app's rank cache answers, so a test exercises it
// rather than the counting fallback.
func warm(t *testing.T, a *testapp.App) {
	t.Helper()
	require.Eventually(t, func() bool { ready, _ := a.Ranks.Ready(); return ready }, 10*time.Second, 5*time.Millisecond)
}

func createBoard(t *testing.T, a *testapp.App, body string) string {
	t.Helper()
	res := a.Do(t, "POST", "/boards/", body, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var b struct{ ID string }
	res.JSON(t, &b)
	return b.ID
}

func createPlayer(t *testing.T, a *testapp.App, board, name string, score int64) string {
	t.Helper()
	res := a.Do(t, "POST", "/boards/"+board+"/players/", fmt.Sprintf(`{"name": %q, "score": %d}`, name, score), auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var p ranked
	res.JSON(t, &p)
	return p.ID
}

func names(ps []ranked) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s:%d", p.Name, p.Rank))
	}
	return strings.Join(out, " ")
}

func getPage(t *testing.T, a *testapp.App, path string) page {
	t.Helper()
	res := a.Do(t, "GET", path, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p page
	res.JSON(t, &p)
	return p
}

// Pages at any offset and around-me rank ties as the rank index does: equal
// scores reached at the same instant share a rank (competition ranking),
// and the player reached first ranks higher; the cache answers (it is warm)
// exactly what counting in the database answers.
func TestStandingsPagesAndAroundMeRankTies(t *testing.T) {
	a := start(t)
	warm(t, a)
	b := createBoard(t, a, `{"name": "Ties"}`)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// A 50; B, C, D 40 at one instant; E 40 a second later; F 30, G 10.
	ids := map[string]string{}
	for _, p := range []struct {
		name  string
		score int64
		at    time.Duration
	}{{"A", 50, 0}, {"B", 40, 0}, {"C", 40, 0}, {"D", 40, 0}, {"E", 40, time.Second}, {"F", 30, 0}, {"G", 10, 0}} {
		a.DB.SetTime(at.Add(p.at))
		ids[p.name] = createPlayer(t, a, b, p.name, p.score)
	}
	a.DB.SetTime(time.Time{})

	all := getPage(t, a, "/boards/"+b+"/players/?limit=100")
	require.Len(t, all.Players, 7)
	assert.Nil(t, all.Next)
	tied := all.Players[1:4]
	assert.ElementsMatch(t, []string{"B", "C", "D"}, []string{tied[0].Name, tied[1].Name, tied[2].Name})
	assert.Equal(t, "A:1 "+tied[0].Name+":2 "+tied[1].Name+":2 "+tied[2].Name+":2 E:5 F:6 G:7", names(all.Players))

	for offset := range 8 {
		for _, limit := range []int{1, 2, 3} {
			got := getPage(t, a, fmt.Sprintf("/boards/%s/players/?offset=%d&limit=%d", b, offset, limit))
			want := all.Players[min(offset, 7):min(offset+limit, 7)]
			assert.Equal(t, names(want), names(got.Players), "offset %d limit %d", offset, limit)
			if offset+limit < 7 {
				require.NotNil(t, got.Next)
				assert.Equal(t, fmt.Sprintf("/boards/%s/players/?offset=%d&limit=%d", b, offset+limit, limit), *got.Next)
			}
		}
	}
	// Every player's own rank agrees with the standings.
	for _, p := range all.Players {
		res := a.Do(t, "GET", "/boards/"+b+"/players/"+p.ID+"/", nil)
		var got ranked
		res.JSON(t, &got)
		assert.Equal(t, p.Rank, got.Rank, p.Name)
	}

	around := func(name string, n int) string {
		t.Helper()
		return names(getPage(t, a, fmt.Sprintf("/boards/%s/players/%s/around/?n=%d", b, ids[name], n)).Players)
	}
	assert.Equal(t, names(all.Players[3:7]), around("F", 2), "two above, one below: the bottom")
	assert.Equal(t, names(all.Players[0:3]), around("A", 2), "none above the top")
	assert.Equal(t, "E:5", around("E", 0))
	assert.Equal(t, names(all.Players), around(tied[1].Name, 5))

	// A score-add moves a player and answers its new rank at once.
	res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids["G"]+"/score-add/", `{"amount": 100}`, auth...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var g ranked
	res.JSON(t, &g)
	assert.Equal(t, 1, g.Rank)
	assert.Equal(t, "G:1 A:2", names(getPage(t, a, "/boards/"+b+"/players/?limit=2").Players))
	assert.Equal(t, "F:7", names(getPage(t, a, "/boards/"+b+"/players/?offset=6").Players))
}

// An "asc" board ranks the lowest score first everywhere: the player's
// rank, pages, the top in GET and in the stream (the listener's). "best"
// keeps the better score by the board's order; "set" replaces it.
func TestAscBoardsAndScoreOperators(t *testing.T) {
	a := start(t)
	warm(t, a)
	laps := createBoard(t, a, `{"name": "Laps", "order": "asc", "operator": "best"}`)
	res := a.Do(t, "GET", "/boards/"+laps+"/", nil)
	var shown struct {
		Order, Operator string
		Players         []ranked
	}
	res.JSON(t, &shown)
	assert.Equal(t, "asc", shown.Order)
	assert.Equal(t, "best", shown.Operator)

	stream := testapp.OpenStream(t, a.Client(), a.URL+"/boards/"+laps+"/")
	stream.Next(t, 10*time.Second)

	ann := createPlayer(t, a, laps, "Ann", 90)
	bob := createPlayer(t, a, laps, "Bob", 80)
	cy := createPlayer(t, a, laps, "Cy", 100)
	score := func(id string, v int64) ranked {
		t.Helper()
		res := a.Do(t, "POST", "/boards/"+laps+"/players/"+id+"/score/", fmt.Sprintf(`{"score": %d}`, v), auth...)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p ranked
		res.JSON(t, &p)
		return p
	}
	assert.Equal(t, ranked{ID: ann, Name: "Ann", Score: 75, Rank: 1}, score(ann, 75), "a better lap")
	assert.Equal(t, ranked{ID: ann, Name: "Ann", Score: 75, Rank: 1}, score(ann, 95), "a worse lap changes nothing")
	assert.Equal(t, "Ann:1 Bob:2 Cy:3", names(getPage(t, a, "/boards/"+laps+"/players/").Players))
	assert.Equal(t, "Bob:2 Cy:3", names(getPage(t, a, "/boards/"+laps+"/players/?offset=1").Players))
	res = a.Do(t, "GET", "/boards/"+laps+"/", nil)
	res.JSON(t, &shown)
	assert.Equal(t, "Ann:1 Bob:2 Cy:3", names(shown.Players))
	testapp.Until(t, stream, func(bd testapp.BoardData) bool {
		return len(bd.Players) == 3 && bd.Players[0].Name == "Ann" && bd.Players[0].Score == 75 && bd.Players[2].Name == "Cy"
	})
	// score-add still adds, on any board.
	res = a.Do(t, "POST", "/boards/"+laps+"/players/"+bob+"/score-add/", `{"amount": -10}`, auth...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p ranked
	res.JSON(t, &p)
	assert.Equal(t, int64(70), p.Score)
	assert.Equal(t, 1, p.Rank)
	_ = cy

	set := createBoard(t, a, `{"name": "Level", "operator": "set"}`)
	dee := createPlayer(t, a, set, "Dee", 10)
	eve := createPlayer(t, a, set, "Eve", 20)
	res = a.Do(t, "POST", "/boards/"+set+"/players/"+eve+"/score/", `{"score": 5}`, auth...)
	res.JSON(t, &p)
	assert.Equal(t, int64(5), p.Score)
	assert.Equal(t, 2, p.Rank, "set replaces, even with a lower score")
	assert.Equal(t, "Dee:1 Eve:2", names(getPage(t, a, "/boards/"+set+"/players/").Players))
	_ = dee

	incr := createBoard(t, a, `{"name": "Points"}`)
	fay := createPlayer(t, a, incr, "Fay", 10)
	res = a.Do(t, "POST", "/boards/"+incr+"/players/"+fay+"/score/", `{"score": 5}`, auth...)
	res.JSON(t, &p)
	assert.Equal(t, int64(15), p.Score, "incr adds")

	best := createBoard(t, a, `{"name": "High", "operator": "best"}`)
	gus := createPlayer(t, a, best, "Gus", 10)
	res = a.Do(t, "POST", "/boards/"+best+"/players/"+gus+"/score/", `{"score": 7}`, auth...)
	res.JSON(t, &p)
	assert.Equal(t, int64(10), p.Score, "best on a desc board keeps the higher")
	res = a.Do(t, "POST", "/boards/"+best+"/players/"+gus+"/score/", `{"score": 12}`, auth...)
	res.JSON(t, &p)
	assert.Equal(t, int64(12), p.Score)
}

// Metadata rides along with a player: set at creation, replaced by a score
// write that gives it, kept by one that does not.
func TestPlayerMetadata(t *testing.T) {
	a := start(t)
	b := createBoard(t, a, `{"name": "Meta"}`)
	res := a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "Ann", "metadata": {"country": "NO", "level": 3}}`, auth...)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var p ranked
	res.JSON(t, &p)
	assert.Equal(t, map[string]any{"country": "NO", "level": 3.0}, p.Metadata)
	res = a.Do(t, "POST", "/boards/"+b+"/players/"+p.ID+"/score-add/", `{"amount": 2}`, auth...)
	p = ranked{} // Unmarshal would merge into the old map
	res.JSON(t, &p)
	assert.Equal(t, map[string]any{"country": "NO", "level": 3.0}, p.Metadata, "kept")
	res = a.Do(t, "POST", "/boards/"+b+"/players/"+p.ID+"/score/", `{"score": 1, "metadata": {"car": {"colour": "red"}}}`, auth...)
	p = ranked{}
	res.JSON(t, &p)
	assert.Equal(t, map[string]any{"car": map[string]any{"colour": "red"}}, p.Metadata, "replaced whole")
	res = a.Do(t, "GET", "/boards/"+b+"/players/"+p.ID+"/", nil)
	p = ranked{}
	res.JSON(t, &p)
	assert.Equal(t, int64(3), p.Score)
	assert.Equal(t, map[string]any{"car": map[string]any{"colour": "red"}}, p.Metadata)
}

// A batch applies its items in order, each on its own: an unknown player's
// error is in its result, the others are written.
func TestBatchOfScores(t *testing.T) {
	a := start(t)
	b := createBoard(t, a, `{"name": "Batch", "operator": "best"}`)
	ann := createPlayer(t, a, b, "Ann", 10)
	bob := createPlayer(t, a, b, "Bob", 0)
	body := fmt.Sprintf(`[{"player": %q, "amount": 5}, {"player": "nobody", "amount": 1},
		{"player": %q, "score": 3}, {"player": %q, "score": 30, "metadata": {"m": 1}}]`, ann, bob, ann)
	res := a.Do(t, "POST", "/boards/"+b+"/scores", body, auth...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out struct {
		Results []struct {
			Player string
			Status int
			Result *ranked
			Error  string
		}
	}
	res.JSON(t, &out)
	require.Len(t, out.Results, 4)
	assert.Equal(t, int64(15), out.Results[0].Result.Score)
	assert.Equal(t, http.StatusNotFound, out.Results[1].Status)
	assert.Equal(t, "player not found", out.Results[1].Error)
	assert.Nil(t, out.Results[1].Result)
	assert.Equal(t, int64(3), out.Results[2].Result.Score)
	assert.Equal(t, 2, out.Results[2].Result.Rank)
	assert.Equal(t, int64(30), out.Results[3].Result.Score)
	assert.Equal(t, 1, out.Results[3].Result.Rank)
	assert.Equal(t, int64(30), scoreOf(t, a, b, ann))
	assert.Equal(t, int64(3), scoreOf(t, a, b, bob))

	items := make([]string, 1001)
	for i := range items {
		items[i] = fmt.Sprintf(`{"player": %q, "amount": 1}`, ann)
	}
	res = a.Do(t, "POST", "/boards/"+b+"/scores", "["+strings.Join(items, ",")+"]", auth...)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.JSONEq(t, `{"error": "give at most 1000 items (got 1001)"}`, string(res.Body))
	res = a.Do(t, "POST", "/boards/"+b+"/scores", "["+strings.Join(items[:1000], ",")+"]", auth...)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, int64(1030), scoreOf(t, a, b, ann), "1,000 items, each written")
}

// Every bad input is a 4xx with a JSON sentence and changes nothing.
func TestBadRankInputsChangeNothing(t *testing.T) {
	a := start(t)
	b := createBoard(t, a, `{"name": "Strict"}`)
	ann := createPlayer(t, a, b, "Ann", 10)
	big := `{"name": "X", "metadata": {"blob": "` + strings.Repeat("x", 2100) + `"}}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     string
	}{
		{"order", "POST", "/boards/", `{"name": "B", "order": "up"}`, nil, 400, `order must be "desc" or "asc", got "up"`},
		{"operator", "POST", "/boards/", `{"name": "B", "operator": "max"}`, nil, 400, `operator must be "incr", "best" or "set", got "max"`},
		{"reset", "POST", "/boards/", `{"name": "B", "reset": "sometimes"}`, nil, 400, ""},
		{"reset tz", "POST", "/boards/", `{"name": "B", "reset": "daily", "reset_tz": "Mars/Base"}`, nil, 400, `reset_tz must be an IANA time zone such as Europe/Oslo, got "Mars/Base"`},
		{"reset tz alone", "POST", "/boards/", `{"name": "B", "reset_tz": "UTC"}`, nil, 400, "reset_tz needs a reset schedule"},
		{"reset too often", "POST", "/boards/", `{"name": "B", "reset": "@every 100ms"}`, nil, 400, "reset must be at most once a second"},
		{"score missing", "POST", "/boards/" + b + "/players/" + ann + "/score", `{}`, nil, 400, `field "score" is required`},
		{"score not integer", "POST", "/boards/" + b + "/players/" + ann + "/score", `{"score": 1.5}`, nil, 400, "score must be an integer"},
		{"incr score as amount", "POST", "/boards/" + b + "/players/" + ann + "/score", `{"score": 2000000000}`, nil, 400, `score must be between -1000000000 and 1000000000 on a board whose operator is "incr"`},
		{"metadata too large", "POST", "/boards/" + b + "/players/", big, nil, 400, ""},
		{"metadata not object", "POST", "/boards/" + b + "/players/" + ann + "/score-add", `{"metadata": [1]}`, nil, 400, `field "metadata" must be a JSON object`},
		{"metadata reql type", "POST", "/boards/" + b + "/players/" + ann + "/score-add", `{"metadata": {"$reql_type$": "TIME"}}`, nil, 400, "metadata must not use the key $reql_type$"},
		{"batch not array", "POST", "/boards/" + b + "/scores", `{"player": "x"}`, nil, 400, "request body must be a JSON array of objects"},
		{"batch empty", "POST", "/boards/" + b + "/scores", `[]`, nil, 400, "give at least one item"},
		{"batch both", "POST", "/boards/" + b + "/scores", fmt.Sprintf(`[{"player": %q, "amount": 1}, {"player": %q, "amount": 1, "score": 2}]`, ann, ann), nil, 400, `item 1: give exactly one of "amount" and "score"`},
		{"batch unknown field", "POST", "/boards/" + b + "/scores", fmt.Sprintf(`[{"player": %q, "amont": 1}]`, ann), nil, 400, `item 0: unknown field "amont"`},
		{"batch unknown board", "POST", "/boards/nope/scores", fmt.Sprintf(`[{"player": %q, "amount": 1}]`, ann), nil, 404, "board not found"},
		{"around n", "GET", "/boards/" + b + "/players/" + ann + "/around?n=51", "", nil, 400, "n must be an integer from 0 to 50"},
		{"offset", "GET", "/boards/" + b + "/players/?offset=-1", "", nil, 400, "offset must be an integer from 0 to 1000000000"},
		{"period", "GET", "/boards/" + b + "/?period=current", "", nil, 400, `period must be "previous"`},
		{"no period yet", "GET", "/boards/" + b + "/?period=previous", "", nil, 404, "this board has no finished period yet"},
		{"key too long", "POST", "/boards/" + b + "/players/" + ann + "/score-add", `{}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "Idempotency-Key must be 1-255 printable ASCII characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, tt.method, tt.path, tt.body, append(append([]string{}, auth...), tt.headers...)...)
			assert.Equal(t, tt.status, res.Status, "%s", res.Body)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal(res.Body, &e), "%s", res.Body)
			if tt.want != "" {
				assert.Equal(t, tt.want, e.Error)
			} else {
				assert.NotEmpty(t, e.Error)
			}
		})
	}
	assert.Equal(t, int64(10), scoreOf(t, a, b, ann), "nothing written")
	res := a.Do(t, "GET", "/boards/", nil)
	var list struct{ Boards []any }
	res.JSON(t, &list)
	assert.Len(t, list.Boards, 1, "no board created")
	assert.Len(t, getPage(t, a, "/boards/"+b+"/players/").Players, 1, "no player created")
}

// The new reads answer HEAD too, with no body.
func TestNewReadsAnswerHead(t *testing.T) {
	a := start(t)
	b := createBoard(t, a, `{"name": "Head"}`)
	ann := createPlayer(t, a, b, "Ann", 1)
	for _, path := range []string{
		"/boards/" + b + "/players/", "/boards/" + b + "/players/" + ann + "/around/", "/boards/" + b + "/?period=previous",
	} {
		get := a.Do(t, "GET", path, nil)
		head := a.Do(t, "HEAD", path, nil)
		assert.Equal(t, get.Status, head.Status, path)
		assert.Empty(t, head.Body, path)
	}
}
