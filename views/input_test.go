package views_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/views"
)

// loggedApp is the service as testapp runs it (embedded database over TCP,
// real HTTP server), with the log captured as JSON lines.
type loggedApp struct {
	*testapp.App
	Logs *testapp.SyncBuffer
}

// settings are the few settings these tests change; only startLogged knows
// how they reach the service.
type settings struct {
	APIKeys        []string
	CORSOrigins    []string // CORS_ORIGINS
	RequestTimeout time.Duration
}

func startLogged(t *testing.T, set settings) loggedApp {
	t.Helper()
	buf := &testapp.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := testapp.Start(t, testapp.Options{APIKeys: set.APIKeys, Logger: log, Config: func(c *config.Config) {
		c.CORSOrigins = set.CORSOrigins
		if set.RequestTimeout > 0 {
			c.RequestTimeout = set.RequestTimeout
		}
	}})
	return loggedApp{App: a, Logs: buf}
}

// logRecords parses the captured log.
func (a loggedApp) logRecords(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(a.Logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "log line %s", line)
		out = append(out, rec)
	}
	return out
}

// noErrorLogged: nothing a client sends may reach the error log.
func (a loggedApp) noErrorLogged(t *testing.T) {
	t.Helper()
	for _, rec := range a.logRecords(t) {
		assert.NotEqual(t, "ERROR", rec["level"], "a client's mistake logged as an error: %v", rec)
	}
}

