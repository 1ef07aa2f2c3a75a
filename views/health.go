package views

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// healthz: the process is up and serving HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the database answers, has every table and index the service
// needs, and the worker's heartbeat is fresh, so requests can be served and
// streams move.
func (s *Server) readyz(c echo.Context) error {
	problems, err := s.store.CheckReady(c.Request().Context())
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &notReadyError{problems: problems}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// notReadyError is /readyz's answer when something the service needs is
// missing: the problems are meant for an operator.
type notReadyError struct {
	problems []string
}

func (e *notReadyError) Error() string {
	return "not ready: " + strings.Join(e.problems, "; ")
}
