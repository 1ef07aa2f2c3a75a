package wspark_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/wsclient"
	"github.com/leaderboardhq/leaderboard/wspark"
)

const wait = 5 * time.Second

func TestMessagesBothWays(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark}, 0)
			c := s.dial(t, nil)
			h := s.handler(t)
			ctx := context.Background()
			for _, msg := range []string{"hello", "", strings.Repeat("é", 10_000)} {
				require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
				typ, got := read(t, c)
				assert.Equal(t, websocket.MessageText, typ)
				assert.Equal(t, msg, got)
			}
			require.NoError(t, c.Write(ctx, websocket.MessageBinary, []byte{0xff, 0}))
			_, got := read(t, c)
			assert.Equal(t, "BIN", got)

			// The server's own messages, unasked, many at once.
			for i := range 100 {
				h.send(strings.Repeat("x", i))
			}
			for i := range 100 {
				_, got := read(t, c)
				require.Len(t, got, i)
			}

			pctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			go func() { _, _, _ = c.Read(ctx) }() // pongs are read by a reader
			assert.NoError(t, c.Ping(pctx), "a ping is answered")

			require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
			assert.NoError(t, h.closedWith(t), "the client closed it")
		})
	}
}

// Frames written by hand: fragments, control frames between them, a ping's
// payload, what came with the handshake.
func TestFraming(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark}, 0)
			c := wsclient.Dial(t, s.URL, wsclient.Options{
				Early: wsclient.Frame{Op: wsclient.OpText, Payload: []byte("early")}.Bytes(),
			})
			s.handler(t)
			assert.Equal(t, "early", string(c.NextOf(t, wsclient.OpText, wait).Payload), "sent with the request")

			c.Send(t,
				wsclient.Frame{Op: wsclient.OpText, Payload: []byte("hel"), More: true},
				wsclient.Frame{Op: wsclient.OpPing, Payload: []byte("p1")},
				wsclient.Frame{Op: wsclient.OpContinuation, Payload: []byte("lo "), More: true},
				wsclient.Frame{Op: wsclient.OpContinuation, Payload: []byte("world")},
			)
			got := map[byte]string{}
			for range 2 { // in either order
				f, err := c.Next(wait)
				require.NoError(t, err)
				got[f.Op] = string(f.Payload)
			}
			assert.Equal(t, map[byte]string{wsclient.OpPong: "p1", wsclient.OpText: "hello world"}, got,
				"a pong carries the ping's payload")

			// A frame split across writes is waited for.
			b := wsclient.Frame{Op: wsclient.OpText, Payload: []byte("split")}.Bytes()
			c.SendRaw(t, b[:3])
			time.Sleep(50 * time.Millisecond)
			c.SendRaw(t, b[3:])
			assert.Equal(t, "split", string(c.NextOf(t, wsclient.OpText, wait).Payload))
		})
	}
}

// A client's offer of permessage-deflate (or any extension) is declined:
// the answer names none, and a compressed frame (RSV1) is an error.
func TestNoExtensionIsNegotiated(t *testing.T) {
	s := start(t, wspark.Config{}, 0)
	c := wsclient.Dial(t, s.URL, wsclient.Options{Header: http.Header{
		"Sec-WebSocket-Extensions": {"permessage-deflate; client_max_window_bits"},
	}})
	s.handler(t)
	assert.Empty(t, c.Header.Get("Sec-WebSocket-Extensions"))
	c.Text(t, "plain")
	assert.Equal(t, "plain", string(c.NextOf(t, wsclient.OpText, wait).Payload))
}

