// Package testapp stands up the whole web process for tests through the
// same wiring as cmd/web (internal/app), with real parts only: the embedded
// RethinkDB-compatible server over TCP, the real driver, the listener, the
// relay, and the API on a real HTTP server.
package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/rankcache"
)

// Options change the test's configuration from config.Defaults.
type Options struct {
	TopN    int
	APIKeys []string
	// PublishInterval is the listener's coalescing window (default 20ms).
	PublishInterval time.Duration
	// KeepAlive for SSE streams.
	KeepAlive time.Duration
	// StreamBuffer is the per-subscriber buffer (default the hub's).
	StreamBuffer int
	// GripURL enables GRIP mode in web and the listener.
	GripURL string
	// QueryTimeout bounds database queries.
	QueryTimeout time.Duration
	// HTTPListener, if set, is where the API listens (a GRIP proxy must
	// know the backend's address before the API knows the proxy's key).
	HTTPListener net.Listener
	// Config, if set, edits the configuration last.
	Config func(*config.Config)
	// Logger receives the app's logs (default Logger()).
	Logger *slog.Logger
	// Now and ResetPoll are the reset scheduler's clock and poll
	// (app.Options).
	Now       func() time.Time
	ResetPoll time.Duration
	// Ranks is the rank cache (app.Options).
	Ranks *rankcache.Cache
}

// App is a running web process.
type App struct {
	*app.App
	Log    *slog.Logger
	client *http.Client
}

// Logger is quiet unless TEST_LOG=1.
func Logger() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Fast is the retry policy of tests: a restarted database is found again
// within a fraction of a second.
var Fast = backoff.Policy{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}

// Config is config.Defaults for a test: embedded mode, a fast listener.
func Config(o Options) config.Config {
	cfg := config.Defaults()
	cfg.PublishInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	// Tests send bursts from one address; the limits' own tests set them.
	cfg.RateLimitWrites, cfg.RateLimitStreams = 0, 0
	if o.TopN != 0 {
		cfg.TopN = o.TopN
	}
	cfg.APIKeys = o.APIKeys
	if o.PublishInterval != 0 {
		cfg.PublishInterval = o.PublishInterval
	}
	if o.KeepAlive != 0 {
		cfg.KeepAliveInterval = o.KeepAlive
	}
	if o.QueryTimeout != 0 {
		cfg.QueryTimeout = o.QueryTimeout
	}
	cfg.GripURL = o.GripURL
	if o.Config != nil {
		o.Config(&cfg)
	}
	return cfg
}

// Start runs the service; everything stops when the test ends.
func Start(t testing.TB, o Options) *App {
	t.Helper()
	log := o.Logger
	if log == nil {
		log = Logger()
	}
	l := o.HTTPListener
	if l == nil {
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.Start(ctx, Config(o), app.Options{
		Logger: log, Listener: l, Backoff: Fast, StreamBuffer: o.StreamBuffer, NoDemo: true,
		Now: o.Now, ResetPoll: o.ResetPoll, Ranks: o.Ranks,
	})
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		// A connection the client dialed but never used is "new" to the
		// server, and Shutdown waits 5s for those: hang them up first, as
		// httptest.Server.Close does.
		client.CloseIdleConnections()
		_ = a.Close()
	})
	return &App{App: a, Log: log, client: client}
}

// Client is an HTTP client of the app's own, closed with it.
func (a *App) Client() *http.Client { return a.client }

// Session is a driver session on the app's database, as a script writing to
// it directly would open.
func (a *App) Session(t testing.TB) *r.Session {
	t.Helper()
	session, err := r.Connect(r.ConnectOpts{
		Address: a.Conn.Address, Username: a.Conn.Username, Password: a.Conn.Password,
		InitialCap: 1, MaxOpen: 1,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	return session
}

// OpenStore connects to the database at conn and ensures the schema
// (EnsureSchema).
func OpenStore(t testing.TB, conn models.ConnConfig) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := models.Open(ctx, conn, models.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.EnsureSchema(ctx))
	return store
}

// Board creates a board with players (score 0 unless given) through the
// store and returns its id and the players' ids in order.
func (a *App) Board(t testing.TB, name string, players ...string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	b := &models.Board{Name: name}
	require.NoError(t, a.Store.Boards.Save(ctx, b))
	ids := make([]string, len(players))
	for i, n := range players {
		p := &models.Player{Board: b.ID, Name: n}
		require.NoError(t, a.Store.Players.Save(ctx, p))
		ids[i] = p.ID
	}
	return b.ID, ids
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Do sends a request to the app and checks the answer against the OpenAPI
// document; body may be nil, a string or a value to
// encode as JSON. Headers come as "Name", "value" pairs.
func (a *App) Do(t testing.TB, method, path string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := a.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := Response{Status: res.StatusCode, Header: res.Header, Body: data}
	CheckAgainstSpec(t, req, out)
	return out
}

// SyncBuffer collects output that one goroutine writes (a process's stdout,
// a logger) while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ConnTo is the connection to the "leaderboard" database of a server at
// addr with no password, as minirethink.RunT starts one.
func ConnTo(addr string) models.ConnConfig {
	return models.ConnConfig{Address: addr, Database: "leaderboard", Username: "admin"}
}
