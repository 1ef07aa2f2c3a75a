package wspark

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/leaderboardhq/leaderboard/sockpoll"
	"github.com/leaderboardhq/leaderboard/writepool"
)

// Config tunes a Server. Zero values mean the defaults.
type Config struct {
	// KeepAlive: a connection from which nothing was heard for this long is
	// pinged, and one that shows no sign of life within this long after the
	// ping is reported to its Handler (Unresponsive). Default 20s.
	KeepAlive time.Duration
	// WriteTimeout cuts a connection whose write takes longer: a client
	// that stopped reading. Default 10s.
	WriteTimeout time.Duration
	// ReadTimeout bounds reading a frame once its first byte has come: a
	// client that stalls mid-frame is closed with 1008. Default 10s.
	ReadTimeout time.Duration
	// SendBuffer, if positive, is the kernel send buffer (SO_SNDBUF, in
	// bytes) of each connection: left alone, Linux autotunes it up to
	// megabytes, and a client that stops reading is noticed (its write
	// blocks, its queue overflows) only once all of that has filled.
	SendBuffer int
	// NoPark gives every connection goroutines of its own, as on systems
	// without epoll and for TLS: the same behaviour, for comparison and
	// tests.
	NoPark bool
	// Logger receives what the server could not do. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultKeepAlive    = 20 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultReadTimeout  = 10 * time.Second
	// DefaultReadLimit is a message's size limit unless SetReadLimit says
	// otherwise.
	DefaultReadLimit = 32 << 10
	// maxCloseTimeout bounds a close: writing the close frame, then waiting
	// for the client's answer. A healthy client takes a close frame at once.
	maxCloseTimeout = time.Second
	// fastWrite bounds a shared writer's write: a healthy client's socket
	// takes what is queued at once; one that does not is finished by a
	// goroutine of its own.
	fastWrite = 2 * time.Millisecond
	// sweepEvery is how often keep-alives are due.
	sweepEvery = time.Second
)

// ErrClosed is Upgrade's error once the server is closed (shutting down):
// nothing was written, the caller answers the request.
var ErrClosed = errors.New("wspark: server closed")

// errClosedAfterHandshake: Close came during the handshake; the client got
// a close frame.
var errClosedAfterHandshake = errors.New("wspark: server closed during the handshake")

// Server holds the WebSockets of one process: its poller, shared writers
// and keep-alive sweeper, started with the first connection.
type Server struct {
	cfg          Config
	closeTimeout time.Duration
	upgrader     ws.HTTPUpgrader

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	live   sync.WaitGroup // one per connection until it is finished

	start   sync.Once
	poller  *sockpoll.Poller // nil: connections keep goroutines of their own
	writers *writepool.Pool
	stop    sync.Once
}

// New returns a Server with cfg's zero fields set to their defaults.
func New(cfg Config) *Server {
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = defaultKeepAlive
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = defaultReadTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{
		cfg:          cfg,
		closeTimeout: min(maxCloseTimeout, cfg.WriteTimeout),
		// No Negotiate: permessage-deflate is never accepted.
		upgrader: ws.HTTPUpgrader{Timeout: cfg.WriteTimeout},
		conns:    map[*Conn]struct{}{},
	}
}

// Upgrade answers the WebSocket handshake of r and returns the connection,
// which the caller must then Serve. Check everything that can refuse the
// request (origin, credentials, caps) before: once Upgrade is called, a
// bad handshake is answered by Upgrade itself (400, 426) and the error says
// why. Only ErrClosed leaves the request unanswered.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	conn, rw, _, err := s.upgrader.Upgrade(r, w)
	if err != nil {
		if conn != nil {
			_ = conn.Close()
		}
		return nil, fmt.Errorf("wspark: handshake: %w", err)
	}
	if sb, ok := conn.(interface{ SetWriteBuffer(int) error }); ok && s.cfg.SendBuffer > 0 {
		_ = sb.SetWriteBuffer(s.cfg.SendBuffer)
	}
	c := &Conn{s: s, conn: conn, limit: DefaultReadLimit, heard: time.Now()}
	// What the client sent right after its request is already in net/http's
	// buffer, which is dropped: keep those bytes.
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		c.early = bytes.Clone(b)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(s.closeTimeout))
		_, _ = conn.Write(closeFrame(StatusGoingAway, goingAway))
		_ = conn.Close()
		return nil, errClosedAfterHandshake
	}
	s.conns[c] = struct{}{}
	s.live.Add(1)
	s.mu.Unlock()
	return c, nil
}

const goingAway = "the server is shutting down"

// Close sends every connection a close frame (1001, "the server is
// shutting down") after what is being written and waits until each has
// ended, which takes at most a couple of seconds for a client that does
// not read. Later Upgrades fail with ErrClosed. Register it with
// http.Server.RegisterOnShutdown: hijacked connections are not the
// http.Server's, and Shutdown does not wait for them.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(StatusGoingAway, goingAway, true)
	}
	s.live.Wait()
	s.stop.Do(func() {
		// Orders this after the Serve that started them (if any did).
		s.start.Do(func() {})
		if s.writers != nil {
			s.writers.Stop()
		}
		if s.poller != nil {
			_ = s.poller.Close()
		}
	})
}

// Len is how many connections are open.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// startOnce starts the poller, writers and sweeper with the first Serve.
func (s *Server) startOnce() {
	s.start.Do(func() {
		if !s.cfg.NoPark {
			p, err := sockpoll.New()
			switch {
			case errors.Is(err, errors.ErrUnsupported):
			case err != nil:
				s.cfg.Logger.Warn("wspark: no poller, every WebSocket keeps goroutines of its own", "err", err)
			default:
				s.poller = p
			}
		}
		s.writers = writepool.Start(max(2, runtime.GOMAXPROCS(0)), min(sweepEvery, s.cfg.KeepAlive), s.sweep)
	})
}

// forget removes a finished connection.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.live.Done()
}

// sweep sends keep-alive pings and reports unresponsive clients.
func (s *Server) sweep(now time.Time) {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.keepAlive(now)
	}
}

// rawConn is the connection's descriptor, for the poller; nil when it has
// none (TLS).
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}
