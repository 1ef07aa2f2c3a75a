package views

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
)

// errorBody is every error response: {"error": "<human sentence>"}.
type errorBody struct {
	Error string `json:"error"`
}

// badRequest is a client mistake found by the HTTP layer itself.
func badRequest(msg string) error {
	return echo.NewHTTPError(http.StatusBadRequest, msg)
}

// retryAfterSeconds is what a 503 tells clients to wait.
const retryAfterSeconds = "5"

// handleError is the one place that maps errors to status codes and JSON.
// Domain errors carry a message meant for the caller; anything unexpected is
// logged in full and answered with a generic 500, never with its details.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	switch {
	case errors.Is(err, models.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, models.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, models.ErrUnauthorized):
		status, msg = http.StatusUnauthorized, err.Error()
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="push"`)
	case errors.Is(err, models.ErrForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, models.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, models.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "the database is unavailable, try again shortly"
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	case errors.As(err, &he):
		status = he.Code
		msg = http.StatusText(status)
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
		switch status {
		case http.StatusNotFound:
			msg = "not found"
		case http.StatusMethodNotAllowed:
			msg = "method not allowed"
		case http.StatusRequestEntityTooLarge:
			msg = "request body is larger than " + humanBytes(maxBody)
		case http.StatusUnauthorized:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="leaderboard"`)
		}
	}
	level := s.log.Debug
	if status >= 500 {
		level = s.log.Error
	}
	level("request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
		"status", status, "err", err)
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, errorBody{Error: msg})
	}
	if err != nil {
		s.log.Debug("write error response", "err", err)
	}
}
