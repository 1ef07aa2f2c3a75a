// Command web serves the leaderboard API and its live streams.
//
// Configured only by environment variables (see .env.example). With no
// DATABASE_URL it starts an embedded, in-memory RethinkDB-compatible server
// and runs the listener in-process: one command, the whole realtime path.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	// Board reset time zones (reset_tz) work on hosts without a zoneinfo
	// database too.
	_ "time/tzdata"

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
	if code, stop := parseArgs(os.Args[1:], os.Stderr); stop {
		os.Exit(code)
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

// parseArgs handles the command line, which holds nothing but -h: it says
// whether to stop, and with which exit code, before anything starts.
func parseArgs(args []string, out io.Writer) (code int, stop bool) {
	flags := flag.NewFlagSet("web", flag.ContinueOnError)
	flags.SetOutput(out)
	flags.Usage = func() { fmt.Fprint(out, usage) }
	switch err := flags.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		return 2, true
	case flags.NArg() > 0:
		fmt.Fprintf(out, "web: unexpected argument %q\n\n%s", flags.Arg(0), usage)
		return 2, true
	}
	return 0, false
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := app.Start(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	return a.Wait(ctx)
}
