package views

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushhub"
	"github.com/leaderboardhq/leaderboard/wspark"
)

// Close codes of push WebSockets (4000-4999 are the application's).
const (
	// CloseTokenExpired: the token expired while connected.
	CloseTokenExpired wspark.StatusCode = 4001
	// CloseTokenRevoked: the token was revoked (its user deleted).
	CloseTokenRevoked wspark.StatusCode = 4003
	// CloseTooSlow: the client did not keep up; it resumes with since.
	CloseTooSlow wspark.StatusCode = 4008
)

// clientMessage is what a WebSocket client sends.
type clientMessage struct {
	Type    string  `json:"type"`
	Channel *string `json:"channel"`
	Since   *number `json:"since"`
}

// pushSocket serves GET /ws?token=: a WebSocket of JSON text messages. The
// token is checked before the upgrade (401); the user's direct channel is
// subscribed at once. The socket is then served by wspark, parked between
// frames: this handler returns, and the stream's slot is released when the
// socket ends.
func (s *Server) pushSocket(c echo.Context) error {
	r := c.Request()
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return echo.NewHTTPError(http.StatusUpgradeRequired, "GET /ws needs a WebSocket upgrade")
	}
	if !s.push.originAllowed(r) {
		return echo.NewHTTPError(http.StatusForbidden, "this origin may not open WebSockets here (CORS_ORIGINS)")
	}
	sess, err := s.clientSession(c)
	if err != nil {
		return err
	}
	release, err := s.holdStream(c, "websocket")
	if err != nil {
		return err
	}
	ws, err := s.push.Sockets.Upgrade(c.Response(), r)
	if err != nil {
		release()
		if errors.Is(err, wspark.ErrClosed) {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "the server is shutting down")
		}
		s.log.Debug("websocket upgrade failed", "err", err)
		return nil // Upgrade has answered
	}
	// For the request log: the hijacked response never told Echo.
	c.Response().Status = http.StatusSwitchingProtocols
	ws.SetReadLimit(maxClientMessage)
	client := &socketClient{s: s, ws: ws, sess: sess, release: release}
	conn, err := s.push.Hub.Connect(sess.User.ID, sess.Hash, sess.ExpiresAt)
	if err != nil {
		ws.Close(wspark.StatusGoingAway, "the server is shutting down")
		ws.Serve(client)
		return nil
	}
	client.conn = conn
	// The queue is empty: the reply is queued without waiting for a writer.
	if err := conn.Subscribe(r.Context(), models.DirectChannel(sess.User.Username), pushhub.Log, nil); err != nil {
		ws.Close(wspark.StatusTryAgainLater, s.clientError(err))
		ws.Serve(client)
		return nil
	}
	conn.Notify(client.notify)
	ws.Serve(client)
	return nil
}

// socketClient is a push WebSocket: the wspark.Handler between the socket
// and the user's pushhub connection.
type socketClient struct {
	s       *Server
	ws      *wspark.Conn
	conn    *pushhub.Conn // nil if the hub refused it
	sess    *models.Session
	release func()
}

// notify is the pushhub connection's hook: messages to write, or its end.
func (sc *socketClient) notify() {
	if !sc.conn.Ended() {
		sc.ws.Wake()
		return
	}
	switch err := sc.conn.Err(); {
	case errors.Is(err, pushhub.ErrExpired):
		sc.ws.Close(CloseTokenExpired, "token expired: register again for a new token")
	case errors.Is(err, pushhub.ErrRevoked):
		sc.ws.Close(CloseTokenRevoked, "token revoked")
	case errors.Is(err, pushhub.ErrSlow):
		sc.ws.Close(CloseTooSlow, "too slow: reconnect and subscribe with since")
	case errors.Is(err, pushhub.ErrClosed):
		sc.ws.Close(wspark.StatusGoingAway, "the server is shutting down")
	}
	// nil: Closed ended it, the socket is already gone.
}

// Outbox gives the shared writer what is queued, each message framed once
// for all its subscribers. A client that fell behind gets none of it: it
// resumes with since.
func (sc *socketClient) Outbox(dst [][]byte) [][]byte {
	if sc.conn == nil || errors.Is(sc.conn.Err(), pushhub.ErrSlow) {
		return dst
	}
	sc.conn.Drain(func(m *pushhub.Message) { dst = append(dst, m.Frame(wspark.TextFrame)) })
	return dst
}

