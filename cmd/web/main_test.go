package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/models"
)

// The README's first command, as a user meets it: with no DATABASE_URL,
// web starts the embedded database, seeds the original's demo board, runs
// the listener in-process, streams changes, and shuts down cleanly while a
// stream is open.
func TestEmbeddedModeServesTheDemoBoardLive(t *testing.T) {
	cfg := testConfig(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	var logs testapp.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	go func() { done <- run(ctx, cfg, log) }()

	base := "http://127.0.0.1:" + strconv.Itoa(cfg.Port)
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "web never became ready")

	var list struct{ Boards []struct{ ID, Name string } }
	getJSON(t, base+"/boards/", &list)
	require.Len(t, list.Boards, 1, "one demo board")
	assert.Equal(t, "Demo", list.Boards[0].Name)
	board := base + "/boards/" + list.Boards[0].ID + "/"

	var demo struct {
		Players []struct{ ID, Name string }
	}
	getJSON(t, board, &demo)
	var names []string
	for _, p := range demo.Players {
		names = append(names, p.Name)
	}
	assert.ElementsMatch(t, models.DemoPlayers, names)

	s := testapp.OpenStream(t, http.DefaultClient, board)
	s.Next(t, 10*time.Second) // the board now
	stan := demo.Players[0].ID
	for _, p := range demo.Players {
		if p.Name == "Stan" {
			stan = p.ID
		}
	}
	res, err := http.Post(board+"players/"+stan+"/score-add/?amount=50", "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "writes are open in embedded mode without API_KEYS")
	// The listener runs in-process: the add reaches the stream (after,
	// maybe, the listener's first publish of the board as it was).
	s.Await(t, `"name":"Stan","score":50,"rank":1`, 10*time.Second)

	// SIGTERM: open streams end and run returns without error.
	stop()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatal("web did not shut down")
	}
	assert.True(t, s.Ended(5*time.Second), "the open stream ended")
	assert.NotContains(t, logs.String(), "shutdown timed out", "streams were ended, not waited on until the timeout")
	assert.Contains(t, logs.String(), "embedded mode: data lives in memory")
}

func testConfig(t *testing.T) config.Config {
	t.Helper()
	// A free port: web listens on all interfaces as on Heroku.
	l, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cfg := config.Defaults()
	cfg.Port = port
	cfg.PublishInterval = 10 * time.Millisecond
	cfg.RequestTimeout = 5 * time.Second
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.LogFormat = "text"
	return cfg
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, url)
	require.NoError(t, json.NewDecoder(res.Body).Decode(v))
}

// web -h used to start the server; it prints the usage and stops, and so
// does anything else on the command line (with status 2).
func TestCommandLine(t *testing.T) {
	tests := []struct {
		args     []string
		wantStop bool
		wantCode int
		wantOut  string
	}{
		{nil, false, 0, ""},
		{[]string{"-h"}, true, 0, "every setting is an environment"},
		{[]string{"--help"}, true, 0, "every setting is an environment"},
		{[]string{"-port", "80"}, true, 2, "flag provided but not defined"},
		{[]string{"serve"}, true, 2, `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			code, stop := parseArgs(tt.args, &out)
			assert.Equal(t, tt.wantStop, stop)
			assert.Equal(t, tt.wantCode, code)
			assert.Contains(t, out.String(), tt.wantOut)
		})
	}
}

// In embedded mode writes are open and the database is a demo: web binds
// loopback only unless HOST says otherwise, and its embedded database has a
// password no other local process knows.
func TestEmbeddedModeIsNotExposed(t *testing.T) {
	cfg := testConfig(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := app.Start(ctx, cfg, app.Options{Logger: testapp.Logger(), NoDemo: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })

	host, _, err := net.SplitHostPort(strings.TrimPrefix(a.URL, "http://"))
	require.NoError(t, err)
	assert.True(t, net.ParseIP(host).IsLoopback(), "listens on %s", host)

	assert.NotEmpty(t, a.Conn.Password)
	_, err = r.Connect(r.ConnectOpts{Address: a.DB.Addr(), Username: "admin"})
	require.Error(t, err, "the embedded database refuses a client without its password")
	assert.Contains(t, err.Error(), "Wrong password")
	session, err := r.Connect(r.ConnectOpts{Address: a.DB.Addr(), Username: "admin", Password: a.Conn.Password})
	require.NoError(t, err)
	require.NoError(t, session.Close())
}
