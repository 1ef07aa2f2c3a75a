package views_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

var pushAuth = []string{"X-Rethinkpush-Key", key}

// startPush is an app with user ann, channels news (fanout) and team
// (topic, ann a member), and one event on news.
func startPush(t *testing.T, edit func(*config.Config)) (*testapp.App, testapp.PushUser) {
	t.Helper()
	a := testapp.Start(t, testapp.Options{APIKeys: []string{key}, Config: edit})
	ann := testapp.RegisterUser(t, a.URL, key, "ann", 0)
	for _, ch := range []string{`{"name":"news","type":"fanout"}`, `{"name":"team","type":"topic"}`} {
		res := a.Do(t, "POST", "/channels/", ch, pushAuth...)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	require.Equal(t, http.StatusNoContent, a.Do(t, "POST", "/channels/team/members/", `{"user":"ann"}`, pushAuth...).Status)
	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/events/", `{"channel":"news","data":{"n":1}}`, pushAuth...).Status)
	return a, ann
}

func TestPushAPI(t *testing.T) {
	a, ann := startPush(t, nil)
	assert.InDelta(t, time.Now().Unix()+24*3600, ann.ExpireDT, 2, "TOKEN_TTL by default")

	again := testapp.RegisterUser(t, a.URL, key, "ann", 60)
	assert.Equal(t, ann.ID, again.ID, "the same user")
	assert.NotEqual(t, ann.Token, again.Token, "a new token")
	assert.InDelta(t, time.Now().Unix()+60, again.ExpireDT, 2)
	testapp.DialSocket(t, a.URL, ann.Token) // the old token still works

	res := a.Do(t, "GET", "/users/ann", nil, "Authorization", "Bearer "+key)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"username":"ann","channels":["private-ann","team"]}`, ann.ID), string(res.Body))
	res = a.Do(t, "GET", "/users/"+ann.ID, nil, pushAuth...)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.NotContains(t, string(res.Body), "token")

	for i := range 3 {
		testapp.RegisterUser(t, a.URL, key, fmt.Sprintf("u%d", i), 0)
	}
	seen := map[string]bool{}
	path := "/users?limit=2"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 5)
		var page struct {
			Users []struct{ ID, Username string } `json:"users"`
			Next  *string                         `json:"next"`
		}
		a.Do(t, "GET", path, nil, pushAuth...).JSON(t, &page)
		for _, u := range page.Users {
			assert.False(t, seen[u.Username])
			seen[u.Username] = true
		}
		path = ""
		if page.Next != nil {
			path = *page.Next
		}
	}
	assert.Len(t, seen, 4)

	res = a.Do(t, "POST", "/channels", `{"name":"dm","type":"direct"}`, pushAuth...)
	require.Equal(t, http.StatusCreated, res.Status)
	var dm struct{ ID, Name, Type string }
	res.JSON(t, &dm)
	assert.Equal(t, "/channels/"+dm.ID+"/", res.Header.Get("Location"))
	assert.Equal(t, "direct", dm.Type)
	res = a.Do(t, "GET", "/channels/"+dm.ID, nil, pushAuth...)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"name":"dm","type":"direct"}`, dm.ID), string(res.Body))
	require.Equal(t, http.StatusNoContent, a.Do(t, "POST", "/channels/dm/members", `{"user":"u0"}`, pushAuth...).Status)
	res = a.Do(t, "POST", "/channels/dm/members", `{"user":"u1"}`, pushAuth...)
	assert.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/channels/dm/members/u0", nil, pushAuth...).Status)
	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/channels/dm", nil, pushAuth...).Status)
	assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/channels/dm", nil, pushAuth...).Status)
	var list struct {
		Channels []struct{ Name string } `json:"channels"`
	}
	a.Do(t, "GET", "/channels", nil, pushAuth...).JSON(t, &list)
	assert.Len(t, list.Channels, 2+4, "news, team and the users' own")
}

