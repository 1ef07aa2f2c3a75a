// Package testapp stands up the whole service for tests, with real parts
// only: the embedded RethinkDB-compatible server over TCP, the real driver,
// the web API on a real HTTP server, and optionally the listener.
package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/dblistener"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/realtime"
	"github.com/leaderboardhq/leaderboard/ssehub"
	"github.com/leaderboardhq/leaderboard/views"
)

// Options choose what runs.
type Options struct {
	TopN    int
	APIKeys []string
	// Listener runs dblistener in-process with this interval (0: no
	// listener).
	Listener time.Duration
	// Relay follows the boards changefeed into the hub.
	Relay bool
	// KeepAlive for SSE streams (default 20s).
	KeepAlive time.Duration
	// HubBuffer is the per-subscriber buffer (default the hub's).
	HubBuffer int
	// GripURL enables GRIP mode in web and the listener.
	GripURL string
	// Handler wraps the API, e.g. to count requests.
	Handler func(http.Handler) http.Handler
	// QueryTimeout bounds database queries (default the store's).
	QueryTimeout time.Duration
	// HTTPListener, if set, is where the API listens (a GRIP proxy must
	// know the backend's address before the API knows the proxy's key).
	HTTPListener net.Listener
}

// App is a running service.
type App struct {
	DB     *minirethink.Server
	Store  *models.Store
	Hub    *ssehub.Hub
	Server *httptest.Server
	URL    string
	Log    *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Logger is quiet unless TEST_LOG=1.
func Logger() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Start runs the service; everything stops when the test ends.
func Start(t testing.TB, o Options) *App {
	t.Helper()
	if o.TopN == 0 {
		o.TopN = 5
	}
	log := Logger()
	db := minirethink.RunT(t, minirethink.WithLogger(log))
	store := OpenStore(t, db.Addr(), o.QueryTimeout)

	ctx, cancel := context.WithCancel(context.Background())
	a := &App{DB: db, Store: store, Log: log, cancel: cancel}
	t.Cleanup(a.stop)

	var gripCfg *grip.Config
	if o.GripURL != "" {
		g, err := grip.ParseURL(o.GripURL)
		require.NoError(t, err)
		gripCfg = &g
	}
	fast := backoff.Policy{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}
	if o.Listener > 0 {
		var pub dblistener.Publisher
		if gripCfg != nil {
			pub = dblistener.GripPublisher{Publisher: grip.NewPublisher(*gripCfg)}
		}
		a.wg.Go(func() {
			_ = dblistener.Run(ctx, store, dblistener.Config{
				TopN: o.TopN, Interval: o.Listener, Publisher: pub, Backoff: fast, Logger: log,
			})
		})
	}
	a.Hub = ssehub.New(ssehub.Config{KeepAlive: o.KeepAlive, Buffer: o.HubBuffer, Logger: log})
	if o.Relay {
		a.wg.Go(func() { realtime.Relay(ctx, store, a.Hub, fast, log) })
	}
	var h http.Handler = views.New(views.Config{
		Store:     store,
		TopN:      o.TopN,
		APIKeys:   o.APIKeys,
		Hub:       a.Hub,
		Grip:      gripCfg,
		KeepAlive: o.KeepAlive,
		Logger:    log,
	})
	if o.Handler != nil {
		h = o.Handler(h)
	}
	a.Server = httptest.NewUnstartedServer(h)
	if o.HTTPListener != nil {
		a.Server.Listener.Close()
		a.Server.Listener = o.HTTPListener
	}
	a.Server.Config.RegisterOnShutdown(a.Hub.Close)
	a.Server.Start()
	a.URL = a.Server.URL
	return a
}

// OpenStore connects to the embedded server at addr with a fresh schema.
func OpenStore(t testing.TB, addr string, queryTimeout time.Duration) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := models.Open(ctx, models.ConnConfig{Address: addr, Database: "leaderboard", Username: "admin"},
		models.Options{QueryTimeout: queryTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.EnsureSchema(ctx))
	return store
}

func (a *App) stop() {
	a.Hub.Close()
	a.Server.Close()
	a.cancel()
	a.wg.Wait()
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

// Do sends a request to the app; body may be nil, a string or a value to
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
	res, err := a.Server.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// SmallSendBuffers wraps l so that every accepted connection has a 4 KiB
// kernel send buffer: a client that stops reading then blocks the server's
// writes after a few KiB, instead of after the megabytes that loopback
// autotuning allows (tcp_wmem's maximum is commonly 4 MiB).
func SmallSendBuffers(l net.Listener) net.Listener { return smallBufListener{l} }

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
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
