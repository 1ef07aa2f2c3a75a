// Package app wires the web process: the database (DATABASE_URL, or the
// embedded server), its schema, the listener (embedded mode only), the relay,
// the worker's heartbeat watcher, the SSE hub and the HTTP API. cmd/web and the tests start the very same
// App, so what the tests exercise is what runs.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/boardcache"
	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/connlimit"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/internal/worker"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushhub"
	"github.com/leaderboardhq/leaderboard/rankcache"
	"github.com/leaderboardhq/leaderboard/relay"
	"github.com/leaderboardhq/leaderboard/resets"
	"github.com/leaderboardhq/leaderboard/ssehub"
	"github.com/leaderboardhq/leaderboard/views"
	"github.com/leaderboardhq/leaderboard/wspark"
)

// Options are what a caller other than the environment decides.
type Options struct {
	Logger *slog.Logger
	// Listener, if set, is where the API is served instead of HOST:PORT (a
	// test's port, or a GRIP proxy's backend that must be known first).
	Listener net.Listener
	// Backoff is the retry policy of the changefeeds (default
	// backoff.Default).
	Backoff backoff.Policy
	// StreamBuffer is how many events may queue for one stream subscriber
	// (default the hub's).
	StreamBuffer int
	// NoDemo skips seeding the demo board in embedded mode.
	NoDemo bool
	// Now is the clock of board reset schedules (default time.Now), and
	// ResetPoll how often the reset scheduler looks (default 1s); tests
	// set both.
	Now       func() time.Time
	ResetPoll time.Duration
	// Ranks, if set, is the rank cache to feed and use (tests hold it
	// warming); default a new one.
	Ranks *rankcache.Cache
}

// App is a running web process.
type App struct {
	Config config.Config
	// DB is the embedded database server; nil with DATABASE_URL.
	DB *minirethink.Server
	// Conn is where the database is, with its credentials.
	Conn  models.ConnConfig
	Store *models.Store
	Hub   *ssehub.Hub
	// Boards are the boards the relay follows, which GET of a board answers
	// from.
	Boards *boardcache.Cache
	// Metrics is what /metrics serves.
	Metrics *metrics.Metrics
	// Streams counts the live streams against MAX_STREAMS.
	Streams *connlimit.Limiter
	// Push is the push service's persistence; PushHub its connections here.
	Push    *models.Push
	PushHub *pushhub.Hub
	// Sockets are the push WebSockets, parked between frames.
	Sockets *wspark.Server
	// Ranks answers ranks from memory once warm (package rankcache).
	Ranks *rankcache.Cache
	// Demo is the demo board seeded in embedded mode (nil otherwise).
	Demo *models.Board
	// URL is the API's base URL, e.g. http://127.0.0.1:5000.
	URL string

	log     *slog.Logger
	srv     *http.Server
	served  chan error
	stopBG  context.CancelFunc
	bg      sync.WaitGroup
	closing sync.Once
	closed  error
	cleanup []func()
}