// Every mistake is a 4xx JSON error that changes nothing.
func TestPushBadInputChangesNothing(t *testing.T) {
	a, ann := startPush(t, nil)
	b, _ := a.Board(t, "Cup", "P")
	tests := []struct {
		name, method, path string
		body               string
		headers            []string
		status             int
		errText            string
	}{
		{"no key", "POST", "/users", `{"register_user":"x"}`, nil, 401, "missing API key: send Authorization: Bearer <key>"},
		{"wrong key", "POST", "/events", `{"channel":"news","data":1}`, []string{"X-Rethinkpush-Key", "nope"}, 401, "invalid API key"},
		{"no user name", "POST", "/users", `{}`, pushAuth, 400, `field "register_user" is required`},
		{"bad user name", "POST", "/users", `{"register_user":"a b"}`, pushAuth, 400, "user name must be 1-64 characters of A-Z a-z 0-9 _ . : -"},
		{"empty user name", "POST", "/users", `{"register_user":""}`, pushAuth, 400, "user name must be 1-64 characters of A-Z a-z 0-9 _ . : -"},
		{"long user name", "POST", "/users", `{"register_user":"` + strings.Repeat("a", 65) + `"}`, pushAuth, 400, "user name must be 1-64 characters of A-Z a-z 0-9 _ . : -"},
		{"ttl zero", "POST", "/users", `{"register_user":"x","ttl":0}`, pushAuth, 400, "ttl must be an integer number of seconds from 1 to 2592000"},
		{"ttl too long", "POST", "/users", `{"register_user":"x","ttl":2592001}`, pushAuth, 400, "ttl must be an integer number of seconds from 1 to 2592000"},
		{"ttl fraction", "POST", "/users", `{"register_user":"x","ttl":1.5}`, pushAuth, 400, "ttl must be an integer number of seconds from 1 to 2592000"},
		{"ttl string", "POST", "/users", `{"register_user":"x","ttl":"5"}`, pushAuth, 400, `field "ttl" must be a number`},
		{"unknown field", "POST", "/users", `{"register_user":"x","admin":true}`, pushAuth, 400, `unknown field "admin"`},
		{"unknown user", "GET", "/users/nobody", ``, pushAuth, 404, "user not found"},
		{"delete unknown user", "DELETE", "/users/nobody", ``, pushAuth, 404, "user not found"},
		{"channel without type", "POST", "/channels", `{"name":"x"}`, pushAuth, 400, `field "type" is required`},
		{"channel type", "POST", "/channels", `{"name":"x","type":"group"}`, pushAuth, 400, `channel type must be "fanout", "topic" or "direct"`},
		{"reserved private-", "POST", "/channels", `{"name":"private-x","type":"fanout"}`, pushAuth, 400, `channel names starting with "private-" are reserved`},
		{"reserved board-", "POST", "/channels", `{"name":"board-x","type":"fanout"}`, pushAuth, 400, `channel names starting with "board-" are reserved`},
		{"bad channel name", "POST", "/channels", `{"name":"a/b","type":"fanout"}`, pushAuth, 400, "channel name must be 1-64 characters of A-Z a-z 0-9 _ . : -"},
		{"taken", "POST", "/channels", `{"name":"news","type":"topic"}`, pushAuth, 409, `channel name "news" is taken`},
		{"unknown channel", "GET", "/channels/nope", ``, pushAuth, 404, "channel not found"},
		{"member of unknown channel", "POST", "/channels/nope/members", `{"user":"ann"}`, pushAuth, 404, "channel not found"},
		{"unknown member", "POST", "/channels/team/members", `{"user":"nobody"}`, pushAuth, 404, "user not found"},
		{"member of fanout", "POST", "/channels/news/members", `{"user":"ann"}`, pushAuth, 400, "channel news is a fanout channel: anyone may subscribe, it has no members"},
		{"member of a user's channel", "POST", "/channels/private-ann/members", `{"user":"ann"}`, pushAuth, 403, "channel private-ann is its user's own: it changes with the user"},
		{"delete a user's channel", "DELETE", "/channels/private-ann", ``, pushAuth, 403, "channel private-ann is its user's own: it changes with the user"},
		{"delete a board's channel", "DELETE", "/channels/board-" + b, ``, pushAuth, 403, "channel board-" + b + " is the board's: it changes with the board"},
		{"remove a non-member", "DELETE", "/channels/team/members/u", ``, pushAuth, 404, "user not found"},
		{"event without channel", "POST", "/events", `{"data":1}`, pushAuth, 400, `field "channel" is required`},
		{"event without data", "POST", "/events", `{"channel":"news"}`, pushAuth, 400, `field "data" is required`},
		{"event to unknown channel", "POST", "/events", `{"channel":"nope","data":1}`, pushAuth, 404, "channel not found"},
		{"event to a board", "POST", "/events", `{"channel":"board-` + b + `","data":1}`, pushAuth, 403, "channel board-" + b + " carries the board's updates: events cannot be posted to it"},
		{"event to an unknown board", "POST", "/events", `{"channel":"board-nope","data":1}`, pushAuth, 404, "channel not found"},
		{"pseudo-type in data", "POST", "/events", `{"channel":"news","data":{"a":[{"$reql_type$":"TIME"}]}}`, pushAuth, 400, "event data must not have a field named $reql_type$"},
		{"data too large", "POST", "/events", `{"channel":"news","data":"` + strings.Repeat("x", 70<<10) + `"}`, pushAuth, 413, "request body is larger than 64 KiB"},
		{"socket without upgrade", "GET", "/ws?token=" + ann.Token, ``, nil, 426, "GET /ws needs a WebSocket upgrade"},
		{"stream without Accept", "GET", "/channels/news/events?token=" + ann.Token, ``, nil, 406, "ask for Accept: text/event-stream"},
		{"stream without token", "GET", "/channels/news/events", ``, []string{"Accept", "text/event-stream"}, 401, "missing or invalid token"},
		{"stream with bad token", "GET", "/channels/news/events?token=abc", ``, []string{"Accept", "text/event-stream"}, 401, "invalid or revoked token"},
		{"stream with an API key", "GET", "/channels/news/events", ``, []string{"Accept", "text/event-stream", "X-Rethinkpush-Key", key}, 401, "invalid or revoked token"},
		{"stream of unknown channel", "GET", "/channels/nope/events?token=" + ann.Token, ``, []string{"Accept", "text/event-stream"}, 404, "channel not found"},
		{"bad Last-Event-ID", "GET", "/channels/news/events?token=" + ann.Token, ``, []string{"Accept", "text/event-stream", "Last-Event-ID", "x"}, 400, "Last-Event-ID must be an event id"},
	}
	state := func() string {
		var users, chans struct {
			Users    []any `json:"users"`
			Channels []any `json:"channels"`
		}
		a.Do(t, "GET", "/users?limit=100", nil, pushAuth...).JSON(t, &users)
		a.Do(t, "GET", "/channels?limit=100", nil, pushAuth...).JSON(t, &chans)
		last, err := a.Push.Events.LastSeq(context.Background(), "news")
		require.NoError(t, err)
		members := a.Do(t, "GET", "/users/ann", nil, pushAuth...).Body
		return fmt.Sprintf("%d users, %d channels, news at %d, ann: %s", len(users.Users), len(chans.Channels), last, members)
	}
	before := state()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, tt.method, tt.path, tt.body, tt.headers...)
			assert.Equal(t, tt.status, res.Status, "%s", res.Body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tt.errText), string(res.Body))
			assert.Equal(t, before, state(), "nothing may change")
		})
	}

	t.Run("a socket from another origin", func(t *testing.T) {
		ctx := context.Background()
		_, res, err := websocket.Dial(ctx, testapp.SocketURL(a.URL, ann.Token), &websocket.DialOptions{
			HTTPHeader: http.Header{"Origin": {"https://evil.example"}},
		})
		require.Error(t, err)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		_, res, err = websocket.Dial(ctx, testapp.SocketURL(a.URL, "nope"), nil)
		require.Error(t, err)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
}

func TestSocketOriginsFromCORSOrigins(t *testing.T) {
	a, ann := startPush(t, func(c *config.Config) { c.CORSOrigins = []string{"https://app.example", "*.example.org"} })
	for origin, ok := range map[string]bool{
		"https://app.example": true, "http://app.example": false,
		"https://x.example.org": true, "https://evil.example": false,
	} {
		c, res, err := websocket.Dial(context.Background(), testapp.SocketURL(a.URL, ann.Token), &websocket.DialOptions{
			HTTPHeader: http.Header{"Origin": {origin}},
		})
		if ok {
			require.NoError(t, err, origin)
			c.CloseNow()
		} else {
			require.Error(t, err, origin)
			assert.Equal(t, http.StatusForbidden, res.StatusCode, origin)
		}
	}
}

// The WebSocket protocol's mistakes get an error message; the connection
// stays usable.
func TestSocketProtocolErrors(t *testing.T) {
	a, ann := startPush(t, nil)
	s := testapp.DialSocket(t, a.URL, ann.Token)
	assert.Equal(t, "subscribed", s.Next(t, 5*time.Second).Type)
	ctx := context.Background()
	tests := []struct {
		name    string
		message string
		want    testapp.PushMessage
	}{
		{"not JSON", `nope`, testapp.PushMessage{Type: "error", Error: "message is not valid JSON"}},
		{"not an object", `[1]`, testapp.PushMessage{Type: "error", Error: "message must be a JSON object"}},
		{"unknown field", `{"type":"ping","x":1}`, testapp.PushMessage{Type: "error", Error: `unknown field "x"`}},
		{"unknown type", `{"type":"dance"}`, testapp.PushMessage{Type: "error", Error: `type must be "subscribe", "unsubscribe" or "ping"`}},
		{"no channel", `{"type":"subscribe"}`, testapp.PushMessage{Type: "error", Error: `field "channel" is required`}},
		{"unknown channel", `{"type":"subscribe","channel":"nope"}`, testapp.PushMessage{Type: "error", Channel: "nope", Error: "channel not found"}},
		{"negative since", `{"type":"subscribe","channel":"news","since":-1}`, testapp.PushMessage{Type: "error", Channel: "news", Error: "since must be an event id: an integer, 0 or more"}},
		{"since as a string", `{"type":"subscribe","channel":"news","since":"1"}`, testapp.PushMessage{Type: "error", Error: `field "since" must be a number`}},
		{"not subscribed", `{"type":"unsubscribe","channel":"news"}`, testapp.PushMessage{Type: "error", Channel: "news", Error: "not subscribed to channel news"}},
		{"ping", `{"type":"ping"}`, testapp.PushMessage{Type: "pong"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, s.Conn.Write(ctx, websocket.MessageText, []byte(tt.message)))
			assert.Equal(t, tt.want, s.Next(t, 5*time.Second))
		})
	}
	require.NoError(t, s.Conn.Write(ctx, websocket.MessageBinary, []byte(`{"type":"ping"}`)))
	assert.Equal(t, testapp.PushMessage{Type: "error", Error: "messages must be JSON text"}, s.Next(t, 5*time.Second))

	t.Run("at most 100 subscriptions", func(t *testing.T) {
		for i := range 99 { // and the direct channel
			res := a.Do(t, "POST", "/channels", fmt.Sprintf(`{"name":"c%d","type":"fanout"}`, i), pushAuth...)
			require.Equal(t, http.StatusCreated, res.Status)
			require.Equal(t, "subscribed", s.Subscribe(t, fmt.Sprintf("c%d", i), nil).Type)
		}
		assert.Equal(t, testapp.PushMessage{Type: "error", Channel: "news", Error: "at most 100 subscriptions a connection"},
			s.Subscribe(t, "news", nil))
		s.Send(t, map[string]any{"type": "unsubscribe", "channel": "c0"})
		assert.Equal(t, "subscribed", s.Subscribe(t, "news", nil).Type)
	})

	t.Run("a message over 64 KiB closes the socket", func(t *testing.T) {
		big := `{"type":"ping","pad":"` + strings.Repeat("x", 64<<10) + `"}`
		require.NoError(t, s.Conn.Write(ctx, websocket.MessageText, []byte(big)))
		code, _ := s.Closed(t, 5*time.Second)
		assert.Equal(t, websocket.StatusMessageTooBig, code)
	})
}

