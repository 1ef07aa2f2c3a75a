package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// PushUser is POST /users's answer, as a client decodes it.
type PushUser struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Token    string   `json:"token"`
	ExpireDT int64    `json:"expire_dt"`
	Channels []string `json:"channels"`
}

// RegisterUser registers username (with ttl seconds, if not 0) through the
// API at base with the API key (if not "").
func RegisterUser(t testing.TB, base, key, username string, ttl int) PushUser {
	t.Helper()
	body := map[string]any{"register_user": username}
	if ttl != 0 {
		body["ttl"] = ttl
	}
	res := DoURL(t, "POST", base+"/users", body, KeyHeader(key)...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var u PushUser
	res.JSON(t, &u)
	return u
}

// KeyHeader is the X-Rethinkpush-Key header pair, none for "".
func KeyHeader(key string) []string {
	if key == "" {
		return nil
	}
	return []string{"X-Rethinkpush-Key", key}
}

// DoURL is Do for an absolute URL (any web process's), with
// http.DefaultClient.
func DoURL(t testing.TB, method, rawURL string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// PushMessage is one message a push WebSocket client receives.
type PushMessage struct {
	Type    string          `json:"type"`
	Channel string          `json:"channel"`
	ID      uint64          `json:"id"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
	Reset   bool            `json:"reset"`
}

// Socket is a push WebSocket client (coder/websocket's).
type Socket struct {
	Conn *websocket.Conn
	msgs chan PushMessage
	done chan struct{}
	err  error // why reading stopped; read after done
}

// SocketURL is the WebSocket URL of GET /ws at base with token.
func SocketURL(base, token string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws?token=" + url.QueryEscape(token)
}

// DialSocket opens GET /ws?token= and fails the test unless it is upgraded.
func DialSocket(t testing.TB, base, token string) *Socket {
	t.Helper()
	s, res, err := TryDialSocket(base, token)
	if res != nil && res.Body != nil {
		defer res.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { s.Conn.CloseNow(); <-s.done })
	return s
}

// TryDialSocket opens GET /ws?token=; on a refused upgrade the response
// says why.
func TryDialSocket(base, token string) (*Socket, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, SocketURL(base, token), nil)
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(1 << 20)
	s := &Socket{Conn: c, msgs: make(chan PushMessage, 10000), done: make(chan struct{})}
	go s.read()
	return s, res, nil
}

func (s *Socket) read() {
	defer close(s.done)
	defer close(s.msgs)
	for {
		_, data, err := s.Conn.Read(context.Background())
		if err != nil {
			s.err = err
			return
		}
		var m PushMessage
		if err := json.Unmarshal(data, &m); err != nil {
			s.err = err
			return
		}
		s.msgs <- m
	}
}

// Send sends v as a JSON text message.
func (s *Socket) Send(t testing.TB, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Conn.Write(ctx, websocket.MessageText, data))
}

// Next returns the next message, failing the test if none comes within
// wait.
func (s *Socket) Next(t testing.TB, wait time.Duration) PushMessage {
	t.Helper()
	m, err := s.NextMessage(wait)
	require.NoError(t, err)
	return m
}

// NextMessage is Next for any goroutine.
func (s *Socket) NextMessage(wait time.Duration) (PushMessage, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			return PushMessage{}, errors.New("socket closed: " + s.err.Error())
		}
		return m, nil
	case <-timer.C:
		return PushMessage{}, errors.New("no message within " + wait.String())
	}
}

// Quiet fails the test if a message comes within wait.
func (s *Socket) Quiet(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if ok {
			t.Fatalf("unexpected message %+v", m)
		}
	case <-time.After(wait):
	}
}

// Subscribe subscribes to channel (after since, if not nil) and returns
// the answer: "subscribed", or an error message.
func (s *Socket) Subscribe(t testing.TB, channel string, since *uint64) PushMessage {
	t.Helper()
	msg := map[string]any{"type": "subscribe", "channel": channel}
	if since != nil {
		msg["since"] = *since
	}
	s.Send(t, msg)
	return s.Next(t, 10*time.Second)
}

// Events reads n messages and requires each to be an event of channel.
func (s *Socket) Events(t testing.TB, channel string, n int) []PushMessage {
	t.Helper()
	out := make([]PushMessage, 0, n)
	for len(out) < n {
		m := s.Next(t, 10*time.Second)
		require.Equal(t, "event", m.Type, "%+v", m)
		require.Equal(t, channel, m.Channel)
		out = append(out, m)
	}
	return out
}

// Closed waits for the server to close the socket and returns the close
// status and reason.
func (s *Socket) Closed(t testing.TB, wait time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.msgs:
			if ok {
				continue
			}
			var ce websocket.CloseError
			if errors.As(s.err, &ce) {
				return ce.Code, ce.Reason
			}
			return -1, s.err.Error()
		case <-timer.C:
			t.Fatalf("the socket was not closed within %s", wait)
		}
	}
}
