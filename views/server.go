// Package views is the HTTP API: Echo routes and handlers, the JSON shapes,
// authentication, and the one place that maps errors to status codes.
// Everything Echo-specific stays in this package.
package views

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/leaderboardhq/leaderboard/boardcache"
	"github.com/leaderboardhq/leaderboard/connlimit"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/page"
	"github.com/leaderboardhq/leaderboard/ssehub"
	"github.com/leaderboardhq/leaderboard/views/openapi"
)

// Config is what the HTTP layer needs.
type Config struct {
	Store *models.Store
	// TopN is how many players a board shows by default (and in streams).
	TopN int
	// APIKeys guard every write; empty means writes are open.
	APIKeys []string
	// Hub serves built-in SSE streams.
	Hub *ssehub.Hub
	// Boards, if set, answers GET of a board from memory (boardcache.go).
	Boards *boardcache.Cache
	// Grip, when set, makes streams that come through the GRIP proxy (a
	// verified Grip-Sig) be held by the proxy instead of by this process.
	Grip *grip.Config
	// KeepAlive is the keep-alive interval GRIP holds ask the proxy for.
	KeepAlive time.Duration
	// RequestTimeout bounds reading a request and writing a response,
	// streams excepted.
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// AllowedOrigins are the other sites (scheme://host[:port]) whose pages
	// may write; this service's own pages always may. "*" is ignored: it
	// never opens writes to every site.
	AllowedOrigins []string
	// Streams caps the live streams, in total and per client address.
	Streams *connlimit.Limiter
	// RateLimitWrites is writes a second per API key and per client address
	// (bursts of as many); RateLimitStreams is stream opens a second per
	// client address. 0 turns a limit off.
	RateLimitWrites, RateLimitStreams int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []*net.IPNet
	// Metrics, if set, records requests and streams and is served at
	// /metrics (to "Authorization: Bearer <MetricsToken>" when that is set).
	Metrics      *metrics.Metrics
	MetricsToken string
	// Push, if set, serves the push API (push.go).
	Push *PushConfig
}

// Server is the HTTP API.
type Server struct {
	echo      *echo.Echo
	store     *models.Store
	topN      int
	hub       *ssehub.Hub
	boards    *boardcache.Cache
	streams   *connlimit.Limiter
	metrics   *metrics.Metrics
	grip      *grip.Config
	keepAlive time.Duration
	timeout   time.Duration
	log       *slog.Logger
	push      *pushServer
}

// MaxLimit bounds ?limit= on every list.
const MaxLimit = 100

// New builds the API's routes. Every duration and size in cfg must be set
// (config.Defaults has them); a missing one is a wiring bug.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Logger == nil || cfg.TopN <= 0 || cfg.RequestTimeout <= 0 || cfg.KeepAlive <= 0 {
		return nil, errors.New("views: Config needs Store, Logger, TopN, RequestTimeout and KeepAlive")
	}
	s := &Server{
		echo:      echo.New(),
		store:     cfg.Store,
		topN:      cfg.TopN,
		hub:       cfg.Hub,
		boards:    cfg.Boards,
		streams:   cfg.Streams,
		metrics:   cfg.Metrics,
		grip:      cfg.Grip,
		keepAlive: cfg.KeepAlive,
		timeout:   cfg.RequestTimeout,
		log:       cfg.Logger,
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Behind Heroku's router or Pushpin the client's address is in
	// X-Forwarded-For, trusted only from TRUSTED_PROXIES.
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	// Trailing slashes are optional everywhere, as in the original.
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.deadlines)
	e.Use(cors(cfg.AllowedOrigins))
	e.Use(refuseCrossSiteWrites(cfg.AllowedOrigins, s.log))
	e.Use(endHeadAtFlush)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: humanLimit(maxBody), Skipper: isBatch}))
	e.Use(rateLimit(cfg.RateLimitStreams, "streams opened from your address", streamOpen))

	// A write counts against its address before its key is checked (so a
	// flood of bad keys is limited too), and against its key after.
	write := chain(
		rateLimit(cfg.RateLimitWrites, "writes from your address", clientAddress),
		requireKey(cfg.APIKeys),
		rateLimit(cfg.RateLimitWrites, "writes with this API key", apiKeyOf),
	)
	// Every GET answers HEAD too (uptime monitors use it), by the same
	// handler: see endHeadAtFlush.
	get := func(path string, h echo.HandlerFunc) {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	get("/healthz", s.healthz)
	get("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapi.JSON)
	})
	if cfg.Metrics != nil {
		get("/metrics", echo.WrapHandler(cfg.Metrics.Handler(cfg.MetricsToken)))
	}
	get("/readyz", s.readyz)
	get("/boards", s.listBoards)
	e.POST("/boards", s.createBoard, write, s.idempotent)
	get("/boards/:board", s.getBoard)
	e.DELETE("/boards/:board", s.deleteBoard, write)
	e.POST("/boards/:board/players", s.createPlayer, write, s.idempotent)
	get("/boards/:board/players", s.listPlayers)
	get("/boards/:board/players/:player", s.getPlayer)
	get("/boards/:board/players/:player/around", s.around)
	e.DELETE("/boards/:board/players/:player", s.deletePlayer, write)
	e.POST("/boards/:board/players/:player/score-add", s.addScore, write, s.idempotent)
	e.POST("/boards/:board/players/:player/score", s.writeScore, write, s.idempotent)
	e.POST(batchPath, s.batchScores, middleware.BodyLimit(humanLimit(maxBatchBody)), write, s.idempotent)
	if err := s.pushRoutes(cfg.Push, write); err != nil {
		return nil, err
	}

	// The live page and its files (package page).
	pages := page.New()
	for _, p := range pages.Paths() {
		get(p, echo.WrapHandler(pages))
	}
	return s, nil
}

func humanLimit(n int) string { return strings.TrimSuffix(humanBytes(n), "iB") }

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.echo.ServeHTTP(w, r)
}

// deadlines bounds reading the request and writing the response per request,
// instead of http.Server's ReadTimeout/WriteTimeout, which would cut every
// SSE stream after the same time. The stream handler lifts the write deadline.
func (s *Server) deadlines(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rc := http.NewResponseController(c.Response().Writer)
		deadline := time.Now().Add(s.timeout)
		// Unsupported only with exotic writers (tests' recorders); then the
		// server's own limits still apply.
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		return next(c)
	}
}

// logRequests logs one line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		// The route's template, never the raw path: one series per route.
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.Request(route, req.Method, res.Status, time.Since(start))
		s.log.Info("request",
			"method", req.Method,
			"path", req.URL.Path,
			"status", res.Status,
			"bytes", res.Size,
			"duration_ms", milliseconds(time.Since(start)),
			"ip", c.RealIP(),
			"request_id", res.Header().Get(echo.HeaderXRequestID),
		)
		return nil
	}
}

// milliseconds is how views logs a duration: a number named *_ms, with
// microsecond precision (slog's JSON handler would print a time.Duration as
// bare nanoseconds).
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