// requestLogged waits for the request log line of path (written after the
// response, so after a client that hung up is gone too) and returns it.
func (a loggedApp) requestLogged(t *testing.T, path string) map[string]any {
	t.Helper()
	var found map[string]any
	require.Eventually(t, func() bool {
		for _, rec := range a.logRecords(t) {
			if rec["msg"] == "request" && rec["path"] == path {
				found = rec
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "no request log line for %s", path)
	return found
}

// rawResponse is what came back on a raw connection.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// rawExchange sends raw bytes on a fresh TCP connection. With hangUp the
// client then closes the connection and nothing is read; otherwise it only
// closes its sending side and reads the response.
func rawExchange(t *testing.T, url, raw string, hangUp bool) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	if hangUp {
		return rawResponse{}
	}
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return rawResponse{Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

func countPlayers(t *testing.T, store *models.Store, board string) int {
	t.Helper()
	players, err := store.Players.TopForBoard(context.Background(), board, views.MaxLimit)
	require.NoError(t, err)
	return len(players)
}

func countBoards(t *testing.T, store *models.Store) int {
	t.Helper()
	boards, err := store.Boards.List(context.Background(), "", views.MaxLimit)
	require.NoError(t, err)
	return len(boards)
}

// A body the client breaks (bad chunked framing, fewer bytes than
// Content-Length, a hang-up) is the client's fault: 400, logged at debug,
// nothing written, never a 500 in the error log.
func TestBrokenBodiesAreClientErrors(t *testing.T) {
	chunked := func(path, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n" + body
	}
	sized := func(path string, length int, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n%s", path, length, body)
	}
	const unreadable = "request body could not be read: it was cut short or badly framed"
	// Paths use ADD, BOARD for the board's score-add and players paths.
	tests := []struct {
		name   string
		raw    func(add, players string) string
		hangUp bool
	}{
		{"chunk size not hex", func(add, _ string) string { return chunked(add, "zz\r\n{\"amount\": 5}\r\n0\r\n\r\n") }, false},
		{"chunk size overflows", func(add, _ string) string { return chunked(add, "fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n") }, false},
		{"chunk longer than its size", func(add, _ string) string { return chunked(add, "3\r\n{\"amount\": 5}\r\n0\r\n\r\n") }, false},
		{"chunked body cut short", func(add, _ string) string { return chunked(add, "e\r\n{\"amount\": 5}") }, false},
		{"body shorter than Content-Length", func(add, _ string) string { return sized(add, 40, `{"amount": 5}`) }, false},
		{"body shorter than Content-Length, client hangs up", func(add, _ string) string { return sized(add, 40, `{"amount": 5}`) }, true},
		{"chunked, client hangs up", func(add, _ string) string { return chunked(add, "e\r\n{\"amou") }, true},
		{"board create, bad chunk", func(_, _ string) string { return chunked("/boards/", "x\r\n{\"name\": \"N\"}\r\n0\r\n\r\n") }, false},
		{"player create, cut short", func(_, players string) string { return sized(players, 99, `{"name": "N"}`) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startLogged(t, settings{})
			b, ids := a.Board(t, "B", "P")
			add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
			raw := tt.raw(add, "/boards/"+b+"/players/")
			res := rawExchange(t, a.URL, raw, tt.hangUp)
			if !tt.hangUp {
				assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
				assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, unreadable), res.Body)
			}
			// The request line is logged after the handler and the error
			// handler: the log is then complete for this request.
			path := strings.TrimSuffix(strings.Fields(raw)[1], "/")
			rec := a.requestLogged(t, path)
			assert.EqualValues(t, http.StatusBadRequest, rec["status"])
			a.noErrorLogged(t)
			assert.Equal(t, int64(0), scoreOf(t, a.App, b, ids[0]), "nothing may change")
			assert.Equal(t, 1, countBoards(t, a.Store))
			assert.Equal(t, 1, countPlayers(t, a.Store, b))
		})
	}
}

// A body that does not arrive before the request's deadline is the client's
// too: 408 in the request log, nothing in the error log, nothing written.
func TestSlowBodyTimesOutAsClientError(t *testing.T) {
	a := startLogged(t, settings{RequestTimeout: 200 * time.Millisecond})
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Length: 40\r\n\r\n{\"amount\"", add)
	require.NoError(t, err)

	rec := a.requestLogged(t, strings.TrimSuffix(add, "/"))
	assert.EqualValues(t, http.StatusRequestTimeout, rec["status"])
	a.noErrorLogged(t)
	assert.Equal(t, int64(0), scoreOf(t, a.App, b, ids[0]))
}

// Every JSON body is read strictly: what encoding/json would let through
// silently (a repeated key where the last one wins, a key matched whatever
// its case, bytes after the object, null where a value is expected, a number
// that rounds to an integer it is not) is a 400 with a sentence, and changes
// nothing.
func TestLooseJSONIsRefused(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	players := "/boards/" + b + "/players/"
	const (
		notObject = "request body must be a JSON object"
		single    = "request body must hold a single JSON object"
	)
	tests := []struct {
		name, path, body, errText string
	}{
		{"duplicate amount", add, `{"amount": 1, "amount": 7}`, `field "amount" is given twice`},
		{"duplicate amount, escaped", add, `{"amount": 1, "am\u006funt": 7}`, `field "amount" is given twice`},
		{"duplicate key deeper down", add, `{"amount": {"a": 1, "a": 2}}`, `key "a" is given twice in one JSON object`},
		{"duplicate key in an array", add, `{"amount": [{"a": 1}, {"a": 1, "a": 2}]}`, `key "a" is given twice in one JSON object`},
		{"upper-case amount", add, `{"AMOUNT": 4}`, `unknown field "AMOUNT" (field names are case-sensitive: "amount")`},
		{"capitalized amount", add, `{"Amount": 4}`, `unknown field "Amount" (field names are case-sensitive: "amount")`},
		{"trailing bracket", add, `{"amount": 1}]`, single},
		{"trailing brace", add, `{"amount": 1}}`, single},
		{"trailing garbage", add, `{"amount": 1} x`, single},
		{"null body", add, `null`, notObject},
		{"string body", add, `"amount"`, notObject},
		{"null amount", add, `{"amount": null}`, `field "amount" must not be null`},
		{"underflowing amount", add, `{"amount": 1e-400}`, "amount must be an integer"},
		{"underflowing amount in query", add + "?amount=1e-400", "", "amount must be an integer"},
		{"fraction rounding to an integer", add, `{"amount": 1.0000000000000000001}`, "amount must be an integer"},
		{"huge exponent", add, `{"amount": 1e999999999999999999999}`, "amount must be between -1000000000 and 1000000000"},
		{"tiny exponent", add, `{"amount": 5e-999999999999999999999}`, "amount must be an integer"},
		{"duplicate name", "/boards/", `{"name": "A", "name": "B"}`, `field "name" is given twice`},
		{"upper-case name", "/boards/", `{"NAME": "A"}`, `unknown field "NAME" (field names are case-sensitive: "name")`},
		{"null name", "/boards/", `{"name": null}`, `field "name" must not be null`},
		{"null board body", "/boards/", `null`, notObject},
		{"board trailing bytes", "/boards/", `{"name": "A"}]`, single},
		{"duplicate score", players, `{"name": "A", "score": 1, "score": 2}`, `field "score" is given twice`},
		{"duplicate player name", players, `{"name": "A", "name": "B"}`, `field "name" is given twice`},
		{"capitalized score", players, `{"name": "A", "Score": 3}`, `unknown field "Score" (field names are case-sensitive: "score")`},
		// encoding/json folds ſ (U+017F) to s and K (U+212A) to k.
		{"long s in score", players, `{"name": "A", "ſcore": 3}`, `unknown field "ſcore" (field names are case-sensitive: "score")`},
		{"null score", players, `{"name": "A", "score": null}`, `field "score" must not be null`},
		{"null player name", players, `{"name": null}`, `field "name" must not be null`},
		{"underflowing score", players, `{"name": "A", "score": 1e-400}`, "score must be an integer"},
		{"null player body", players, `null`, notObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, "POST", tt.path, tt.body, auth...)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
			assert.Equal(t, int64(0), scoreOf(t, a, b, ids[0]), "nothing may change")
			assert.Equal(t, 1, countBoards(t, a.Store))
			assert.Equal(t, 1, countPlayers(t, a.Store, b))
		})
	}
}