func TestIdleSocketsArePinged(t *testing.T) {
	a, ann := startPush(t, func(c *config.Config) { c.KeepAliveInterval = 200 * time.Millisecond })
	var pings atomic.Int32
	c, _, err := websocket.Dial(context.Background(), testapp.SocketURL(a.URL, ann.Token), &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
	})
	require.NoError(t, err)
	defer c.CloseNow()
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	require.Eventually(t, func() bool { return pings.Load() >= 3 }, 5*time.Second, 10*time.Millisecond)
}

func TestPushDatabaseOutageIs503(t *testing.T) {
	a, ann := startPush(t, nil)
	a.DB.Close()
	for _, req := range []struct {
		method, path, body string
		headers            []string
	}{
		{"POST", "/users", `{"register_user":"bob"}`, pushAuth},
		{"POST", "/events", `{"channel":"news","data":1}`, pushAuth},
		{"GET", "/ws?token=" + ann.Token, ``, []string{"Upgrade", "websocket", "Connection", "Upgrade"}},
		{"GET", "/channels/news/events?token=" + ann.Token, ``, []string{"Accept", "text/event-stream"}},
	} {
		res := a.Do(t, req.method, req.path, req.body, req.headers...)
		assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s %s: %s", req.method, req.path, res.Body)
		assert.JSONEq(t, `{"error": "the database is unavailable, try again shortly"}`, string(res.Body))
	}
}

// WebSockets and channel streams count against the same stream caps as
// board streams: over one, the upgrade is a 503 with Retry-After.
func TestSocketsCountAgainstTheStreamCaps(t *testing.T) {
	a, ann := startPush(t, func(c *config.Config) { c.MaxStreamsPerClient = 2 })
	b, _ := a.Board(t, "Cup", "Ann")
	testapp.OpenStream(t, a.Client(), a.URL+"/boards/"+b+"/")
	testapp.DialSocket(t, a.URL, ann.Token)
	_, res, err := websocket.Dial(context.Background(), testapp.SocketURL(a.URL, ann.Token), nil)
	require.Error(t, err, "a third stream from one address")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))
	req, err := http.NewRequest("GET", a.URL+"/channels/news/events?token="+ann.Token, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	sres, err := a.Client().Do(req)
	require.NoError(t, err)
	sres.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, sres.StatusCode, "a channel stream too")
}
