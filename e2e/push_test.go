package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
)

const pushKey = "app-key"

// pushEnv is a deployment under test: one or more web processes on one
// database, and a driver session to that database as any program could
// open.
type pushEnv struct {
	webs    []string
	db      string
	session *r.Session
}

// web is the i-th web process's base URL (the last one for i past it).
func (e *pushEnv) web(i int) string { return e.webs[min(i, len(e.webs)-1)] }

// do sends an app-side request, with the key, to web i.
func (e *pushEnv) do(t *testing.T, i int, method, path string, body any) testapp.Response {
	t.Helper()
	return testapp.DoURL(t, method, e.web(i)+path, body, testapp.KeyHeader(pushKey)...)
}

// post sends an event and returns its id.
func (e *pushEnv) post(t *testing.T, i int, channel string, data any) uint64 {
	t.Helper()
	res := e.do(t, i, "POST", "/events", map[string]any{"channel": channel, "data": data})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got struct {
		ID      uint64 `json:"id"`
		Channel string `json:"channel"`
	}
	res.JSON(t, &got)
	require.Equal(t, channel, got.Channel)
	return got.ID
}

func (e *pushEnv) channel(t *testing.T, name, typ string) {
	t.Helper()
	res := e.do(t, 0, "POST", "/channels", map[string]any{"name": name, "type": typ})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
}

// dial connects user to web i and consumes the subscription to its direct
// channel, which every connection starts with.
func (e *pushEnv) dial(t *testing.T, i int, u testapp.PushUser) *testapp.Socket {
	t.Helper()
	s := testapp.DialSocket(t, e.web(i), u.Token)
	m := s.Next(t, 10*time.Second)
	require.Equal(t, testapp.PushMessage{Type: "subscribed", Channel: "private-" + u.Username}, m)
	return s
}

func subscribed(t *testing.T, s *testapp.Socket, channel string, since *uint64) {
	t.Helper()
	m := s.Subscribe(t, channel, since)
	require.Equal(t, testapp.PushMessage{Type: "subscribed", Channel: channel}, m)
}

func dataOf(t *testing.T, m testapp.PushMessage) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &v), "%s", m.Data)
	return v
}

// embeddedEnv is the default deployment: one web with the embedded
// database and the worker in-process.
func embeddedEnv(t *testing.T) *pushEnv {
	a := testapp.Start(t, testapp.Options{APIKeys: []string{pushKey}})
	return &pushEnv{webs: []string{a.URL}, db: a.Conn.Database, session: a.Session(t)}
}

// standaloneEnv is the Procfile's deployment: web processes and the worker
// (dblistener and pushworker, as cmd/dblistener runs them) on a standalone
// database.
func standaloneEnv(t *testing.T, webs int) *pushEnv {
	db := minirethink.RunT(t)
	url := "rethinkdb://" + db.Addr() + "/leaderboard"
	env := &pushEnv{db: "leaderboard"}
	for range webs {
		a := testapp.Start(t, testapp.Options{APIKeys: []string{pushKey}, Config: func(c *config.Config) {
			c.DatabaseURL = url
		}})
		env.webs = append(env.webs, a.URL)
	}
	cfg := config.Defaults()
	cfg.PublishInterval = 10 * time.Millisecond
	testapp.StartWorker(t, testapp.ConnTo(db.Addr()), cfg)
	session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	env.session = session
	return env
}

func TestPushEmbedded(t *testing.T) {
	pushScenarios(t, embeddedEnv(t))
}

func TestPushWebAndWorkerOnAStandaloneDatabase(t *testing.T) {
	env := standaloneEnv(t, 2)
	pushScenarios(t, env)

	t.Run("either web process delivers an event posted to the other", func(t *testing.T) {
		u1 := testapp.RegisterUser(t, env.web(0), pushKey, "multi-a", 0)
		u2 := testapp.RegisterUser(t, env.web(1), pushKey, "multi-b", 0)
		env.channel(t, "multi", "fanout")
		s1, s2 := env.dial(t, 0, u1), env.dial(t, 1, u2)
		subscribed(t, s1, "multi", nil)
		subscribed(t, s2, "multi", nil)
		for i := range 2 {
			id := env.post(t, i, "multi", map[string]any{"via": i})
			for _, s := range []*testapp.Socket{s1, s2} {
				m := s.Events(t, "multi", 1)[0]
				assert.Equal(t, id, m.ID)
				assert.Equal(t, map[string]any{"via": float64(i)}, dataOf(t, m))
			}
		}
	})
}

