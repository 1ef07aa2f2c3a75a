package views_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/internal/wsclient"
)

// The WebSockets of these tests are parked between frames (wspark): no
// goroutine reads or writes them while they are idle.

// rawSocket opens /ws with a client that writes frames by hand and reads
// the direct channel's "subscribed".
func rawSocket(t *testing.T, a *testapp.App, token string, o wsclient.Options) *wsclient.Conn {
	t.Helper()
	c := wsclient.Dial(t, a.URL+"/ws?token="+url.QueryEscape(token), o)
	require.Equal(t, "subscribed", message(t, c).Type)
	return c
}

// message reads the next push message.
func message(t *testing.T, c *wsclient.Conn) testapp.PushMessage {
	t.Helper()
	f := c.NextOf(t, wsclient.OpText, 10*time.Second)
	var m testapp.PushMessage
	require.NoError(t, json.Unmarshal(f.Payload, &m), "%s", f.Payload)
	return m
}

func TestParkedSocketSubscribesPingsAndGetsEvents(t *testing.T) {
	a, ann := startPush(t, nil)
	c := rawSocket(t, a, ann.Token, wsclient.Options{})
	time.Sleep(50 * time.Millisecond) // parked: nothing waits on it

	c.Text(t, `{"type":"subscribe","channel":"news","since":0}`)
	assert.Equal(t, testapp.PushMessage{Type: "subscribed", Channel: "news"}, message(t, c))
	history := message(t, c)
	assert.Equal(t, "event", history.Type, "the event posted before, from history")
	assert.JSONEq(t, `{"n":1}`, string(history.Data))

	c.Text(t, `{"type":"ping"}`)
	assert.Equal(t, "pong", message(t, c).Type)
	c.Send(t, wsclient.Frame{Op: wsclient.OpPing, Payload: []byte("are you there")})
	assert.Equal(t, "are you there", string(c.NextOf(t, wsclient.OpPong, 5*time.Second).Payload))

	time.Sleep(50 * time.Millisecond)
	require.Equal(t, http.StatusOK, a.Do(t, "POST", "/events/", `{"channel":"news","data":{"n":2}}`, pushAuth...).Status)
	live := message(t, c)
	assert.Equal(t, history.ID+1, live.ID)
	assert.JSONEq(t, `{"n":2}`, string(live.Data))
}

// An idle WebSocket holds no goroutine in the server: opening 200 grows
// the process's goroutines by far less than one each (the raw clients hold
// none either).
func TestIdleSocketsHoldNoGoroutine(t *testing.T) {
	a, ann := startPush(t, nil)
	rawSocket(t, a, ann.Token, wsclient.Options{}) // the shared goroutines start with the first
	runtime.GC()
	before := runtime.NumGoroutine()
	const n = 200
	sockets := make([]*wsclient.Conn, n)
	for i := range sockets {
		sockets[i] = rawSocket(t, a, ann.Token, wsclient.Options{})
	}
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() < before+n/10 }, 10*time.Second, 20*time.Millisecond,
		"%d idle sockets: goroutines %d before, %d after", n, before, runtime.NumGoroutine())
	// And every one still answers.
	for _, c := range sockets {
		c.Text(t, `{"type":"ping"}`)
	}
	for _, c := range sockets {
		assert.Equal(t, "pong", message(t, c).Type)
	}
}

// What a WebSocket client must not send closes the socket with RFC 6455's
// code; a close frame is answered with a close frame.
func TestSocketFrameErrors(t *testing.T) {
	a, ann := startPush(t, nil)
	tests := []struct {
		name  string
		frame wsclient.Frame
		code  int
	}{
		{"unmasked frame", wsclient.Frame{Op: wsclient.OpText, Payload: []byte(`{"type":"ping"}`), Unmasked: true}, 1002},
		{"RSV bit without an extension", wsclient.Frame{Op: wsclient.OpText, Payload: []byte(`{"type":"ping"}`), Rsv: 4}, 1002},
		{"a message over 64 KiB", wsclient.Frame{Op: wsclient.OpText, Payload: []byte(`{"type":"ping","pad":"` + strings.Repeat("x", 64<<10) + `"}`)}, 1009},
		{"text that is not UTF-8", wsclient.Frame{Op: wsclient.OpText, Payload: []byte("{\"type\":\"\xff\"}")}, 1007},
		{"the client closes", wsclient.Frame{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(1000, "bye")}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawSocket(t, a, ann.Token, wsclient.Options{})
			c.Send(t, tt.frame)
			code, _ := c.Closed(t, 10*time.Second)
			assert.Equal(t, tt.code, code)
			if tt.code != 1000 {
				c.Send(t, wsclient.Frame{Op: wsclient.OpClose, Payload: wsclient.CloseFrame(code, "")})
			}
			assert.True(t, c.HungUp(5*time.Second), "the server closed the socket")
		})
	}
	assert.Eventually(t, func() bool { return a.Sockets.Len() == 0 }, 5*time.Second, 10*time.Millisecond)
}

