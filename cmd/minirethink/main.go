// Command minirethink runs the embedded RethinkDB-compatible server on its
// own, for poking at it with a driver or the data explorer's queries, or for
// running several processes of the service against one database:
//
//	MINIRETHINK_PASSWORD=secret minirethink -addr 127.0.0.1:28015 -data ./data
//
// With -data the data lives in that directory and survives restarts and
// crashes; without it, in memory, gone when the process ends. See
// minirethink/README.md ("Running it on its own") for the flags and what it
// is not.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leaderboardhq/leaderboard/minirethink"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "minirethink:", err)
		os.Exit(1)
	}
}

// Defaults of the flags that bound what clients can make the server hold.
const (
	defaultQueryMemory      = 256 << 20
	defaultHandshakeTimeout = 5 * time.Second
)

// run parses args, starts the server, tells ready its address (for tests)
// and serves until ctx ends. Logs go to stderr.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("minirethink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:28015", "address to listen on (host:port)")
	password := fs.String("password", os.Getenv("MINIRETHINK_PASSWORD"),
		"admin password (default $MINIRETHINK_PASSWORD; none, as on a fresh RethinkDB, if that is empty too)")
	maxQuery := fs.Int("max-query-size", 64<<20, "largest query accepted, in bytes; a larger one closes its connection")
	queryMemory := fs.Int64("query-memory", defaultQueryMemory,
		"bytes held for incoming queries across all connections; a query that does not fit waits, then is refused")
	handshakeTimeout := fs.Duration("handshake-timeout", defaultHandshakeTimeout,
		"close connections that have not authenticated within this time")
	unserialized := fs.Bool("unserialized-creates", false,
		"table_create and db_create race as on a real RethinkDB 2.4: creations of one name within a second make duplicates")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (with its chain): serve TLS, as RethinkDB's --driver-tls-cert")
	tlsKey := fs.String("tls-key", "", "PEM private key of -tls-cert")
	dataDir := fs.String("data", "", "keep the data in this directory (created if needed; one process at a time): "+
		"every write is on disk before it is acknowledged unless its durability is soft. Empty: in memory")
	debug := fs.Bool("debug", false, "log every connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *maxQuery <= 0 || *queryMemory <= 0 || *handshakeTimeout <= 0 {
		return errors.New("-max-query-size, -query-memory and -handshake-timeout must be positive")
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts := []minirethink.Option{
		minirethink.WithPassword(*password),
		minirethink.WithLogger(log),
		minirethink.WithMaxQuerySize(*maxQuery),
		minirethink.WithQueryMemory(*queryMemory),
		minirethink.WithHandshakeTimeout(*handshakeTimeout),
	}
	if *unserialized {
		opts = append(opts, minirethink.WithUnserializedCreates())
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if *tlsCert != "" {
		cfg, err := minirethink.LoadTLS(*tlsCert, *tlsKey)
		if err != nil {
			return err
		}
		opts = append(opts, minirethink.WithTLS(cfg))
	}
	if *dataDir != "" {
		opts = append(opts, minirethink.WithDataDir(*dataDir))
	}
	srv, err := minirethink.StartAddr(*addr, opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *password == "" {
		warnNoPassword(stderr, log, srv.Addr())
	}
	log.Info("minirethink: listening", "addr", srv.Addr(), "password", *password != "",
		"max_query_size", *maxQuery, "query_memory", *queryMemory, "handshake_timeout", *handshakeTimeout,
		"unserialized_creates", *unserialized, "tls", *tlsCert != "", "data", *dataDir)
	if ready != nil {
		ready(srv.Addr())
	}
	<-ctx.Done()
	log.Info("minirethink: shutting down")
	return nil
}

// warnNoPassword says, where nobody can miss it, that anyone who reaches
// the port is admin.
func warnNoPassword(stderr io.Writer, log *slog.Logger, addr string) {
	host, _, _ := net.SplitHostPort(addr)
	scope := "any process on this machine"
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		scope = "anyone who can reach " + addr + " over the network"
	}
	fmt.Fprintf(stderr, "\n"+
		"*****************************************************************************\n"+
		"* WARNING: minirethink is running WITHOUT A PASSWORD.                       *\n"+
		"* %-73s *\n"+
		"* can connect as admin and read, change or drop every database.             *\n"+
		"* Set -password or MINIRETHINK_PASSWORD.                                    *\n"+
		"*****************************************************************************\n\n",
		scope)
	log.Warn("minirethink: no admin password: anyone who can connect is admin", "addr", addr)
}
