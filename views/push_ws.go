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
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushhub"
)

// Close codes of push WebSockets (4000-4999 are the application's).
const (
	// CloseTokenExpired: the token expired while connected.
	CloseTokenExpired websocket.StatusCode = 4001
	// CloseTokenRevoked: the token was revoked (its user deleted).
	CloseTokenRevoked websocket.StatusCode = 4003
	// CloseTooSlow: the client did not keep up; it resumes with since.
	CloseTooSlow websocket.StatusCode = 4008
)

// clientMessage is what a WebSocket client sends.
type clientMessage struct {
	Type    string  `json:"type"`
	Channel *string `json:"channel"`
	Since   *number `json:"since"`
}

// pushSocket serves GET /ws?token=: a WebSocket of JSON text messages. The
// token is checked before the upgrade (401); the user's direct channel is
// subscribed at once.
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
	defer release()
	ws, err := websocket.Accept(c.Response(), r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // origin checked above
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
		return nil // Accept has answered
	}
	ws.SetReadLimit(maxClientMessage)
	conn, err := s.push.Hub.Connect(sess.User.ID, sess.Hash, sess.ExpiresAt)
	if err != nil {
		ws.Close(websocket.StatusGoingAway, "the server is shutting down")
		return nil
	}
	defer conn.Close(nil)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// The queue is empty: the reply is queued without waiting for a writer.
	if err := conn.Subscribe(ctx, models.DirectChannel(sess.User.Username), pushhub.Log, nil); err != nil {
		ws.Close(websocket.StatusTryAgainLater, s.clientError(err))
		return nil
	}

	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		s.writeSocket(ctx, ws, conn)
	}()
	go s.pingSocket(ctx, ws, conn)
	s.readSocket(ctx, ws, conn, sess)
	conn.Close(nil)
	<-wrote
	return nil
}

// readSocket handles the client's messages until it goes away.
func (s *Server) readSocket(ctx context.Context, ws *websocket.Conn, conn *pushhub.Conn, sess *models.Session) {
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			conn.Send(pushhub.Notice("", "messages must be JSON text"))
			continue
		}
		reply := s.handleClientMessage(ctx, conn, sess, data)
		if reply != nil && !conn.Send(reply) {
			return
		}
	}
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

// writeSocket sends the connection's messages until it ends, then closes
// the socket saying why.
func (s *Server) writeSocket(ctx context.Context, ws *websocket.Conn, conn *pushhub.Conn) {
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			break
		}
		wctx, cancel := context.WithTimeout(ctx, s.push.WriteTimeout)
		err = ws.Write(wctx, websocket.MessageText, m.JSON())
		cancel()
		if err != nil {
			conn.Close(pushhub.ErrSlow)
			ws.CloseNow()
			return
		}
	}
	switch err := conn.Err(); {
	case errors.Is(err, pushhub.ErrExpired):
		ws.Close(CloseTokenExpired, "token expired: register again for a new token")
	case errors.Is(err, pushhub.ErrRevoked):
		ws.Close(CloseTokenRevoked, "token revoked")
	case errors.Is(err, pushhub.ErrSlow):
		ws.Close(CloseTooSlow, "too slow: reconnect and subscribe with since")
	case errors.Is(err, pushhub.ErrClosed):
		ws.Close(websocket.StatusGoingAway, "the server is shutting down")
	default:
		ws.CloseNow()
	}
}

// pingSocket pings every keep-alive interval, so proxies keep an idle
// socket open and a dead peer is noticed.
func (s *Server) pingSocket(ctx context.Context, ws *websocket.Conn, conn *pushhub.Conn) {
	ticker := time.NewTicker(s.push.KeepAlive)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case <-ticker.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.push.KeepAlive)
		err := ws.Ping(pctx)
		cancel()
		if err != nil {
			conn.Close(pushhub.ErrSlow)
			return
		}
	}
}