// Strictness costs nothing to a well-formed body.
func TestStrictJSONStillAcceptsGoodBodies(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	for _, tt := range []struct {
		body string
		want int64
	}{
		{" \n{\"amount\": 2}\n ", 2},
		{`{"amount": 1e1}`, 12},
		{`{"amount": -0.0}`, 12},
		{`{"amount": 0.5e1}`, 17},
		{`{"amount": 100e-2}`, 18},
		{`{"amount": -1000000000}`, -999999982},
	} {
		res := a.Do(t, "POST", add, tt.body, auth...)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", tt.body, res.Body)
		assert.Equal(t, tt.want, scoreOf(t, a, b, ids[0]), tt.body)
	}
	res := a.Do(t, "POST", "/boards/"+b+"/players/", `{"score": 3, "name": "Q"}`, auth...)
	assert.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
}

// Names that show nothing, or that reorder the text around them, are refused
// through the API too, and create nothing.
func TestInvisibleAndBidiNamesAreRefused(t *testing.T) {
	a := start(t)
	b, _ := a.Board(t, "B", "P")
	tests := []struct{ name, path, body, errText string }{
		{"zero-width board name", "/boards/", `{"name": "\u200b\u2060\ufeff"}`, "board name must contain a visible character"},
		{"Hangul filler player name", "/boards/" + b + "/players/", `{"name": "\u3164"}`, "player name must contain a visible character"},
		{"override in player name", "/boards/" + b + "/players/", `{"name": "evil\u202egnp.exe"}`, "player name must not contain bidirectional override or isolate characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, "POST", tt.path, tt.body, auth...)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
			assert.Equal(t, 1, countBoards(t, a.Store))
			assert.Equal(t, 1, countPlayers(t, a.Store, b))
		})
	}
}

