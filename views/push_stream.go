package views

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/pushhub"
)

// channelStream serves GET /channels/{channel}/events?token= as an SSE
// stream of the channel's events: id: <event id>, event: message, data.
// With Last-Event-ID it resumes after that event; "event: reset" says
// history no longer held some.
func (s *Server) channelStream(c echo.Context) error {
	r := c.Request()
	if !wantsStream(r) {
		return echo.NewHTTPError(http.StatusNotAcceptable, "ask for Accept: text/event-stream")
	}
	sess, err := s.clientSession(c)
	if err != nil {
		return err
	}
	ctx := r.Context()
	name, mode, err := s.mayClientSubscribe(ctx, c.Param("channel"), sess)
	if err != nil {
		return err
	}
	var since *uint64
	if raw := r.Header.Get("Last-Event-ID"); raw != "" || r.URL.Query().Has("lastEventId") {
		if raw == "" {
			raw = r.URL.Query().Get("lastEventId")
		}
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return badRequest("Last-Event-ID must be an event id")
		}
		since = &n
	}
	release, err := s.holdStream(c, "sse")
	if err != nil {
		return err
	}
	defer release()
	conn, err := s.push.Hub.Connect(sess.User.ID, sess.Hash, sess.ExpiresAt)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the server is shutting down")
	}
	defer conn.Close(nil)
	if err := conn.Subscribe(ctx, name, mode, since); err != nil {
		return err // nothing is written yet: a proper error response
	}

	rc := http.NewResponseController(c.Response())
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.push.WriteTimeout))
		if _, err := c.Response().Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return nil
	}
	keepAlive := time.NewTicker(s.push.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-conn.Done():
			s.endStream(write, conn.Err())
			return nil
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n")) {
				return nil
			}
			continue
		case <-conn.Ready():
		}
		for m := conn.Take(); m != nil; m = conn.Take() {
			if !s.streamMessage(write, m) {
				return nil
			}
		}
	}
}

// streamMessage writes one message of a channel stream; false when the
// stream ends.
func (s *Server) streamMessage(write func([]byte) bool, m *pushhub.Message) bool {
	switch {
	case m.Type == pushhub.TypeEvent:
		return write(event.Event{Seq: m.Seq, Type: "message", Data: m.Data}.SSE())
	case m.Type == pushhub.TypeError && m.Reset:
		return write(sseNotice("reset", m))
	case m.Type == pushhub.TypeError:
		// The subscription ended (channel deleted, membership ended).
		write(sseNotice("error", m))
		return false
	}
	return true
}

// sseNotice is an error message as an SSE event without an id (a client's
// Last-Event-ID stays the last event's).
func sseNotice(typ string, m *pushhub.Message) []byte {
	return append(append([]byte("event: "+typ+"\ndata: "), m.JSON()...), "\n\n"...)
}

// endStream tells the client why the stream ends, when the server ends it.
func (s *Server) endStream(write func([]byte) bool, reason error) {
	text := ""
	switch {
	case errors.Is(reason, pushhub.ErrExpired):
		text = "token expired: register again for a new token"
	case errors.Is(reason, pushhub.ErrRevoked):
		text = "token revoked"
	default:
		return
	}
	write(sseNotice("error", pushhub.Notice("", text)))
}
