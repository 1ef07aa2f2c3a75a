// Package models is the leaderboard's domain, boards and players, and their
// persistence in RethinkDB: connection, schema, and ORM-like tables with
// Get/Save/Delete and the queries the service needs.
package models

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// ConnConfig is a parsed DATABASE_URL.
type ConnConfig struct {
	Address  string // host:port
	Database string
	Username string
	Password string
}

// DefaultPort is RethinkDB's client driver port.
const DefaultPort = "28015"

// ParseURL parses rethinkdb://[user[:password]@]host[:port]/dbname.
func ParseURL(raw string) (ConnConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return ConnConfig{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if u.Scheme != "rethinkdb" {
		return ConnConfig{}, fmt.Errorf("DATABASE_URL: scheme must be rethinkdb://, got %q", u.Scheme)
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
}

// Open connects to RethinkDB. It does not create the schema: call
// EnsureSchema.
func Open(ctx context.Context, cfg ConnConfig, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	// No ReadTimeout: it would kill changefeeds, which wait as long as the
	// board is quiet. Queries are bounded by their context instead.
	session, err := r.Connect(r.ConnectOpts{
		Address:  cfg.Address,
		Database: cfg.Database,
		Username: cfg.Username,
		Password: cfg.Password,
		Timeout:  opts.ConnectTimeout,
		// Every pooled connection is opened now: the driver fills empty
		// slots lazily without a lock on the read side, a data race under
		// concurrent queries (rethinkdb/rethinkdb-go#488, open in v6.2.2).
		InitialCap: opts.MaxOpen,
		MaxOpen:    opts.MaxOpen,
	})
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
