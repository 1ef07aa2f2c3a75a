// Package models is the leaderboard's domain, boards and players, and their
// persistence in RethinkDB: connection, schema, and ORM-like tables with
// Get/Save/Delete and the queries the service needs.
package models

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// ConnConfig is a parsed DATABASE_URL.
type ConnConfig struct {
	Address  string // host:port
	Database string
	Username string
	Password string
	// TLS, when set, wraps the driver's connections (rethinkdbs://).
	TLS *tls.Config
}

// DefaultPort is RethinkDB's client driver port.
const DefaultPort = "28015"

// ParseURL parses rethinkdb://[user[:password]@]host[:port]/dbname, or
// rethinkdbs://... for TLS (RethinkDB's --driver-tls-cert), verifying the
// server's name against the system's roots or, with ?ca=<file>, a private
// CA's PEM certificates.
func ParseURL(raw string) (ConnConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return ConnConfig{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if u.Scheme != "rethinkdb" && u.Scheme != "rethinkdbs" {
		return ConnConfig{}, fmt.Errorf("DATABASE_URL: scheme must be rethinkdb:// or rethinkdbs:// (TLS), got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return ConnConfig{}, errors.New("DATABASE_URL: missing host")
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !validDBName(name) {
		return ConnConfig{}, fmt.Errorf("DATABASE_URL: database name %q must be 1-64 of A-Z a-z 0-9 _ -", name)
	}
	c := ConnConfig{
		Address:  net.JoinHostPort(u.Hostname(), port),
		Database: name,
		Username: "admin",
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for key := range q {
		if key != "ca" {
			return ConnConfig{}, fmt.Errorf("DATABASE_URL: unknown parameter %q (only ca= is known)", key)
		}
	}
	if u.Scheme == "rethinkdb" {
		if q.Has("ca") {
			return ConnConfig{}, errors.New("DATABASE_URL: ca= needs TLS: use rethinkdbs://")
		}
		return c, nil
	}
	c.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if file := q.Get("ca"); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return ConnConfig{}, fmt.Errorf("DATABASE_URL: ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return ConnConfig{}, fmt.Errorf("DATABASE_URL: ca: %s holds no PEM certificate", file)
		}
		c.TLS.RootCAs = pool
	}
	return c, nil
}

func validDBName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// Options tune the connection.
type Options struct {
	// QueryTimeout bounds every query but changefeeds.
	QueryTimeout time.Duration
	// ConnectTimeout bounds dialing and the handshake.
	ConnectTimeout time.Duration
	// MaxOpen bounds the connection pool.
	MaxOpen int
	// Now is the clock that board reset schedules read (default time.Now);
	// tests move it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 5 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.MaxOpen <= 0 {
		o.MaxOpen = 20
	}
	return o
}

// Store is the database: the session and the two tables.
type Store struct {
	session *r.Session
	cfg     ConnConfig
	opts    Options
	db      r.Term

	Boards  *Boards
	Players *Players

	// repairing serializes schema repairs (Repair): several feeds, the
	// publisher and the heartbeat may find the schema missing at one moment.
	repairing sync.Mutex
	// observer hears of the standings writes made through this Store
	// (ObserveWrites).
	observer WriteObserver
}

// WriteObserver hears of every write to a board's standings made through
// a Store, once it succeeded: package boardcache, so that a web process
// reads its own writes back at once whichever route made them.
type WriteObserver interface {
	// Wrote: the player now has score on board, or was deleted (absent).
	Wrote(board, player string, score int64, absent bool)
	// Deleted: the board was deleted.
	Deleted(board string)
}

// ObserveWrites sets the Store's WriteObserver; call it before the Store
// is used by more than one goroutine.
func (st *Store) ObserveWrites(o WriteObserver) { st.observer = o }

func (st *Store) wrote(board, player string, score int64, absent bool) {
	if st.observer != nil {
		st.observer.Wrote(board, player, score, absent)
	}
}

// Open connects to RethinkDB. It does not create the schema: call
// EnsureSchema.
func Open(ctx context.Context, cfg ConnConfig, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	// No ReadTimeout: it would kill changefeeds, which wait as long as the
	// board is quiet. Queries are bounded by their context instead.
	session, err := r.Connect(r.ConnectOpts{
		Address:   cfg.Address,
		Database:  cfg.Database,
		Username:  cfg.Username,
		Password:  cfg.Password,
		Timeout:   opts.ConnectTimeout,
		TLSConfig: cfg.TLS,
		// Every pooled connection is opened now: the driver fills empty
		// slots lazily without a lock on the read side, a data race under
		// concurrent queries (rethinkdb/rethinkdb-go#488, open in v6.2.2).
		InitialCap: opts.MaxOpen,
		MaxOpen:    opts.MaxOpen,
	})
	// The driver keeps only the text of a TLS error, not its type.
	if err != nil && cfg.TLS != nil && strings.Contains(err.Error(), "x509: ") {
		return nil, fmt.Errorf("connect to %s over TLS: the server's certificate is not trusted "+
			"(is ?ca= in DATABASE_URL the CA that signed it, and does it name %s?): %w",
			cfg.Address, cfg.TLS.ServerName, err)
	}
	if err != nil {
		return nil, classify("connect to "+cfg.Address, err)
	}
	st := &Store{session: session, cfg: cfg, opts: opts, db: r.DB(cfg.Database)}
	st.Boards = &Boards{st: st, table: st.db.Table(boardsTable)}
	st.Players = &Players{st: st, table: st.db.Table(playersTable)}
	return st, nil
}

// Close closes every connection; open changefeeds end.
func (st *Store) Close() error {
	return st.session.Close()
}

// Ping checks that the database answers.
func (st *Store) Ping(ctx context.Context) error {
	ctx, cancel := st.queryContext(ctx)
	defer cancel()
	var one int
	err := r.Expr(1).ReadOne(&one, st.session, r.RunOpts{Context: ctx})
	return classify("ping", err)
}

func (st *Store) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, st.opts.QueryTimeout)
}
