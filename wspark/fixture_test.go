package wspark_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/wspark"
)

// modes are the two ways a connection is served: parked (Linux) and with
// goroutines of its own (elsewhere, TLS); every behaviour must be the same.
var modes = []struct {
	name   string
	noPark bool
}{{"parked", false}, {"goroutines", true}}

// echo is a Handler that sends every text message back, "BIN" for a binary
// one, and closes with 4008 a client that does not answer pings.
type echo struct {
	c      *wspark.Conn
	mu     sync.Mutex
	out    [][]byte
	closed chan error
	// block, if set, is waited on before a message is handled.
	block chan struct{}
}

func (e *echo) Message(ctx context.Context, typ wspark.MessageType, data []byte) {
	if e.block != nil {
		select {
		case <-e.block:
		case <-ctx.Done():
			return
		}
	}
	if typ == wspark.Binary {
		data = []byte("BIN")
	}
	e.send(string(data))
}

func (e *echo) send(s string) {
	e.mu.Lock()
	e.out = append(e.out, wspark.TextFrame([]byte(s)))
	e.mu.Unlock()
	e.c.Wake()
}

func (e *echo) Outbox(dst [][]byte) [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	dst = append(dst, e.out...)
	e.out = nil
	return dst
}

func (e *echo) Unresponsive() { e.c.Close(4008, "no answer to ping") }

func (e *echo) Closed(err error) { e.closed <- err }

// server is a test server of echo connections.
type server struct {
	*httptest.Server
	ws    *wspark.Server
	conns chan *echo // each connection's handler, as it is served
	block chan struct{}
}

func start(t *testing.T, cfg wspark.Config, limit int64) *server {
	t.Helper()
	return startWith(t, cfg, limit, httptest.NewServer)
}

func startWith(t *testing.T, cfg wspark.Config, limit int64, newServer func(http.Handler) *httptest.Server) *server {
	t.Helper()
	s := &server{ws: wspark.New(cfg), conns: make(chan *echo, 1000)}
	s.Server = newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.ws.Upgrade(w, r)
		if errors.Is(err, wspark.ErrClosed) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			return
		}
		if limit > 0 {
			c.SetReadLimit(limit)
		}
		e := &echo{c: c, closed: make(chan error, 1), block: s.block}
		c.Serve(e)
		s.conns <- e
	}))
	t.Cleanup(func() {
		s.ws.Close()
		s.Server.Close()
	})
	return s
}

// handler is the handler of the connection that was served next.
func (s *server) handler(t *testing.T) *echo {
	t.Helper()
	select {
	case e := <-s.conns:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no connection was served")
		return nil
	}
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// dial connects coder/websocket's client, an independent implementation.
func (s *server) dial(t *testing.T, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.wsURL(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// closedWith waits for the handler to be told the connection ended.
func (e *echo) closedWith(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.closed:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end")
		return nil
	}
}

func read(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	require.NoError(t, err)
	return typ, string(data)
}
