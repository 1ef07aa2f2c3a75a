// Command web serves the leaderboard API and its live streams.
//
// Configured only by environment variables (see .env.example). With no
// DATABASE_URL it starts an embedded, in-memory RethinkDB-compatible server
// and runs the listener in-process: one command, the whole realtime path.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/dblistener"
	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/realtime"
	"github.com/leaderboardhq/leaderboard/ssehub"
	"github.com/leaderboardhq/leaderboard/views"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(2)
	}
	log := cfg.Logger("web")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("web stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := cfg.CheckWriteAuth(); err != nil {
		return err
	}
	var gripCfg *grip.Config
	if cfg.GripURL != "" {
		g, err := grip.ParseURL(cfg.GripURL)
		if err != nil {
			return err
		}
		gripCfg = &g
	}

	conn, embedded, err := database(cfg, log)
	if err != nil {
		return err
	}
	if embedded != nil {
		defer embedded.Close()
	}
	store, err := models.Open(ctx, conn, models.Options{QueryTimeout: cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.EnsureSchema(ctx); err != nil {
		return err
	}

	// Background work ends with bg, after the HTTP server has shut down.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBG()

	if embedded != nil {
		board, err := store.SeedDemo(ctx)
		if err != nil {
			return fmt.Errorf("seed demo board: %w", err)
		}
		var pub dblistener.Publisher
		if gripCfg != nil {
			pub = dblistener.GripPublisher{Publisher: grip.NewPublisher(*gripCfg)}
		}
		wg.Go(func() {
			_ = dblistener.Run(bg, store, dblistener.Config{
				TopN: cfg.TopN, Interval: cfg.PublishInterval, Publisher: pub, Logger: log,
			})
		})
		url := "http://localhost:" + strconv.Itoa(cfg.Port) + "/boards/" + board.ID + "/"
		log.Info("embedded mode: data lives in memory and is lost when web stops",
			"database", embedded.Addr(), "demo_board", url)
		if len(cfg.APIKeys) == 0 {
			log.Warn("embedded mode with no API_KEYS: writes are open to anyone who can reach this port")
		}
	}

	hub := ssehub.New(ssehub.Config{KeepAlive: cfg.KeepAliveInterval, Logger: log})
	wg.Go(func() { realtime.Relay(bg, store, hub, backoff.Default, log) })

	api := views.New(views.Config{
		Store:          store,
		TopN:           cfg.TopN,
		APIKeys:        cfg.APIKeys,
		Hub:            hub,
		Grip:           gripCfg,
		KeepAlive:      cfg.KeepAliveInterval,
		RequestTimeout: cfg.RequestTimeout,
		Logger:         log,
	})
	srv := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.Port),
		Handler:           api,
		ReadHeaderTimeout: cfg.RequestTimeout,
		IdleTimeout:       2 * cfg.RequestTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return bg },
	}
	// Shutdown waits for connections to go idle, which streams never do:
	// end them first.
	srv.RegisterOnShutdown(hub.Close)

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "port", cfg.Port, "grip", gripCfg != nil, "top_n", cfg.TopN)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown timed out, closing remaining connections")
		err = srv.Close()
	}
	return err
}

// database returns where to connect: DATABASE_URL, or a freshly started
// embedded server.
func database(cfg config.Config, log *slog.Logger) (models.ConnConfig, *minirethink.Server, error) {
	if !cfg.Embedded() {
		conn, err := models.ParseURL(cfg.DatabaseURL)
		return conn, nil, err
	}
	srv, err := minirethink.StartAddr("127.0.0.1:0", minirethink.WithLogger(log.With("component", "minirethink")))
	if err != nil {
		return models.ConnConfig{}, nil, fmt.Errorf("start embedded database: %w", err)
	}
	return models.ConnConfig{Address: srv.Addr(), Database: cfg.EmbeddedDatabase, Username: "admin"}, srv, nil
}
