package views

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// corsHeaders are the request headers a page on another site may send.
var corsHeaders = []string{echo.HeaderAuthorization, echo.HeaderContentType, "Last-Event-ID", "Idempotency-Key"}

// cors answers other sites' pages with Echo's CORS middleware, in two
// policies: reads and streams for every origin in origins (every origin when
// it is empty or holds "*"), writes only for origins listed explicitly, since
// "*" must never let any site's page write. A preflight is judged by the
// method it asks for.
func cors(origins []string) echo.MiddlewareFunc {
	explicit := slices.DeleteFunc(slices.Clone(origins), func(o string) bool { return o == "*" })
	readOrigins := origins
	if len(origins) == 0 || slices.Contains(origins, "*") {
		readOrigins = []string{"*"}
	}
	reads := middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  readOrigins,
		AllowMethods:  []string{http.MethodGet, http.MethodHead},
		AllowHeaders:  corsHeaders,
		ExposeHeaders: []string{"Retry-After"},
		MaxAge:        600,
	})
	writes := middleware.CORSWithConfig(middleware.CORSConfig{
		// A function, not AllowOrigins: an empty AllowOrigins means "*".
		AllowOriginFunc: func(origin string) (bool, error) { return slices.Contains(explicit, origin), nil },
		AllowMethods:    []string{http.MethodPost, http.MethodDelete},
		AllowHeaders:    corsHeaders,
		ExposeHeaders:   []string{echo.HeaderLocation, "Retry-After", "Idempotent-Replayed"},
		MaxAge:          600,
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		read, write := reads(next), writes(next)
		return func(c echo.Context) error {
			method := c.Request().Method
			if method == http.MethodOptions {
				method = c.Request().Header.Get(echo.HeaderAccessControlRequestMethod)
			}
			switch method {
			case http.MethodGet, http.MethodHead, "":
				return read(c)
			}
			return write(c)
		}
	}
}
