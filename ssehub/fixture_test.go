package ssehub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/ssehub"
)

var errNoBoard = errors.New("no such board")

// fixture is a real HTTP server with one SSE route, GET /boards/{id}/, backed by an
// in-memory board store that stands in for the database.
type fixture struct {
	Hub *ssehub.Hub
	Srv *httptest.Server

	mu     sync.Mutex
	boards map[string]event.Event
	// beforeSnapshot, when set, runs inside the snapshot function before the store
	// is read; afterSnapshot after. They let a test publish at the racy moments.
	beforeSnapshot, afterSnapshot func(topic string)

	// served receives what every Serve call returned.
	served chan error
}

func newFixture(t testing.TB, cfg ssehub.Config) *fixture {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	if os.Getenv("SSEHUB_PARK") != "" {
		cfg.Park = true
	}
	f := &fixture{
		Hub:    ssehub.New(cfg),
		boards: make(map[string]event.Event),
		served: make(chan error, 4096),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boards/{id}/", f.handle)
	f.Srv = httptest.NewUnstartedServer(mux)
	f.Srv.Config.ConnContext = ssehub.ConnContext // as cmd/web installs it
	f.Srv.Start()
	t.Cleanup(func() {
		// The hub first: httptest.Server.Close waits for every handler, and stream
		// handlers return only when the hub ends them.
		f.Hub.Close()
		f.Srv.Close()
	})
	return f
}

func (f *fixture) handle(w http.ResponseWriter, r *http.Request) {
	// Stream, which Serve is without the end callback, so that SSEHUB_PARK=1
	// runs every test against parked streams too.
	err := f.Hub.Stream(r.Context(), w, r, r.PathValue("id"), f.snapshot(r.PathValue("id")), func(err error) {
		select {
		case f.served <- err:
		default:
		}
	})
	if errors.Is(err, errNoBoard) {
		http.Error(w, "no such board", http.StatusNotFound)
	}
}

func (f *fixture) snapshot(topic string) func(context.Context) (event.Event, error) {
	return func(context.Context) (event.Event, error) {
		f.mu.Lock()
		before, after := f.beforeSnapshot, f.afterSnapshot
		f.mu.Unlock()
		if before != nil {
			before(topic)
		}
		f.mu.Lock()
		ev, ok := f.boards[topic]
		f.mu.Unlock()
		if after != nil {
			after(topic)
		}
		if !ok {
			return event.Event{}, errNoBoard
		}
		return ev, nil
	}
}

func (f *fixture) url(topic string) string { return f.Srv.URL + "/boards/" + topic + "/" }

// board is the event for board topic at seq; pad makes it that many bytes larger.
func board(topic string, seq uint64, pad int) event.Event {
	return event.Event{
		Topic: topic,
		Seq:   seq,
		Type:  "update",
		Data:  fmt.Appendf(nil, `{"id":%q,"seq":%d,"pad":%q}`, topic, seq, strings.Repeat("x", pad)),
	}
}

// set stores the board without publishing it: a write the changefeed has not
// delivered yet.
func (f *fixture) set(ev event.Event, topic string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.boards[topic] = ev
}

// publish is a board change: stored, then delivered by the changefeed.
func (f *fixture) publish(topic string, seq uint64, pad int) {
	ev := board(topic, seq, pad)
	f.set(ev, topic)
	f.Hub.Broadcast(ev)
}

func (f *fixture) waitSubscribers(t testing.TB, topic string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return f.Hub.Subscribers(topic) == n },
		waitFor, time.Millisecond, "want %d subscribers of %q", n, topic)
}

// nextServed returns the next value a Serve call returned.
func (f *fixture) nextServed(t testing.TB) error {
	t.Helper()
	select {
	case err := <-f.served:
		return err
	case <-time.After(waitFor):
		require.FailNow(t, "no Serve call returned within "+waitFor.String())
		return nil
	}
}

// dialStalled opens a stream with a client that never reads, on a socket whose
// receive buffer is as small as the kernel allows.
func dialStalled(t testing.TB, srvURL, path string) net.Conn {
	t.Helper()
	host := strings.TrimPrefix(srvURL, "http://")
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// Set before connect, so the advertised window stays small too.
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, host)
	require.NoError(t, err)
	return conn
}