// Start brings the web process up: it returns once the API is listening
// (so "listening" is only logged after the bind succeeded) or with the
// first error.
func Start(ctx context.Context, cfg config.Config, o Options) (_ *App, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Backoff == (backoff.Policy{}) {
		o.Backoff = backoff.Default
	}
	if err := cfg.CheckWriteAuth(); err != nil {
		return nil, err
	}
	var gripCfg *grip.Config
	if cfg.GripURL != "" {
		g, err := grip.ParseURL(cfg.GripURL)
		if err != nil {
			return nil, err
		}
		gripCfg = &g
	}
	log := o.Logger
	a := &App{Config: cfg, log: log, served: make(chan error, 1), Metrics: metrics.New()}
	defer func() {
		if err != nil {
			a.runCleanup()
		}
	}()

	if err := a.openDatabase(ctx, o.Now); err != nil {
		return nil, err
	}
	if err := a.Store.EnsureSchema(ctx); err != nil {
		return nil, err
	}
	a.Push = models.NewPush(a.Store, models.History{Size: cfg.HistorySize, TTL: cfg.HistoryTTL})
	// The rank cache answers ranks once warm; it is set before anything
	// (the in-process listener among them) reads players.
	a.Ranks = o.Ranks
	if a.Ranks == nil {
		a.Ranks = rankcache.New()
	}
	a.Store.Players.SetRanker(a.Ranks)
	// The board cache hears of every write made through this process, so
	// that GET of a board reads them back at once.
	a.Boards = boardcache.New(cfg.TopN)
	a.Store.ObserveWrites(a.Boards)

	// Background work ends after the HTTP server has shut down.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBG = stopBG
	a.cleanup = append(a.cleanup, func() { stopBG(); a.bg.Wait() })

	if a.DB != nil {
		if !o.NoDemo {
			if err := a.seedDemo(ctx); err != nil {
				return nil, err
			}
		}
		wait, err := worker.Start(bg, a.Store, cfg, worker.Options{Logger: log, Backoff: o.Backoff, Metrics: a.Metrics})
		if err != nil {
			return nil, err
		}
		a.bg.Go(func() { _ = wait() })
	}
	a.bg.Go(func() { watchWorker(bg, a.Store, cfg.HeartbeatInterval, log, a.Metrics) })

	a.Hub = ssehub.New(ssehub.Config{
		KeepAlive:    cfg.KeepAliveInterval,
		Buffer:       o.StreamBuffer,
		WriteTimeout: cfg.StreamWriteTimeout,
		SendBuffer:   cfg.StreamSendBuffer,
		// Idle streams hold no goroutine and no buffers once their first
		// event is sent.
		Park:      true,
		Logger:    log,
		Delivered: func(at time.Time) { a.Metrics.Delivered("sse", at) },
	})
	maxStreams := cfg.MaxStreams
	if maxStreams == 0 {
		maxStreams = connlimit.DefaultTotal()
	}
	a.Streams = connlimit.New(maxStreams, cfg.MaxStreamsPerClient)
	a.bg.Go(func() { relay.Boards(bg, a.Store, a.Hub, a.Boards, o.Backoff, log, a.Metrics) })
	pushSource := relay.PushSource{Store: a.Store, Push: a.Push}
	a.PushHub = pushhub.New(pushhub.Config{Source: pushSource, Logger: log})
	a.Sockets = wspark.New(wspark.Config{
		KeepAlive: cfg.KeepAliveInterval,
		// A frame the client has begun must arrive like a request would.
		ReadTimeout: cfg.RequestTimeout,
		// As SSE streams': a client that stops reading is noticed within
		// seconds, not after megabytes.
		SendBuffer: cfg.StreamSendBuffer,
		Logger:     log,
	})
	a.bg.Go(func() { relay.Push(bg, pushSource, a.PushHub, o.Backoff, log, a.Metrics) })
	a.bg.Go(func() { a.Ranks.Run(bg, a.Store, o.Backoff, log) })
	a.bg.Go(func() {
		resets.Run(bg, a.Store, resets.Config{Now: o.Now, Poll: o.ResetPoll, Backoff: o.Backoff, Logger: log})
	})

	trusted, err := cfg.TrustedNets()
	if err != nil {
		return nil, err
	}
	api, err := views.New(views.Config{
		Store:            a.Store,
		TopN:             cfg.TopN,
		APIKeys:          cfg.APIKeys,
		Hub:              a.Hub,
		Boards:           a.Boards,
		Grip:             gripCfg,
		KeepAlive:        cfg.KeepAliveInterval,
		RequestTimeout:   cfg.RequestTimeout,
		Logger:           log,
		AllowedOrigins:   cfg.CORSOrigins,
		Streams:          a.Streams,
		RateLimitWrites:  cfg.RateLimitWrites,
		RateLimitStreams: cfg.RateLimitStreams,
		TrustedProxies:   trusted,
		Metrics:          a.Metrics,
		MetricsToken:     cfg.MetricsToken,
		Push: &views.PushConfig{
			Push: a.Push, Hub: a.PushHub, Sockets: a.Sockets, TokenTTL: cfg.TokenTTL, Origins: cfg.CORSOrigins,
			KeepAlive: cfg.KeepAliveInterval,
		},
	})
	if err != nil {
		return nil, err
	}
	var handler http.Handler = api
	if a.DB != nil {
		handler = a.withBackup(api)
	}
	a.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.RequestTimeout,
		IdleTimeout:       2 * cfg.RequestTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return bg },
		// Streams reach their connection to shrink its send buffer.
		ConnContext: ssehub.ConnContext,
	}
	// Shutdown waits for connections to go idle, which streams never do:
	// end them first.
	a.srv.RegisterOnShutdown(a.Hub.Close)
	a.srv.RegisterOnShutdown(a.PushHub.Close)
	a.srv.RegisterOnShutdown(a.Sockets.Close)

	l := o.Listener
	if l == nil {
		if l, err = net.Listen("tcp", net.JoinHostPort(cfg.ListenHost(), strconv.Itoa(cfg.Port))); err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	a.URL = "http://" + l.Addr().String()
	go func() { a.served <- a.srv.Serve(l) }()
	log.Info("listening", "addr", l.Addr().String(), "grip", gripCfg != nil, "top_n", cfg.TopN,
		"max_streams", maxStreams, "max_streams_per_client", cfg.MaxStreamsPerClient,
		"rate_limit_writes", cfg.RateLimitWrites, "rate_limit_streams", cfg.RateLimitStreams,
		"trusted_proxies", cfg.TrustedProxies)
	if a.DB != nil {
		args := []any{"database", a.DB.Addr()}
		if a.Demo != nil {
			args = append(args, "page", a.URL+"/", "demo_board", a.URL+"/boards/"+a.Demo.ID+"/")
		}
		if cfg.DataDir != "" {
			log.Info("embedded mode: data kept in DATA_DIR", append(args, "data_dir", cfg.DataDir)...)
		} else {
			log.Info("embedded mode: data lives in memory and is lost when web stops (set DATA_DIR to keep it)", args...)
		}
		if len(cfg.APIKeys) == 0 {
			log.Warn("embedded mode with no API_KEYS: writes are open to anyone who can reach " + l.Addr().String())
		}
	}
	return a, nil
}

