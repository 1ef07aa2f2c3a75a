// Package minirethink is an embedded, in-memory RethinkDB-compatible server
// for tests, in the spirit of miniredis and net/http/httptest.
//
// It is:
//   - a real TCP server speaking RethinkDB's client protocol as RethinkDB
//     2.4.4 does (V1_0 handshake with SCRAM-SHA-256, JSON queries, several
//     queries in flight per connection, noreply, NOREPLY_WAIT, SERVER_INFO,
//     changefeeds with CONTINUE/STOP), so the real driver
//     gopkg.in/rethinkdb/rethinkdb-go.v6 talks to it unchanged;
//   - backed by an in-memory engine (internal/reql) implementing the subset of
//     ReQL this project uses; unsupported terms fail loudly with a runtime
//     error naming them, never with a silently different answer;
//   - restartable: Restart drops every connection and changefeed and listens
//     again on the same address with the data kept, which is how tests
//     simulate a database outage.
//
// It is in memory unless given a data directory (WithDataDir), where every
// acknowledged write survives a crash; it is not clustered, and has no
// permissions beyond authentication.
//
//	srv := minirethink.RunT(t)
//	session, err := r.Connect(r.ConnectOpts{Address: srv.Addr()})
package minirethink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
	"github.com/leaderboardhq/leaderboard/minirethink/internal/storage"
	"github.com/leaderboardhq/leaderboard/minirethink/internal/wire"
)

// Server is a running embedded RethinkDB-compatible server.
type Server struct {
	tls *tls.Config // nil: plain TCP
	// engine outlives Restart: the data survives an outage, as on disk.
	engine reql.Engine
	// closeEngine syncs and releases a data directory (WithDataDir).
	closeEngine func() error
	users       *wire.Users
	cfg         wire.Config
	clock       *clock

	mu     sync.Mutex
	addr   string
	wire   *wire.Server
	served chan struct{} // closed when the current Serve loop returns
	closed bool
}

// Option configures a Server.
type Option func(*options)

type options struct {
	tls          *tls.Config
	password     string
	logger       *slog.Logger
	maxQuerySize int
	queryMemory  int64
	handshake    time.Duration
	name         string
	clock        func() time.Time
	createRace   time.Duration
	engine       reql.Engine // tests of the protocol substitute a stub
	dataDir      string
	checkpoint   int64
}

// CreateRaceWindow is how long, with WithUnserializedCreates, a new table
// or database stays unseen by other creations of the same name.
const CreateRaceWindow = time.Second

// WithUnserializedCreates reproduces a failure mode of a real RethinkDB 2.4:
// table_create and db_create are not serialized across clients, so two
// clients creating one name at the same moment both succeed and make two
// tables (or databases) of that name. Every later query naming it then
// fails with RethinkDB's OP_FAILED error "Table `db.t` is ambiguous; there
// are multiple tables with that name." ("Database `d` is ambiguous; there
// are multiple databases with that name."), until all but one are dropped
// (or renamed) by id through r.db("rethinkdb").table("table_config") or
// table("db_config"): .get(id).delete().
//
// Here a creation does not see a table or database of the same name made
// less than CreateRaceWindow (one second) ago, so creations within that
// window of each other, concurrent or not, make duplicates; an older one
// still makes the creation fail with "already exists". Without this
// option creations are serialized (the second fails), as tests expect by
// default.
func WithUnserializedCreates() Option {
	return func(o *options) { o.createRace = CreateRaceWindow }
}

// WithPassword sets the admin password (default: none, as on a fresh RethinkDB).
func WithPassword(password string) Option {
	return func(o *options) { o.password = password }
}

// WithLogger sends connection-level events to l (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithMaxQuerySize bounds the size of one query's JSON (default 64 MiB).
func WithMaxQuerySize(n int) Option {
	return func(o *options) { o.maxQuerySize = n }
}

// WithQueryMemory bounds the bytes held for incoming queries across all
// connections together (default: no bound beyond WithMaxQuerySize per
// query), so that many clients sending large queries at once cannot run
// the process out of memory: a query that does not fit waits for others to
// finish (up to 10 seconds), then is refused with a RESOURCE_LIMIT error,
// and the connection goes on; one larger than the whole budget is refused
// like a too-large query.
func WithQueryMemory(bytes int64) Option {
	return func(o *options) { o.queryMemory = bytes }
}

// WithHandshakeTimeout closes connections that have not finished the
// handshake (authenticated) within d (default 10 seconds).
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) { o.handshake = d }
}

// WithName sets the server name reported by SERVER_INFO and in table
// configurations (default "minirethink").
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// WithDataDir makes the server durable: its databases, tables, indexes and
// documents live in dir, which it creates if needed, loads at start and
// locks while it runs (a second server on dir fails with an error saying
// so). Every write is on disk before it is acknowledged, unless its
// durability is "soft" (the write's option, the query's, or its table's
// table_create option), as in RethinkDB. Users are not stored: the
// password is WithPassword's at every start.
func WithDataDir(dir string) Option {
	return func(o *options) { o.dataDir = dir }
}

