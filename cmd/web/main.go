// Command web serves the leaderboard API and its live streams.
//
// Configured only by environment variables (see .env.example). With no
// DATABASE_URL it starts an embedded, in-memory RethinkDB-compatible server
// and runs the listener in-process: one command, the whole realtime path.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
)

const usage = `Usage: web

Serves the leaderboard API, its live streams and the embedded database when
DATABASE_URL is unset. It takes no arguments: every setting is an environment
variable (PORT, HOST, DATABASE_URL, API_KEYS, ...); .env.example lists them
all with their defaults.
`

func main() {
	flags := flag.NewFlagSet("web", flag.ExitOnError)
	flags.Usage = func() { fmt.Fprint(flags.Output(), usage) }
	_ = flags.Parse(os.Args[1:]) // -h prints usage and exits 0; unknown flags exit 2
	if flags.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "web: unexpected argument %q\n\n%s", flags.Arg(0), usage)
		os.Exit(2)
	}
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
	a, err := app.Start(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	return a.Wait(ctx)
}