// openDatabase connects to DATABASE_URL, or starts the embedded server on
// loopback with a random password, so that no other local process can use
// it to bypass API_KEYS. With DATA_DIR the data is kept there; the users
// are not (the embedded server does not store them), so a new random
// password at every start is what a restart needs.
func (a *App) openDatabase(ctx context.Context, now func() time.Time) error {
	cfg := a.Config
	if cfg.Embedded() {
		password := randomPassword()
		opts := []minirethink.Option{
			minirethink.WithPassword(password),
			minirethink.WithLogger(a.log.With("component", "minirethink")),
		}
		if cfg.DataDir != "" {
			opts = append(opts, minirethink.WithDataDir(cfg.DataDir))
		}
		srv, err := minirethink.StartAddr("127.0.0.1:0", opts...)
		if err != nil {
			return fmt.Errorf("start embedded database: %w", err)
		}
		a.DB = srv
		a.cleanup = append(a.cleanup, srv.Close)
		a.Conn = models.ConnConfig{Address: srv.Addr(), Database: cfg.EmbeddedDatabase, Username: "admin", Password: password}
	} else {
		conn, err := models.ParseURL(cfg.DatabaseURL)
		if err != nil {
			return err
		}
		a.Conn = conn
	}
	store, err := models.Open(ctx, a.Conn, models.Options{QueryTimeout: cfg.QueryTimeout, Now: now})
	if err != nil {
		return err
	}
	a.Store = store
	a.cleanup = append(a.cleanup, func() { _ = store.Close() })
	return nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

// Wait serves until ctx is done, then shuts down gracefully; or returns the
// HTTP server's error if it stops on its own.
func (a *App) Wait(ctx context.Context) error {
	select {
	case err := <-a.served:
		a.served <- err
		_ = a.Close()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	return a.Close()
}

// Close shuts down gracefully: open streams end (clients reconnect
// elsewhere), in-flight requests finish within SHUTDOWN_TIMEOUT, then the
// background work and the database stop. It is idempotent.
func (a *App) Close() error {
	a.closing.Do(func() {
		a.log.Info("shutting down")
		ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
		defer cancel()
		err := a.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			a.log.Warn("shutdown timed out, closing remaining connections")
			err = a.srv.Close()
		}
		// Parked streams and WebSockets are no longer the server's
		// connections: Shutdown started their Close without waiting for
		// their close events.
		a.Hub.Close()
		a.Sockets.Close()
		a.runCleanup()
		a.closed = err
	})
	return a.closed
}

// runCleanup undoes Start's steps, last first.
func (a *App) runCleanup() {
	for i := len(a.cleanup) - 1; i >= 0; i-- {
		a.cleanup[i]()
	}
	a.cleanup = nil
}
