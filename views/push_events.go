package views

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
)

type postEventRequest struct {
	Channel *string         `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

type postedEvent struct {
	ID      uint64 `json:"id"`
	Channel string `json:"channel"`
}

// postEvent stores an event; every web process's subscribers get it from
// the events changefeed, this one's included.
func (s *Server) postEvent(c echo.Context) error {
	var req postEventRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Channel == nil {
		return badRequest(`field "channel" is required`)
	}
	if len(req.Data) == 0 {
		return badRequest(`field "data" is required`)
	}
	if len(req.Data) > models.MaxEventData {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	var data any
	if err := json.Unmarshal(req.Data, &data); err != nil {
		return badRequest("data is not valid JSON")
	}
	seq, name, err := s.push.Push.Events.Post(c.Request().Context(), *req.Channel, data)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, postedEvent{ID: seq, Channel: name})
}
