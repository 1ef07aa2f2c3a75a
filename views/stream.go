package views

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/ssehub"
)

// streamBoard answers a stream request: 404 before any stream starts for an
// unknown board, then the board's events until the client goes away.
func (s *Server) streamBoard(c echo.Context, id string) error {
	ctx := c.Request().Context()
	board, err := s.store.Boards.Get(ctx, id)
	if err != nil {
		return err
	}
	if s.grip != nil && s.grip.VerifyRequest(c.Request()) {
		return s.holdBoard(c, board)
	}
	if s.hub == nil {
		return echo.NewHTTPError(http.StatusNotAcceptable, "streams are not enabled on this server")
	}
	release, err := s.holdStream(c, "sse")
	if err != nil {
		return err
	}
	ip := c.RealIP()
	// The hub may park the stream after its first event (ssehub.Config.Park):
	// then this handler returns at once, and the slot is released when the
	// stream ends.
	err = s.hub.Stream(ctx, c.Response(), c.Request(), event.BoardTopic(id), func(ctx context.Context) (event.Event, error) {
		b, err := s.store.Boards.Get(ctx, id)
		if err != nil {
			return event.Event{}, err
		}
		return event.Board(b), nil
	}, func(err error) {
		release()
		if errors.Is(err, ssehub.ErrSlowSubscriber) {
			s.metrics.DroppedSlow("sse")
			s.log.Info("dropped a slow stream subscriber", "board", id, "ip", ip)
		}
	})
	switch {
	case err == nil, errors.Is(err, ssehub.ErrParked), errors.Is(err, ssehub.ErrClosed),
		errors.Is(err, ssehub.ErrTopicClosed), errors.Is(err, ssehub.ErrSlowSubscriber):
		return nil
	}
	// The snapshot failed before anything was written: answer it properly.
	return err
}

// holdBoard answers a stream request that came through the GRIP proxy: the
// proxy holds the connection and receives the board's updates from the
// listener; this response only carries the current board. The proxy asks
// again (the next link) when it sees a gap and every couple of minutes,
// saying in Grip-Last what the client already has.
func (s *Server) holdBoard(c echo.Context, board *models.Board) error {
	channel := event.BoardTopic(board.ID)
	hold := grip.SSEHold{
		Channel: channel,
		// A hold with prev-id needs a next link: the proxy uses both to
		// recover an item it missed.
		PrevID:    strconv.FormatUint(board.Seq, 10),
		NextLink:  boardPath(board.ID) + "?stream=1",
		KeepAlive: s.keepAlive,
	}
	if err := hold.SetHeaders(c.Response().Header()); err != nil {
		return fmt.Errorf("grip hold: %w", err)
	}
	c.Response().WriteHeader(http.StatusOK)
	last, ok := lastEventID(c.Request())
	if id, found := grip.LastIDs(c.Request().Header)[channel]; found {
		last, ok = parseSeq(id)
	}
	if ok && last == board.Seq {
		return nil // the client is up to date: nothing twice
	}
	// Any other id, ahead of the board too (a restored database), gets the
	// board now: skipping it would leave the client waiting for ids that
	// may never come.
	_, err := c.Response().Write(event.Board(board).SSE())
	return err
}

// lastEventID is the client's Last-Event-ID (header, or the lastEventId query
// parameter EventSource polyfills send), when it is a sequence number.
func lastEventID(r *http.Request) (uint64, bool) {
	raw := r.Header.Get("Last-Event-ID")
	if raw == "" {
		raw = r.URL.Query().Get("lastEventId")
	}
	return parseSeq(raw)
}

func parseSeq(raw string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
	return n, err == nil
}

// holdStream takes a slot for a long-lived stream (SSE or WebSocket) under
// MAX_STREAMS and MAX_STREAMS_PER_CLIENT, counts it as a live subscriber
// and lifts the per-request deadlines, which a stream outlives; release
// gives the slot back. Over a cap it returns connlimit's error, a 503
// before anything is written.
func (s *Server) holdStream(c echo.Context, transport string) (release func(), err error) {
	freeSlot := func() {}
	if s.streams != nil {
		if freeSlot, err = s.streams.Acquire(c.RealIP()); err != nil {
			return nil, err
		}
	}
	rc := http.NewResponseController(c.Response())
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	left := s.metrics.Subscribed(transport)
	return func() { left(); freeSlot() }, nil
}
