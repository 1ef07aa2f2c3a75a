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
}

func (o Options) withDefaults() Options {
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

const (
	boardsTable  = "boards"
	playersTable = "players"
	// rankIndex orders a board's players best first when read descending:
	// [board, score, -reached_at]. A compound index cannot mix directions,
	// so the tie-break is negated: at equal scores, whoever reached the
	// score first (smaller reached_at) sorts higher.
	rankIndex  = "rank"
	boardIndex = "board"
)

// EnsureSchema creates the database, tables and indexes that are missing and
// waits for the indexes. Both processes call it at start; it is idempotent and
// safe to run concurrently (a racing creator's "already exists" is success).
func (st *Store) EnsureSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run := r.RunOpts{Context: ctx}

	var dbs []string
	if err := r.DBList().ReadAll(&dbs, st.session, run); err != nil {
		return classify("list databases", err)
	}
	if !containsString(dbs, st.cfg.Database) {
		if _, err := r.DBCreate(st.cfg.Database).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create database", err)
		}
	}
	var tables []string
	if err := st.db.TableList().ReadAll(&tables, st.session, run); err != nil {
		return classify("list tables", err)
	}
	for _, name := range []string{boardsTable, playersTable} {
		if containsString(tables, name) {
			continue
		}
		if _, err := st.db.TableCreate(name).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create table "+name, err)
		}
	}
	var indexes []string
	if err := st.Players.table.IndexList().ReadAll(&indexes, st.session, run); err != nil {
		return classify("list indexes", err)
	}
	want := map[string]any{
		boardIndex: "board",
		rankIndex: func(p r.Term) any {
			return []any{p.Field("board"), p.Field("score"), p.Field("reached_at").Mul(-1)}
		},
	}
	for name, fn := range want {
		if containsString(indexes, name) {
			continue
		}
		var err error
		if field, ok := fn.(string); ok {
			_, err = st.Players.table.IndexCreate(field).RunWrite(st.session, run)
		} else {
			_, err = st.Players.table.IndexCreateFunc(name, fn).RunWrite(st.session, run)
		}
		if err != nil && !alreadyExists(err) {
			return classify("create index "+name, err)
		}
	}
	if err := st.Players.table.IndexWait().Exec(st.session, r.ExecOpts{Context: ctx}); err != nil {
		return classify("wait for indexes", err)
	}
	return nil
}

func alreadyExists(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already exists")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