// pushScenarios are the push service's promises, against any deployment.
// Web 0 and web 1 are the same process when there is one.
func pushScenarios(t *testing.T, env *pushEnv) {
	a := testapp.RegisterUser(t, env.web(0), pushKey, "ann", 0)
	b := testapp.RegisterUser(t, env.web(1), pushKey, "bob", 0)
	assert.Equal(t, []string{"private-ann"}, a.Channels)
	assert.GreaterOrEqual(t, len(a.Token), 22, "at least 128 bits")
	env.channel(t, "news", "fanout")
	env.channel(t, "team", "topic")
	require.Equal(t, http.StatusNoContent, env.do(t, 0, "POST", "/channels/team/members", map[string]any{"user": "ann"}).Status)
	sa, sb := env.dial(t, 0, a), env.dial(t, 1, b)

	t.Run("a fanout event reaches both users", func(t *testing.T) {
		subscribed(t, sa, "news", nil)
		subscribed(t, sb, "news", nil)
		id := env.post(t, 0, "news", map[string]any{"hello": "world"})
		for _, s := range []*testapp.Socket{sa, sb} {
			m := s.Events(t, "news", 1)[0]
			assert.Equal(t, id, m.ID)
			assert.Equal(t, map[string]any{"hello": "world"}, dataOf(t, m))
		}
	})

	t.Run("a topic event reaches only its member", func(t *testing.T) {
		subscribed(t, sa, "team", nil)
		m := sb.Subscribe(t, "team", nil)
		assert.Equal(t, testapp.PushMessage{Type: "error", Channel: "team", Error: "not a member of channel team"}, m)
		env.post(t, 1, "team", "members only")
		assert.JSONEq(t, `"members only"`, string(sa.Events(t, "team", 1)[0].Data))
		sb.Quiet(t, 300*time.Millisecond)
	})

	t.Run("a direct event reaches only its user", func(t *testing.T) {
		m := sa.Subscribe(t, "private-bob", nil)
		assert.Equal(t, "error", m.Type)
		assert.Equal(t, "channel private-bob is another user's direct channel", m.Error)
		env.post(t, 0, "private-bob", map[string]any{"for": "bob"})
		assert.Equal(t, map[string]any{"for": "bob"}, dataOf(t, sb.Events(t, "private-bob", 1)[0]))
		sa.Quiet(t, 300*time.Millisecond)
	})

	t.Run("an event inserted straight into the events table is delivered", func(t *testing.T) {
		last := env.post(t, 0, "news", "before")
		sa.Events(t, "news", 1)
		sb.Events(t, "news", 1)
		_, err := r.DB(env.db).Table("events").Insert(map[string]any{
			"channel": "news", "data": map[string]any{"from": "a script"},
		}).RunWrite(env.session)
		require.NoError(t, err)
		for _, s := range []*testapp.Socket{sa, sb} {
			m := s.Events(t, "news", 1)[0]
			assert.Equal(t, last+1, m.ID, "stamped with the channel's next id")
			assert.Equal(t, map[string]any{"from": "a script"}, dataOf(t, m))
		}
		assert.Equal(t, last+2, env.post(t, 1, "news", "after"), "ids stay in order")
		sa.Events(t, "news", 1)
		sb.Events(t, "news", 1)
	})

	t.Run("a client that missed 10 events gets exactly those when it resubscribes with since", func(t *testing.T) {
		u := testapp.RegisterUser(t, env.web(0), pushKey, "resumer", 0)
		s := env.dial(t, 0, u)
		subscribed(t, s, "news", nil)
		seen := env.post(t, 0, "news", "seen")
		require.Equal(t, seen, s.Events(t, "news", 1)[0].ID)
		s.Conn.CloseNow()
		var missed []uint64
		for i := range 10 {
			missed = append(missed, env.post(t, i%2, "news", map[string]any{"missed": i}))
		}
		s = env.dial(t, 1, u)
		subscribed(t, s, "news", &seen)
		for i, m := range s.Events(t, "news", 10) {
			assert.Equal(t, missed[i], m.ID)
			assert.Equal(t, map[string]any{"missed": float64(i)}, dataOf(t, m))
		}
		s.Quiet(t, 300*time.Millisecond) // nothing twice
		live := env.post(t, 0, "news", "live")
		assert.Equal(t, live, s.Events(t, "news", 1)[0].ID)
		sa.Events(t, "news", 12)
		sb.Events(t, "news", 12)
	})

	t.Run("a since older than the history gets a notice", func(t *testing.T) {
		u := testapp.RegisterUser(t, env.web(0), pushKey, "ancient", 0)
		s := env.dial(t, 0, u)
		ahead := uint64(1_000_000)
		subscribed(t, s, "news", &ahead)
		m := s.Next(t, 5*time.Second)
		assert.Equal(t, "error", m.Type)
		assert.True(t, m.Reset)
		assert.Contains(t, m.Error, "history")
	})

	t.Run("SSE clients get the same events and resume with Last-Event-ID", func(t *testing.T) {
		stream := testapp.OpenStream(t, http.DefaultClient, env.web(1)+"/channels/news/events?token="+a.Token)
		id := env.post(t, 0, "news", map[string]any{"sse": 1})
		ev := stream.Next(t, 10*time.Second)
		assert.Equal(t, fmt.Sprint(id), ev.ID)
		assert.Equal(t, "message", ev.Type)
		assert.JSONEq(t, `{"sse":1}`, ev.Data)
		stream.Close()
		next := env.post(t, 0, "news", map[string]any{"sse": 2})
		stream = testapp.OpenStream(t, http.DefaultClient, env.web(0)+"/channels/news/events?token="+a.Token,
			"Last-Event-ID", fmt.Sprint(id))
		ev = stream.Next(t, 10*time.Second)
		assert.Equal(t, fmt.Sprint(next), ev.ID)
		sa.Events(t, "news", 2)
		sb.Events(t, "news", 2)

		res := testapp.DoURL(t, "GET", env.web(0)+"/channels/team/events?token="+b.Token, nil, "Accept", "text/event-stream")
		assert.Equal(t, http.StatusForbidden, res.Status)
		assert.JSONEq(t, `{"error":"not a member of channel team"}`, string(res.Body))
	})

	t.Run("a board's updates reach its WebSocket subscribers", func(t *testing.T) {
		res := env.do(t, 0, "POST", "/boards", map[string]any{"name": "Cup"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var board struct{ ID string }
		res.JSON(t, &board)
		res = env.do(t, 0, "POST", "/boards/"+board.ID+"/players", map[string]any{"name": "Ann"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var player struct{ ID string }
		res.JSON(t, &player)
		channel := "board-" + board.ID
		subscribed(t, sb, channel, nil)
		first := sb.Events(t, channel, 1)[0] // the board now
		res = env.do(t, 1, "POST", "/boards/"+board.ID+"/players/"+player.ID+"/score-add", map[string]any{"amount": 5})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		last := first.ID
		for {
			m := sb.Events(t, channel, 1)[0]
			require.Greater(t, m.ID, last, "boards only move forward")
			last = m.ID
			var b testapp.BoardData
			require.NoError(t, json.Unmarshal(m.Data, &b))
			if len(b.Players) == 1 && b.Players[0].Score == 5 {
				break
			}
		}
		res = env.do(t, 0, "POST", "/events", map[string]any{"channel": channel, "data": 1})
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	})

	t.Run("an expired token is refused, and a connected one closed with 4001", func(t *testing.T) {
		u := testapp.RegisterUser(t, env.web(0), pushKey, "brief", 2)
		s := env.dial(t, 1, u)
		code, reason := s.Closed(t, 5*time.Second)
		assert.Equal(t, 4001, int(code))
		assert.Contains(t, reason, "expired")
		_, res, err := testapp.TryDialSocket(env.web(0), u.Token)
		require.Error(t, err)
		require.NotNil(t, res)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})

	t.Run("a membership or a channel that ends ends its subscriptions", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, env.do(t, 1, "DELETE", "/channels/team/members/ann", nil).Status)
		assert.Equal(t, testapp.PushMessage{Type: "error", Channel: "team", Error: "no longer a member of channel team"},
			sa.Next(t, 5*time.Second))
		env.post(t, 0, "team", "after")
		sa.Quiet(t, 300*time.Millisecond)

		env.channel(t, "doomed", "fanout")
		subscribed(t, sb, "doomed", nil)
		require.Equal(t, http.StatusNoContent, env.do(t, 0, "DELETE", "/channels/doomed", nil).Status)
		assert.Equal(t, testapp.PushMessage{Type: "error", Channel: "doomed", Error: "channel doomed was deleted"},
			sb.Next(t, 5*time.Second))
		ping := map[string]any{"type": "ping"}
		sb.Send(t, ping)
		assert.Equal(t, "pong", sb.Next(t, 5*time.Second).Type, "the connection goes on")
	})

	t.Run("deleting a user closes its connections", func(t *testing.T) {
		u := testapp.RegisterUser(t, env.web(0), pushKey, "leaver", 0)
		s := env.dial(t, 1, u)
		start := time.Now()
		require.Equal(t, http.StatusNoContent, env.do(t, 0, "DELETE", "/users/leaver", nil).Status)
		code, _ := s.Closed(t, 5*time.Second)
		assert.Equal(t, 4003, int(code))
		assert.Less(t, time.Since(start), time.Second)
		assert.Equal(t, http.StatusNotFound, env.do(t, 0, "GET", "/users/leaver", nil).Status)
		_, res, err := testapp.TryDialSocket(env.web(0), u.Token)
		require.Error(t, err)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
}
