package views

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"
)

// pushKeyHeader carries an API key (app side) or a client's token.
const pushKeyHeader = "X-Rethinkpush-Key"

// requireKey guards writes: Authorization: Bearer <key> or
// X-Rethinkpush-Key: <key> with one of keys.
// With no keys configured, writes are open (the operator chose that
// explicitly; cmd/web refuses to start that way against a real database
// unless OPEN_WRITES=true).
func requireKey(keys []string) echo.MiddlewareFunc {
	// Compare digests so neither the key's length nor its bytes leak
	// through timing.
	digests := make([][32]byte, len(keys))
	for i, k := range keys {
		digests[i] = sha256.Sum256([]byte(k))
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if len(keys) == 0 {
			return next
		}
		return func(c echo.Context) error {
			// The push API's header, or a bearer token.
			token := c.Request().Header.Get(pushKeyHeader)
			if token == "" {
				var ok bool
				if token, ok = bearer(c.Request()); !ok {
					return echo.NewHTTPError(http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>")
				}
			}
			got := sha256.Sum256([]byte(token))
			match := 0
			for _, d := range digests {
				match |= subtle.ConstantTimeCompare(got[:], d[:])
			}
			if match != 1 {
				return echo.NewHTTPError(http.StatusUnauthorized, "invalid API key")
			}
			return next(c)
		}
	}
}