// A page on another site can send a form or text/plain POST without a CORS
// preflight: when writes are open (or the browser holds a key some other
// way), such writes are refused with 403 before anything is written,
// whatever their content type. Reads stay open to everyone.
func TestCrossSiteWritesAreRefused(t *testing.T) {
	a := startLogged(t, settings{CORSOrigins: []string{"https://game.example", "*"}})
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	player := "/boards/" + b + "/players/" + ids[0] + "/"
	self := a.URL
	refused := func(origin string) string {
		return fmt.Sprintf("cross-site write refused: origin %q may not write here", origin)
	}
	const refusedNoOrigin = "cross-site write refused: the browser says this request comes from another site"
	tests := []struct {
		name, method, path, body string
		headers                  []string
		errText                  string
	}{
		{"text/plain JSON from another site", "POST", add, `{"amount": 1000}`,
			[]string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, refused("https://evil.example")},
		{"form from another site", "POST", "/boards/", `{"name": "Pwned"}`,
			[]string{"Origin", "https://evil.example", "Content-Type", "application/x-www-form-urlencoded"}, refused("https://evil.example")},
		{"JSON from another site", "POST", "/boards/" + b + "/players/", `{"name": "Pwned"}`,
			[]string{"Origin", "https://evil.example", "Content-Type", "application/json"}, refused("https://evil.example")},
		{"delete from another site", "DELETE", player, "",
			[]string{"Origin", "https://evil.example"}, refused("https://evil.example")},
		{"PUT from another site", "PUT", player, "",
			[]string{"Origin", "https://evil.example"}, refused("https://evil.example")},
		{"PATCH from another site", "PATCH", player, "",
			[]string{"Origin", "https://evil.example"}, refused("https://evil.example")},
		{"opaque origin (sandboxed frame, data: URL)", "POST", add, "",
			[]string{"Origin", "null"}, refused("null")},
		{"same host, another port", "POST", add, "",
			[]string{"Origin", "http://127.0.0.1:1"}, refused("http://127.0.0.1:1")},
		{"a subdomain of a listed origin", "POST", add, "",
			[]string{"Origin", "https://x.game.example"}, refused("https://x.game.example")},
		{"a listed origin's other scheme", "POST", add, "",
			[]string{"Origin", "http://game.example"}, refused("http://game.example")},
		{"the wildcard does not open writes", "POST", add, "",
			[]string{"Origin", "https://anyone.example"}, refused("https://anyone.example")},
		{"browser says cross-site, no Origin", "POST", add, "",
			[]string{"Sec-Fetch-Site", "cross-site"}, refusedNoOrigin},
		{"browser says same-site (a sibling subdomain)", "POST", add, "",
			[]string{"Sec-Fetch-Site", "same-site", "Origin", "https://sibling.example"}, refused("https://sibling.example")},
		{"browser says cross-site, from our own host", "POST", add, "",
			[]string{"Sec-Fetch-Site", "cross-site", "Origin", self}, refused(self)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, tt.method, tt.path, tt.body, tt.headers...)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
			assert.Equal(t, int64(0), scoreOf(t, a.App, b, ids[0]), "nothing may change")
			assert.Equal(t, 1, countBoards(t, a.Store))
			assert.Equal(t, 1, countPlayers(t, a.Store, b))
		})
	}
	a.noErrorLogged(t)

	// Reads are not writes: any page may GET (and preflight).
	res := a.Do(t, "GET", "/boards/"+b+"/", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

// The refusal comes before the key check too: a write from another site is a
// 403 whether or not it carries a key.
func TestCrossSiteWriteRefusedBeforeAuth(t *testing.T) {
	a := startLogged(t, settings{APIKeys: []string{key}})
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	for _, headers := range [][]string{
		{"Origin", "https://evil.example"},
		append([]string{"Origin", "https://evil.example"}, auth...),
	} {
		res := a.Do(t, "POST", add, `{"amount": 5}`, headers...)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	}
	assert.Equal(t, int64(0), scoreOf(t, a.App, b, ids[0]))
}

// Scripts (curl -d sends no Origin), this service's own pages and the
// listed origins keep writing.
func TestSameSiteAndListedOriginsMayWrite(t *testing.T) {
	a := startLogged(t, settings{CORSOrigins: []string{" https://Game.Example/ ", "http://localhost:8080"}})
	b, ids := a.Board(t, "B", "P")
	add := "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	tests := []struct {
		name    string
		headers []string
	}{
		{"no Origin, like curl -d", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"own origin", []string{"Origin", a.URL}},
		{"own origin, browser says same-origin", []string{"Origin", a.URL, "Sec-Fetch-Site", "same-origin"}},
		// Behind a proxy that rewrites Host, the browser's word still counts.
		{"same-origin by the browser's word", []string{"Origin", "https://leaderboard.example", "Sec-Fetch-Site", "same-origin"}},
		{"typed in or bookmarked", []string{"Sec-Fetch-Site", "none"}},
		{"listed origin (listed in another case, with a slash)", []string{"Origin", "https://game.example"}},
		{"listed origin, browser says cross-site", []string{"Origin", "https://game.example", "Sec-Fetch-Site", "cross-site"}},
		{"listed origin with a port", []string{"Origin", "http://localhost:8080"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, "POST", add, `{"amount": 1}`, tt.headers...)
			assert.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, int64(i+1), scoreOf(t, a.App, b, ids[0]))
		})
	}
}

