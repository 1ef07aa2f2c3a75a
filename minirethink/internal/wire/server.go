// Package wire speaks RethinkDB's client protocol (V1_0 handshake with
// SCRAM-SHA-256, then JSON queries in length-prefixed frames) on behalf of a
// reql.Engine, answering byte for byte as RethinkDB 2.4.4 does where drivers
// can tell the difference.
package wire

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// Config is what a Server needs. Zero durations and sizes take the defaults.
type Config struct {
	Engine reql.Engine
	// Users are the accepted accounts; nil means a fresh server's (admin, no password).
	Users *Users
	// ServerID and ServerName are reported by SERVER_INFO. An empty ID gets a
	// random UUID, an empty name "minirethink".
	ServerID   string
	ServerName string
	// MaxQuerySize bounds one query's JSON (default DefaultMaxQuerySize).
	MaxQuerySize int
	// QueryMemory bounds the bytes held for incoming queries across all
	// connections, from reading a frame until its query has been
	// evaluated; zero is no bound. A query that does not fit waits for
	// others to finish, up to BudgetWait, and is then refused with a
	// RESOURCE_LIMIT error (the connection stays usable); one larger than
	// the whole budget is refused at once, as a too-large query is.
	QueryMemory int64
	// BudgetWait is how long a query waits for QueryMemory (default 10s).
	BudgetWait time.Duration
	// HandshakeTimeout bounds the whole handshake (default 10s).
	HandshakeTimeout time.Duration
	// FrameTimeout bounds how long the rest of a frame may take once its first
	// byte arrived, so half-sent frames do not hold a connection (default 30s).
	FrameTimeout time.Duration
	// IdleTimeout closes connections with no query for that long. Zero, the
	// default, never does: real RethinkDB keeps idle connections and drivers
	// pool them, relying on TCP keep-alive.
	IdleTimeout time.Duration
	// WriteTimeout bounds each response write, so a client that stops reading
	// cannot hold the server's goroutines (default 30s).
	WriteTimeout time.Duration
	// Logger gets connection-level events; nil discards them.
	Logger *slog.Logger
}

// Server serves the protocol on the listeners given to Serve.
type Server struct {
	cfg   Config
	log   *slog.Logger
	users *Users

	budget *budget // nil: no QueryMemory bound

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup // Serve loops and connections
}

// NewServer returns a server for cfg; it does nothing until Serve.
func NewServer(cfg Config) *Server {
	if cfg.Engine == nil {
		panic("wire: Config.Engine is nil")
	}
	if cfg.MaxQuerySize <= 0 {
		cfg.MaxQuerySize = DefaultMaxQuerySize
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.FrameTimeout <= 0 {
		cfg.FrameTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.BudgetWait <= 0 {
		cfg.BudgetWait = 10 * time.Second
	}
	if cfg.ServerID == "" {
		cfg.ServerID = NewUUID()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "minirethink"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	users := cfg.Users
	if users == nil {
		users = NewUsers()
	}
	var b *budget
	if cfg.QueryMemory > 0 {
		b = newBudget(cfg.QueryMemory)
	}
	return &Server{
		cfg:       cfg,
		budget:    b,
		log:       log,
		users:     users,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("wire: server closed")

// Serve accepts connections on l until Close, then returns ErrServerClosed.
// It closes l.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		_ = l.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: wait instead of spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("wire: accept: %w", err)
		}
		backoff = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops every Serve loop, drops every connection (cancelling their
// queries and closing their feeds) and waits until all of it has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		_ = l.Close()
	}
	for c := range s.conns {
		c.abort()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// QueryMemoryInUse reports the bytes of incoming queries held now (always
// 0 without a QueryMemory bound).
func (s *Server) QueryMemoryInUse() int64 {
	if s.budget == nil {
		return 0
	}
	return s.budget.inUse()
}

// NumConns reports the open client connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// NewUUID returns a random (version 4) UUID, the form of RethinkDB's ids.
func NewUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