// A client that stops reading is closed with 4008 once its queue
// overflows, while the others keep receiving every event; it gets the close
// frame after what its socket already held.
func TestStalledSocketIsClosedWith4008(t *testing.T) {
	a, ann := startPush(t, nil)
	healthy := testapp.DialSocket(t, a.URL, ann.Token)
	healthy.Next(t, 5*time.Second)
	require.Equal(t, "subscribed", healthy.Subscribe(t, "news", nil).Type)
	stalled := rawSocket(t, a, ann.Token, wsclient.Options{RecvBuffer: 4096})
	stalled.Text(t, `{"type":"subscribe","channel":"news"}`)
	require.Equal(t, "subscribed", message(t, stalled).Type)

	// Until the stalled client's queue (256) overflows, beyond what the
	// sockets' buffers (STREAM_SEND_BUFFER, 64 KiB) hold.
	pad := strings.Repeat("x", 8<<10)
	posted := 0
	for ; a.PushHub.Len() == 2; posted++ {
		require.Less(t, posted, 1000, "the stalled client was never dropped")
		res := a.Do(t, "POST", "/events/", fmt.Sprintf(`{"channel":"news","data":{"n":%d,"pad":%q}}`, posted, pad), pushAuth...)
		require.Equal(t, http.StatusOK, res.Status)
	}
	assert.Greater(t, posted, 256)
	got := healthy.Events(t, "news", posted)
	assert.Len(t, got, posted, "the healthy client got every event")

	// The stalled client reads at last: what its socket held, then 4008.
	code, reason := stalled.Closed(t, 10*time.Second)
	assert.Equal(t, 4008, code)
	assert.Equal(t, "too slow: reconnect and subscribe with since", reason)
	healthy.Send(t, map[string]any{"type": "ping"})
	assert.Equal(t, "pong", healthy.Next(t, 5*time.Second).Type, "the healthy client goes on")
}

// A client that does not answer pings is closed with 4008 after a
// keep-alive interval.
func TestSilentSocketIsClosed(t *testing.T) {
	a, ann := startPush(t, func(c *config.Config) { c.KeepAliveInterval = 200 * time.Millisecond })
	c := rawSocket(t, a, ann.Token, wsclient.Options{})
	c.NextOf(t, wsclient.OpPing, 5*time.Second)
	code, _ := c.Closed(t, 5*time.Second)
	assert.Equal(t, 4008, code)
}

// A parked socket holds its stream slot until it ends.
func TestParkedSocketsHoldTheirSlot(t *testing.T) {
	a, ann := startPush(t, func(c *config.Config) { c.MaxStreamsPerClient = 2 })
	first := testapp.DialSocket(t, a.URL, ann.Token)
	testapp.DialSocket(t, a.URL, ann.Token)
	_, res, err := testapp.TryDialSocket(a.URL, ann.Token)
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "both slots are taken")
	require.NoError(t, first.Conn.Close(websocket.StatusNormalClosure, ""))
	assert.Eventually(t, func() bool {
		s, _, err := testapp.TryDialSocket(a.URL, ann.Token)
		if err == nil {
			s.Conn.CloseNow()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "the closed socket's slot is free again")
}

// A graceful shutdown sends every parked socket 1001 and waits for them.
func TestShutdownClosesParkedSockets(t *testing.T) {
	a, ann := startPush(t, nil)
	var sockets []*testapp.Socket
	for range 20 {
		s := testapp.DialSocket(t, a.URL, ann.Token)
		s.Next(t, 5*time.Second)
		sockets = append(sockets, s)
	}
	raw := rawSocket(t, a, ann.Token, wsclient.Options{}) // does not answer the close
	start := time.Now()
	require.NoError(t, a.Close())
	assert.Less(t, time.Since(start), 4*time.Second)
	for _, s := range sockets {
		code, reason := s.Closed(t, 5*time.Second)
		assert.Equal(t, websocket.StatusGoingAway, code)
		assert.Equal(t, "the server is shutting down", reason)
	}
	code, _ := raw.Closed(t, 5*time.Second)
	assert.Equal(t, 1001, code)
	assert.Equal(t, 0, a.Sockets.Len())
}