// Message handles one message of the client's, on the goroutine reading its
// socket (subscribe reads the database there, never on a shared one).
func (sc *socketClient) Message(ctx context.Context, typ wspark.MessageType, data []byte) {
	if sc.conn == nil {
		return
	}
	if typ != wspark.Text {
		sc.conn.Send(pushhub.Notice("", "messages must be JSON text"))
		return
	}
	if reply := sc.s.handleClientMessage(ctx, sc.conn, sc.sess, data); reply != nil {
		sc.conn.Send(reply)
	}
}

// Unresponsive: no answer to a ping within the keep-alive interval.
func (sc *socketClient) Unresponsive() {
	if sc.conn != nil {
		sc.conn.Close(pushhub.ErrSlow)
	}
}

// Closed releases the connection and its slot.
func (sc *socketClient) Closed(err error) {
	if sc.conn != nil {
		if errors.Is(err, wspark.ErrStalled) {
			sc.conn.Close(pushhub.ErrSlow)
		}
		sc.conn.Close(nil)
	}
	sc.release()
}

// handleClientMessage answers one message: nil when the answer is queued
// by the hub (subscribed).
func (s *Server) handleClientMessage(ctx context.Context, conn *pushhub.Conn, sess *models.Session, data []byte) *pushhub.Message {
	var msg clientMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msg); err != nil || dec.More() {
		text := "message is not valid JSON"
		if err != nil {
			text = strings.Replace(describeJSONError(err), "request body", "message", 1)
		}
		return pushhub.Notice("", text)
	}
	channel := ""
	if msg.Channel != nil {
		channel = *msg.Channel
	}
	switch msg.Type {
	case "ping":
		return &pushhub.Message{Type: pushhub.TypePong}
	case "subscribe":
		if msg.Channel == nil {
			return pushhub.Notice("", `field "channel" is required`)
		}
		var since *uint64
		if msg.Since != nil {
			n, err := strconv.ParseUint(string(*msg.Since), 10, 64)
			if err != nil {
				return pushhub.Notice(channel, "since must be an event id: an integer, 0 or more")
			}
			since = &n
		}
		ch, mode, err := s.mayClientSubscribe(ctx, channel, sess)
		if err != nil {
			return pushhub.Notice(channel, s.clientError(err))
		}
		if err := conn.Subscribe(ctx, ch, mode, since); err != nil {
			switch {
			case errors.Is(err, pushhub.ErrTooManySubscriptions):
				return pushhub.Notice(channel, fmt.Sprintf("at most %d subscriptions a connection", maxSubscriptions))
			case conn.Err() != nil:
				return nil // the connection ended
			}
			return pushhub.Notice(channel, s.clientError(err))
		}
		return nil
	case "unsubscribe":
		if msg.Channel == nil {
			return pushhub.Notice("", `field "channel" is required`)
		}
		if !conn.Unsubscribe(channel) {
			return pushhub.Notice(channel, "not subscribed to channel "+channel)
		}
		return nil
	}
	return pushhub.Notice(channel, `type must be "subscribe", "unsubscribe" or "ping"`)
}

// maxSubscriptions is pushhub's default, said in errors.
const maxSubscriptions = 100

// mayClientSubscribe resolves the channel (id or name) and checks the user
// may subscribe to it.
func (s *Server) mayClientSubscribe(ctx context.Context, ref string, sess *models.Session) (string, pushhub.Mode, error) {
	ch, err := s.push.Push.Channels.Get(ctx, ref)
	if err != nil {
		return "", 0, err
	}
	if err := s.push.Push.Members.MaySubscribe(ctx, ch, &sess.User); err != nil {
		return "", 0, err
	}
	if ch.Board != "" {
		return ch.Name, pushhub.State, nil
	}
	return ch.Name, pushhub.Log, nil
}

// clientError is the sentence a client gets for err, as handleError would
// answer it.
func (s *Server) clientError(err error) string {
	switch {
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrForbidden),
		errors.Is(err, models.ErrInvalid), errors.Is(err, models.ErrUnauthorized):
		return err.Error()
	case errors.Is(err, models.ErrUnavailable):
		return "the database is unavailable, try again shortly"
	}
	s.log.Error("push subscribe failed", "err", err)
	return "internal error"
}
