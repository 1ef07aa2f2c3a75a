// Command dblistener is the worker process: it follows the players
// changefeed and keeps every board's top N (and, with GRIP_URL, the proxy's
// streams) current. Run exactly one per deployment.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	// Board reset time zones (reset_tz) work on hosts without a zoneinfo
	// database too.
	_ "time/tzdata"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/dblistener"
	"github.com/leaderboardhq/leaderboard/grip"
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
	var sink dblistener.Sink
	if cfg.GripURL != "" {
		g, err := grip.ParseURL(cfg.GripURL)
		if err != nil {
			return err
		}
		sink = dblistener.GripSink{Publisher: grip.NewPublisher(g)}
	}
	store, err := models.Open(ctx, conn, models.Options{QueryTimeout: cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.EnsureSchema(ctx); err != nil {
		return err
	}
	log.Info("started", "top_n", cfg.TopN, "publish_interval", cfg.PublishInterval, "grip", sink != nil,
		"heartbeat_interval", cfg.HeartbeatInterval)
	// The worker runs board resets too; every process may, and the
	// database lets one of them do each.
	resetsDone := make(chan struct{})
	go func() {
		defer close(resetsDone)
		resets.Run(ctx, store, resets.Config{Logger: log})
	}()
	defer func() { <-resetsDone }()
	return dblistener.Run(ctx, store, dblistener.Config{
		TopN: cfg.TopN, Interval: cfg.PublishInterval, Sink: sink, Logger: log,
		HeartbeatInterval: cfg.HeartbeatInterval, HeartbeatStaleAfter: cfg.HeartbeatStaleAfter,
	})
}