// ErrDataDirLocked is the error (errors.Is) of starting a server on a data
// directory another process is using.
var ErrDataDirLocked = storage.ErrLocked

// WithCheckpointBytes sets the log size past which a durable server writes
// a snapshot and restarts its log (default 64 MiB).
func WithCheckpointBytes(n int64) Option {
	return func(o *options) { o.checkpoint = n }
}

// Run starts a server on a random loopback port.
func Run(opts ...Option) (*Server, error) {
	return StartAddr("127.0.0.1:0", opts...)
}

// Tester is the part of *testing.T (or testing.TB) that RunT needs, as in
// miniredis: the package does not import testing, so a program linking it
// does not link the test framework.
type Tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// RunT starts a server on a random loopback port, fails the test if it
// cannot, and closes it when the test ends.
func RunT(t Tester, opts ...Option) *Server {
	t.Helper()
	s, err := Run(opts...)
	if err != nil {
		t.Fatalf("minirethink: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartAddr starts a server listening on addr ("host:port"; port 0 picks one).
func StartAddr(addr string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	users := wire.NewUsers()
	if o.password != "" {
		users.Set("admin", o.password)
	}
	clk := newClock(o.clock)
	engine := o.engine
	var closeEngine func() error
	if engine == nil {
		m := reql.New()
		if o.dataDir != "" {
			var err error
			m, err = reql.Open(o.dataDir, reql.OpenOptions{Logger: o.logger, CheckpointBytes: o.checkpoint})
			if err != nil {
				return nil, fmt.Errorf("minirethink: %w", err)
			}
		}
		closeEngine = m.Close
		m.ServerName = o.name // table configurations name the server too
		m.Now = clk.Now
		m.CreateRaceWindow = o.createRace
		engine = m
	}
	s := &Server{
		tls:         o.tls,
		engine:      engine,
		closeEngine: closeEngine,
		users:       users,
		clock:       clk,
		cfg: wire.Config{
			Users:            users,
			ServerID:         wire.NewUUID(),
			ServerName:       o.name,
			MaxQuerySize:     o.maxQuerySize,
			QueryMemory:      o.queryMemory,
			HandshakeTimeout: o.handshake,
			Logger:           o.logger,
		},
	}
	s.cfg.Engine = s.engine
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if closeEngine != nil {
			_ = closeEngine()
		}
		return nil, fmt.Errorf("minirethink: listen: %w", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	return s, nil
}

// serve starts a fresh protocol server on l; the caller holds s.mu or owns s.
func (s *Server) serve(l net.Listener) {
	if s.tls != nil {
		l = tls.NewListener(l, s.tls)
	}
	w := wire.NewServer(s.cfg)
	served := make(chan struct{})
	s.wire, s.served = w, served
	go func() {
		defer close(served)
		if err := w.Serve(l); err != nil && !errors.Is(err, wire.ErrServerClosed) {
			s.logger().Error("minirethink: serve", "addr", l.Addr().String(), "err", err)
		}
	}()
}

func (s *Server) logger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Addr is the "host:port" the server listens on, for ConnectOpts.Address.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops the server, drops every connection and waits for them to end.
// The data is lost, unless it is in a data directory (WithDataDir), which
// Close syncs and releases. Close is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.stopLocked()
	if err := s.closeData(); err != nil {
		s.logger().Error("minirethink: close data directory", "err", err)
	}
}

func (s *Server) stopLocked() {
	_ = s.wire.Close()
	<-s.served
}

// closeData syncs and releases the data directory, after the last query.
func (s *Server) closeData() error {
	if s.closeEngine == nil {
		return nil
	}
	return s.closeEngine()
}

// Backup writes a consistent snapshot of every database to w while the
// server runs (writes pause only while the tables are cloned). A data
// directory holding nothing but that file, named snapshot.mrdb, starts a
// server with exactly this data.
func (s *Server) Backup(w io.Writer) error {
	b, ok := s.engine.(interface{ Backup(io.Writer) error })
	if !ok {
		return errors.New("minirethink: this engine cannot be backed up")
	}
	return b.Backup(w)
}

// Restart simulates an outage: every connection and changefeed is dropped,
// then the server listens again on the same address with the same data and
// users. Drivers see their connections fail and must reconnect.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("minirethink: Restart after Close")
	}
	s.stopLocked()
	var (
		l   net.Listener
		err error
	)
	// The port is free as soon as the listener is closed; the retries only
	// cover a concurrent process binding it for a moment.
	for attempt := 0; attempt < 50; attempt++ {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.closed = true
		return fmt.Errorf("minirethink: restart: listen again on %s: %w", s.addr, err)
	}
	s.serve(l)
	return nil
}

// SetPassword changes the admin password; "" removes it. Connections already
// open are not affected.
func (s *Server) SetPassword(password string) {
	s.users.Set("admin", password)
}

// SetUser creates a user, or changes its password, for handshakes only: the
// embedded server does not enforce permissions.
func (s *Server) SetUser(name, password string) {
	s.users.Set(name, password)
}
