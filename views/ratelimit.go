package views

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// rateLimitedError is a request over its rate limit: a 429 with Retry-After.
type rateLimitedError struct{ what string }

func (e *rateLimitedError) Error() string {
	return "too many " + e.what + ", slow down and try again in a second"
}

// rateLimit allows each identity perSecond requests a second, in bursts of
// as many, with Echo's rate limiter; id names the identity a request counts
// against, or says it does not count. perSecond 0 turns the limit off.
func rateLimit(perSecond int, what string, id func(echo.Context) (string, bool)) echo.MiddlewareFunc {
	if perSecond <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			_, counts := id(c)
			return !counts
		},
		IdentifierExtractor: func(c echo.Context) (string, error) {
			key, _ := id(c)
			return key, nil
		},
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: perSecond, ExpiresIn: 3 * time.Minute,
		}),
		DenyHandler: func(echo.Context, string, error) error { return &rateLimitedError{what: what} },
	})
}

// clientAddress: every request counts against its client's address.
func clientAddress(c echo.Context) (string, bool) { return c.RealIP(), true }

// apiKeyOf: a request carrying an API key counts against the key (its
// digest: the limiter's memory holds no secrets).
func apiKeyOf(c echo.Context) (string, bool) {
	key, ok := bearer(c.Request())
	if !ok {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:]), true
}

// streamOpen: only the opening of a long-lived stream (SSE or WebSocket)
// counts, against its client's address; plain reads, health checks and
// writes never do.
func streamOpen(c echo.Context) (string, bool) {
	r := c.Request()
	if r.Method != http.MethodGet {
		return "", false
	}
	if wantsStream(r) || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return c.RealIP(), true
	}
	return "", false
}

// chain is the middlewares mw applied in order, as one.
func chain(mw ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		for i := len(mw) - 1; i >= 0; i-- {
			next = mw[i](next)
		}
		return next
	}
}

// ipExtractor is where a client's address comes from: the connection, or
// the X-Forwarded-For entries that the trusted proxies appended. Without
// trusted proxies, X-Forwarded-For is ignored: anyone can write it, and it
// would let a client spread itself over many addresses' limits.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// describeRate is a limit as the startup log says it.
func describeRate(perSecond int) string {
	if perSecond <= 0 {
		return "off"
	}
	return fmt.Sprintf("%d/s", perSecond)
}

// bearer is the key of an "Authorization: Bearer <key>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}