// headThenGet sends HEAD path and then GET /healthz on one connection and
// reads both answers: a HEAD answer that carried body bytes would corrupt
// the second.
func headThenGet(t *testing.T, url, path string, headers ...string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	var extra strings.Builder
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&extra, "%s: %s\r\n", headers[i], headers[i+1])
	}
	_, err = fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: test\r\n%s\r\nGET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path, extra.String())
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	require.NoError(t, err)
	next, err := http.ReadResponse(br, nil)
	require.NoError(t, err, "the HEAD answer to %s carried a body", path)
	defer next.Body.Close()
	body, err := io.ReadAll(next.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, next.StatusCode)
	assert.JSONEq(t, `{"status": "ok"}`, string(body))
	return head
}

// Uptime monitors use HEAD: every GET route answers it with GET's status
// and headers and no body, errors included.
func TestHEADOnEveryGETRoute(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "B", "P")
	tests := []struct {
		name, path string
		status     int
	}{
		{"healthz", "/healthz", 200},
		{"readyz", "/readyz", 200},
		{"boards", "/boards/", 200},
		{"boards without slash", "/boards", 200},
		{"board", "/boards/" + b + "/", 200},
		{"board with limit", "/boards/" + b + "/?limit=1", 200},
		{"player", "/boards/" + b + "/players/" + ids[0] + "/", 200},
		{"unknown board", "/boards/nope/", 404},
		{"unknown player", "/boards/" + b + "/players/nope/", 404},
		{"bad limit", "/boards/" + b + "/?limit=0", 400},
		{"unknown route", "/nope", 404},
		{"POST-only route", "/boards/" + b + "/players/" + ids[0] + "/score-add/", 405},
	}
	compared := []string{"Content-Type", "Content-Length", "Allow", "Cache-Control", "Retry-After", "WWW-Authenticate"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := a.Do(t, "GET", tt.path, nil)
			require.Equal(t, tt.status, get.Status, "%s", get.Body)
			head := headThenGet(t, a.URL, tt.path)
			assert.Equal(t, tt.status, head.StatusCode)
			for _, h := range compared {
				assert.Equal(t, get.Header.Values(h), head.Header.Values(h), h)
			}
			assert.NotEmpty(t, head.Header.Get("X-Request-Id"))
		})
	}
	t.Run("POST-only route lists HEAD nowhere, GET routes list it", func(t *testing.T) {
		res := a.Do(t, "DELETE", "/healthz", nil, auth...)
		assert.Equal(t, http.StatusMethodNotAllowed, res.Status)
		assert.ElementsMatch(t, []string{"GET", "HEAD", "OPTIONS"}, strings.Split(res.Header.Get("Allow"), ", "))
	})
	t.Run("database down", func(t *testing.T) {
		a.DB.Close()
		head := headThenGet(t, a.URL, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, head.StatusCode)
		assert.Equal(t, "5", head.Header.Get("Retry-After"))
	})
}

// HEAD on a stream answers the stream's headers and ends at once, instead
// of holding the connection with a stream nobody reads: the next request on
// the same connection is answered.
func TestHEADOnAStreamEnds(t *testing.T) {
	a := startLogged(t, settings{})
	b, _ := a.Board(t, "B", "P")
	for _, tt := range []struct {
		name, path string
		headers    []string
	}{
		{"stream=1", "/boards/" + b + "/?stream=1", nil},
		{"Accept", "/boards/" + b + "/", []string{"Accept", "text/event-stream"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			head := headThenGet(t, a.URL, tt.path, tt.headers...)
			assert.Equal(t, http.StatusOK, head.StatusCode)
			assert.Equal(t, "text/event-stream", head.Header.Get("Content-Type"))
			assert.Equal(t, "no-cache", head.Header.Get("Cache-Control"))
		})
	}
	a.noErrorLogged(t)
}

// Durations in the log are milliseconds, named so, not bare nanoseconds.
func TestRequestLogShowsMilliseconds(t *testing.T) {
	a := startLogged(t, settings{})
	require.Equal(t, http.StatusOK, a.Do(t, "GET", "/healthz", nil).Status)
	rec := a.requestLogged(t, "/healthz")
	assert.NotContains(t, rec, "duration")
	ms, ok := rec["duration_ms"].(float64)
	require.True(t, ok, "duration_ms is a number: %v", rec)
	assert.Greater(t, ms, 0.0)
	assert.Less(t, ms, 5000.0)
}
