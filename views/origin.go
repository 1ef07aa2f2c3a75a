package views

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// refuseCrossSiteWrites refuses, with 403 and before any handler runs, a
// write (any method but GET, HEAD and OPTIONS) that a browser sends on
// behalf of a page on another site. Such a page needs no CORS preflight for
// a form or text/plain POST, so without this check it could write whenever
// writes are open (or the browser holds a key some other way). Reads stay
// open to every site.
//
// The decision is net/http's CrossOriginProtection (Go 1.25), in order:
//  1. Sec-Fetch-Site, which every current browser sends and no page can
//     forge: "same-origin" or "none" (typed in, bookmarked) may write;
//     "same-site" and "cross-site" may not, unless Origin is allowed.
//  2. No Sec-Fetch-Site and no Origin: not a browser, or one from before
//     2020 (curl -d, game servers, scripts): may write, as before.
//  3. Origin whose host[:port] is the request's Host: this service's own
//     page in an older browser; may write. The scheme is not compared: TLS
//     ends at the router (Heroku, Pushpin) and the service cannot know the
//     client's scheme without trusting X-Forwarded-Proto.
//  4. Origin in allowed (exact scheme://host[:port]); anything else,
//     "Origin: null" included, is refused.
//
// X-Forwarded-Host and X-Forwarded-Proto are not consulted. A cross-site
// page cannot set them without a preflight, so trusting them would be safe
// from browsers, but it would not help: behind a proxy that rewrites Host,
// current browsers are let through by Sec-Fetch-Site already, and an
// operator can list the public origin in allowed for older ones.
//
// "*" in allowed is ignored here: it never opens writes to every site.
func refuseCrossSiteWrites(allowed []string, log *slog.Logger) echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	for _, raw := range allowed {
		if strings.TrimSpace(raw) == "*" {
			continue
		}
		origin, err := normalizeOrigin(raw)
		if err == nil {
			err = cop.AddTrustedOrigin(origin)
		}
		if err != nil {
			log.Warn("ignoring an allowed origin that no browser would send", "origin", raw, "err", err)
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			err := cop.Check(req)
			if err == nil {
				return next(c)
			}
			msg := "cross-site write refused: the browser says this request comes from another site"
			if origin := req.Header.Get("Origin"); origin != "" {
				msg = fmt.Sprintf("cross-site write refused: origin %q may not write here", origin)
			}
			return echo.NewHTTPError(http.StatusForbidden, msg).SetInternal(err)
		}
	}
}

// normalizeOrigin writes an origin as browsers send it in Origin: scheme and
// host in lower case, no default port, no trailing slash, no path.
func normalizeOrigin(raw string) (string, error) {
	raw = strings.TrimSuffix(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("origin %q: %w", raw, err)
	case u.Scheme == "" || u.Host == "":
		return "", fmt.Errorf("origin %q: want scheme://host[:port]", raw)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("origin %q: want scheme://host[:port], nothing after it", raw)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]" // IPv6
		}
	}
	return scheme + "://" + host, nil
}