// What a client must not send closes the connection with the RFC's code;
// the server's close frame comes, then the end of the stream.
func TestProtocolErrors(t *testing.T) {
	text := func(s string) wsclient.Frame { return wsclient.Frame{Op: wsclient.OpText, Payload: []byte(s)} }
	tests := []struct {
		name   string
		frames []wsclient.Frame
		raw    []byte // written after frames, as they are
		code   int
	}{
		{"unmasked frame", []wsclient.Frame{{Op: wsclient.OpText, Payload: []byte("x"), Unmasked: true}}, nil, 1002},
		{"RSV1 without an extension", []wsclient.Frame{{Op: wsclient.OpText, Payload: []byte("x"), Rsv: 4}}, nil, 1002},
		{"reserved opcode", []wsclient.Frame{{Op: 0x3}}, nil, 1002},
		{"ping over 125 bytes", []wsclient.Frame{{Op: wsclient.OpPing, Payload: make([]byte, 126)}}, nil, 1002},
		{"fragmented ping", []wsclient.Frame{{Op: wsclient.OpPing, More: true}}, nil, 1002},
		{"continuation out of place", []wsclient.Frame{{Op: wsclient.OpContinuation, Payload: []byte("x")}}, nil, 1002},
		{"new message inside a fragmented one", []wsclient.Frame{{Op: wsclient.OpText, Payload: []byte("a"), More: true}, text("b")}, nil, 1002},
		{"message over the limit", []wsclient.Frame{text(strings.Repeat("x", 1025))}, nil, 1009},
		{"fragments over the limit", []wsclient.Frame{
			{Op: wsclient.OpText, Payload: make([]byte, 600), More: true},
			{Op: wsclient.OpContinuation, Payload: make([]byte, 600)},
		}, nil, 1009},
		{"invalid UTF-8", []wsclient.Frame{text("\xff\xfe")}, nil, 1007},
		{"invalid UTF-8 across fragments", []wsclient.Frame{
			{Op: wsclient.OpText, Payload: []byte("ok\xe2\x82"), More: true},
			{Op: wsclient.OpContinuation, Payload: []byte("x")},
		}, nil, 1007},
		{"close frame of one byte", []wsclient.Frame{{Op: wsclient.OpClose, Payload: []byte{3}}}, nil, 1002},
		{"close code 999", []wsclient.Frame{{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(999, "")}}, nil, 1002},
		{"close code 1005", []wsclient.Frame{{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(1005, "")}}, nil, 1002},
		{"close code 5000", []wsclient.Frame{{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(5000, "")}}, nil, 1002},
		{"close reason not UTF-8", []wsclient.Frame{{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(1000, "\xff")}}, nil, 1007},
		{"a frame cut short", nil, wsclient.Frame{Op: wsclient.OpText, Payload: []byte("never finished")}.Bytes()[:5], 1008},
		{"a header cut short", nil, []byte{0x81}, 1008},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}, 1024)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := wsclient.Dial(t, s.URL, wsclient.Options{})
					h := s.handler(t)
					c.Text(t, "before")
					require.Equal(t, "before", string(c.NextOf(t, wsclient.OpText, wait).Payload))
					c.Send(t, tt.frames...)
					if tt.raw != nil {
						c.SendRaw(t, tt.raw)
					}
					code, _ := c.Closed(t, wait)
					assert.Equal(t, tt.code, code)
					// The client answers: the server closes the socket.
					c.Send(t, wsclient.Frame{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(code, "")})
					assert.True(t, c.HungUp(wait), "the server closed the socket")
					assert.Error(t, h.closedWith(t), "ended for the client's mistake")
				})
			}
		})
	}
}

// Either side may start the closing handshake; both end properly.
func TestCloseHandshake(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark}, 0)

			t.Run("the client closes", func(t *testing.T) {
				tests := []struct {
					name    string
					payload []byte
					answer  []byte
				}{
					{"with a code", wsclient.CloseFrame(4000, "done"), wsclient.CloseFrame(4000, "")},
					{"without a code", nil, []byte{}},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						c := wsclient.Dial(t, s.URL, wsclient.Options{})
						h := s.handler(t)
						c.Send(t, wsclient.Frame{Op: wsclient.OpClose, Payload: tt.payload})
						f := c.NextOf(t, wsclient.OpClose, wait)
						assert.Equal(t, tt.answer, f.Payload, "the answer echoes the code")
						assert.True(t, c.HungUp(wait))
						assert.NoError(t, h.closedWith(t))
					})
				}
			})

			t.Run("the server closes after what it queued", func(t *testing.T) {
				c := s.dial(t, nil)
				h := s.handler(t)
				h.send("last words")
				h.c.Close(4001, "token expired")
				_, got := read(t, c)
				assert.Equal(t, "last words", got)
				_, _, err := c.Read(context.Background())
				var ce websocket.CloseError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, websocket.StatusCode(4001), ce.Code)
				assert.Equal(t, "token expired", ce.Reason)
				assert.NoError(t, h.closedWith(t))
			})

			t.Run("a client that does not answer the close is hung up on", func(t *testing.T) {
				c := wsclient.Dial(t, s.URL, wsclient.Options{})
				h := s.handler(t)
				h.c.Close(4003, "revoked")
				code, reason := c.Closed(t, wait)
				assert.Equal(t, 4003, code)
				assert.Equal(t, "revoked", reason)
				assert.True(t, c.HungUp(3*time.Second), "within about a second")
				assert.NoError(t, h.closedWith(t))
			})
		})
	}
}

// Close sends every connection 1001 and returns once they have ended;
// after it, upgrades are refused before the handshake.
func TestServerClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark}, 0)
			var clients []*websocket.Conn
			var handlers []*echo
			for range 20 {
				clients = append(clients, s.dial(t, nil))
				handlers = append(handlers, s.handler(t))
			}
			silent := wsclient.Dial(t, s.URL, wsclient.Options{}) // never answers the close
			s.handler(t)
			errs := make(chan error, len(clients))
			for _, c := range clients {
				go func() {
					_, _, err := c.Read(context.Background())
					errs <- err
				}()
			}
			start := time.Now()
			s.ws.Close()
			assert.Less(t, time.Since(start), 3*time.Second, "prompt, the silent client too")
			assert.Equal(t, 0, s.ws.Len())
			for range clients {
				assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(<-errs))
			}
			for _, h := range handlers {
				assert.NoError(t, h.closedWith(t))
			}
			code, _ := silent.Closed(t, wait)
			assert.Equal(t, 1001, code)

			_, res, err := websocket.Dial(context.Background(), s.wsURL(), nil)
			require.Error(t, err)
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		})
	}
}

