package views

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/connlimit"
	"github.com/leaderboardhq/leaderboard/models"
)

// errorBody is every error response: {"error": "<human sentence>"}.
type errorBody struct {
	Error string `json:"error"`
	// Problems lists what keeps the service from being ready (/readyz).
	Problems []string `json:"problems,omitempty"`
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
	var problems []string
	var he *echo.HTTPError
	var nr *notReadyError
	var rl *rateLimitedError
	switch {
	case errors.As(err, &rl):
		status, msg = http.StatusTooManyRequests, rl.Error()
		c.Response().Header().Set("Retry-After", "1")
	case errors.As(err, &nr):
		status, msg, problems = http.StatusServiceUnavailable, nr.Error(), nr.problems
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	case isDomain(err):
		status, msg = domainStatus(err)
		switch {
		case errors.Is(err, models.ErrUnauthorized):
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="push"`)
		case status == http.StatusServiceUnavailable, errors.Is(err, models.ErrInFlight):
			c.Response().Header().Set("Retry-After", retryAfterSeconds)
		}
	case errors.Is(err, connlimit.ErrTooManyFromClient):
		status, msg = http.StatusServiceUnavailable, "too many live streams from your address, close some and try again shortly"
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	case errors.Is(err, connlimit.ErrTooManyStreams):
		status, msg = http.StatusServiceUnavailable, "this server holds as many live streams as it can, try again shortly"
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
			msg = "request body is larger than " + humanBytes(bodyLimit(c))
		case http.StatusUnauthorized:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="leaderboard"`)
		}
	}
	// Only our own failures are errors: a client's mistake, or a limit it
	// ran into, must not let anyone fill the error log.
	level := s.log.Debug
	switch {
	case errors.Is(err, models.ErrSchemaMissing):
		s.metrics.DBError("schema_missing")
	case errors.Is(err, models.ErrUnavailable):
		s.metrics.DBError("unavailable")
	case status == http.StatusInternalServerError:
		s.metrics.DBError("other")
	}
	// An unready service is /readyz's answer, not a failure: the worker
	// watcher logs its transitions.
	switch {
	case nr != nil:
	case status == http.StatusInternalServerError:
		level = s.log.Error
	case errors.Is(err, models.ErrUnavailable):
		level = s.log.Warn
	}
	level("request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
		"status", status, "err", err)
	if err := writeError(c, status, errorBody{Error: msg, Problems: problems}); err != nil {
		s.log.Debug("write error response", "err", err)
	}
}

// isDomain: err is one of the domain's kinds, which domainStatus maps.
func isDomain(err error) bool {
	for _, kind := range []error{models.ErrNotFound, models.ErrInvalid, models.ErrUnauthorized, models.ErrForbidden,
		models.ErrConflict, models.ErrUnavailable, models.ErrInFlight, models.ErrKeyReused} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// domainStatus is the status and the sentence of a domain error, for
// handleError and for the per-item results of a batch.
func domainStatus(err error) (int, string) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, models.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, models.ErrUnauthorized):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, models.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrInFlight):
		return http.StatusConflict, err.Error()
	case errors.Is(err, models.ErrKeyReused):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, models.ErrUnavailable):
		// ErrSchemaMissing included: the processes re-create the schema.
		return http.StatusServiceUnavailable, "the database is unavailable, try again shortly"
	}
	return http.StatusInternalServerError, "internal error"
}

// writeError sends {"error": msg}; for HEAD, the same status and headers
// (Content-Type, Content-Length) with no body.
func writeError(c echo.Context, status int, e errorBody) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err // a string always marshals
	}
	body = append(body, '\n') // as c.JSON writes it
	if c.Request().Method != http.MethodHead {
		return c.JSONBlob(status, body)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	c.Response().WriteHeader(status)
	return nil
}
