// Command dblistener is the worker process: it follows the players
// changefeed and keeps every board's top N (and, with GRIP_URL, the proxy's
// streams) current. Run exactly one per deployment.
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
	"syscall"
	"time"

	// Board reset time zones (reset_tz) work on hosts without a zoneinfo
	// database too.
	_ "time/tzdata"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/worker"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/resets"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dblistener:", err)
		os.Exit(2)
	}
	log := cfg.Logger("dblistener")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("dblistener stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.Embedded() {
		return errors.New("DATABASE_URL is not set: in embedded mode web runs the listener itself; " +
			"start dblistener only against a shared RethinkDB")
	}
	conn, err := models.ParseURL(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, conn, models.Options{QueryTimeout: cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.EnsureSchema(ctx); err != nil {
		return err
	}
	m := metrics.New()
	if cfg.MetricsAddr != "" {
		stop, err := serveMetrics(cfg.MetricsAddr, m.Handler(cfg.MetricsToken), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	// The worker runs board resets too; every process may, and the
	// database lets one of them do each.
	resetsDone := make(chan struct{})
	resetsCtx, stopResets := context.WithCancel(ctx)
	go func() {
		defer close(resetsDone)
		resets.Run(resetsCtx, store, resets.Config{Logger: log})
	}()
	defer func() { stopResets(); <-resetsDone }()
	wait, err := worker.Start(ctx, store, cfg, worker.Options{Logger: log, Metrics: m})
	if err != nil {
		return err
	}
	return wait()
}

// serveMetrics serves /metrics on addr until stop is called: the worker has
// no HTTP server of its own.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(l) }()
	log.Info("serving metrics", "addr", l.Addr().String())
	return func() { _ = srv.Close() }, nil
}
