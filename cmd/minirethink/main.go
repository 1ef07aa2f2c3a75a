// Command minirethink runs the embedded RethinkDB-compatible server on its
// own, for poking at it with a driver or the data explorer's queries:
//
//	minirethink -addr 127.0.0.1:28015 -password secret
//
// Data lives in memory and is gone when the process ends.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/leaderboardhq/leaderboard/minirethink"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "minirethink:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("minirethink", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:28015", "address to listen on (host:port)")
	password := fs.String("password", "", "admin password (default: none, as on a fresh RethinkDB)")
	debug := fs.Bool("debug", false, "log every connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := minirethink.StartAddr(*addr, minirethink.WithPassword(*password), minirethink.WithLogger(log))
	if err != nil {
		return err
	}
	log.Info("minirethink: listening", "addr", srv.Addr(), "password", *password != "")
	<-ctx.Done()
	log.Info("minirethink: shutting down")
	srv.Close()
	return nil
}