// A silent client is pinged after KeepAlive; one that answers stays, one
// that does not is reported to its handler (which closes it with 4008).
func TestKeepAlive(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark, KeepAlive: 150 * time.Millisecond}, 0)
			var pings atomic.Int32
			live := s.dial(t, &websocket.DialOptions{
				OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
			})
			s.handler(t)
			go func() { _, _, _ = live.Read(context.Background()) }()

			dead := wsclient.Dial(t, s.URL, wsclient.Options{}) // reads, never answers
			deadH := s.handler(t)
			ping := dead.NextOf(t, wsclient.OpPing, wait)
			assert.Empty(t, ping.Payload)
			code, _ := dead.Closed(t, wait)
			assert.Equal(t, 4008, code)
			assert.NoError(t, deadH.closedWith(t), "its handler chose to close it")

			require.Eventually(t, func() bool { return pings.Load() >= 3 }, wait, 10*time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			assert.NoError(t, live.Ping(ctx), "the answering client is still there")
		})
	}
}

// A client that stops reading never delays the others: its writes move off
// the shared writers, and it is cut after WriteTimeout.
func TestStalledClientIsCutAndDelaysNoOne(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := start(t, wspark.Config{NoPark: m.noPark, WriteTimeout: time.Second}, 0)
			stalled := wsclient.Dial(t, s.URL, wsclient.Options{RecvBuffer: 4096})
			stalledH := s.handler(t)
			var healthy []*websocket.Conn
			var healthyH []*echo
			for range 4 {
				c := s.dial(t, nil)
				c.SetReadLimit(1 << 20)
				healthy = append(healthy, c)
				healthyH = append(healthyH, s.handler(t))
			}
			big := strings.Repeat("x", 64<<10)
			start := time.Now()
			for range 50 {
				stalledH.send(big)
				for i, c := range healthy {
					healthyH[i].send(big)
					_, got := read(t, c)
					require.Len(t, got, len(big))
				}
			}
			assert.Less(t, time.Since(start), 5*time.Second, "the healthy clients were not held up")
			assert.ErrorIs(t, stalledH.closedWith(t), wspark.ErrStalled)
			assert.Less(t, time.Since(start), 5*time.Second, "cut about WriteTimeout after its socket filled")
			assert.True(t, stalled.HungUp(wait))
		})
	}
}

// An idle parked connection holds no goroutine: not the server's, not the
// handler's.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	s := start(t, wspark.Config{}, 0)
	first := wsclient.Dial(t, s.URL, wsclient.Options{}) // starts the shared goroutines
	s.handler(t)
	first.Text(t, "hi")
	first.NextOf(t, wsclient.OpText, wait)
	runtime.GC()
	before := runtime.NumGoroutine()
	const n = 200
	clients := make([]*wsclient.Conn, n)
	for i := range clients {
		clients[i] = wsclient.Dial(t, s.URL, wsclient.Options{})
		s.handler(t)
		clients[i].Text(t, "hi")
		clients[i].NextOf(t, wsclient.OpText, wait)
	}
	// The raw clients hold none; each handshake's goroutine ends with its
	// handler, each read's with its frames.
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() < before+n/20 }, wait, 10*time.Millisecond,
		"%d connections: goroutines %d before, %d after", n, before, runtime.NumGoroutine())
	for _, c := range clients {
		c.Text(t, "still there")
	}
	for _, c := range clients {
		assert.Equal(t, "still there", string(c.NextOf(t, wsclient.OpText, wait).Payload))
	}
}

// A handler that blocks (a database read) holds only its own connection.
func TestABlockedHandlerHoldsOnlyItsConnection(t *testing.T) {
	s := start(t, wspark.Config{}, 0)
	s.block = make(chan struct{})
	blocked := wsclient.Dial(t, s.URL, wsclient.Options{})
	bh := s.handler(t)
	blocked.Text(t, "waits")
	s.block = nil
	other := wsclient.Dial(t, s.URL, wsclient.Options{})
	s.handler(t)
	other.Text(t, "goes")
	assert.Equal(t, "goes", string(other.NextOf(t, wsclient.OpText, wait).Payload))
	close(bh.block)
	assert.Equal(t, "waits", string(blocked.NextOf(t, wsclient.OpText, wait).Payload))
}

// A connection without a file descriptor (TLS) keeps goroutines of its own
// and behaves the same.
func TestTLSConnections(t *testing.T) {
	s := startWith(t, wspark.Config{ReadTimeout: 300 * time.Millisecond}, 1024, httptest.NewTLSServer)
	client := s.Client()
	c, _, err := websocket.Dial(context.Background(), s.wsURL(), &websocket.DialOptions{HTTPClient: client})
	require.NoError(t, err)
	defer c.CloseNow()
	h := s.handler(t)
	require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte("over TLS")))
	_, got := read(t, c)
	assert.Equal(t, "over TLS", got)
	require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 2000))))
	_, _, err = c.Read(context.Background())
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err))
	assert.Error(t, h.closedWith(t))
}
