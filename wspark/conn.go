package wspark

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/leaderboardhq/leaderboard/sockpoll"
)

// MessageType is a data message's kind.
type MessageType int

// Data message types.
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

// Handler is what a connection serves: it handles the client's messages
// and supplies what to send.
type Handler interface {
	// Message handles one whole message from the client, on the goroutine
	// reading the connection: it may block (read a database, wait for room
	// to queue a reply), and the connection's next frames wait for it. ctx
	// ends when the connection does.
	Message(ctx context.Context, typ MessageType, data []byte)
	// Outbox appends the frames waiting to be sent (TextFrame's) to dst and
	// returns it, without waiting. A shared writer calls it after Wake,
	// once the socket has taken what it was given before.
	Outbox(dst [][]byte) [][]byte
	// Unresponsive is called when the client did not answer a ping within
	// KeepAlive; the handler ends the connection (Close) as it sees fit.
	Unresponsive()
	// Closed is called once, when the connection has ended and its socket
	// is closed: err is nil when the client closed it or went away, or says
	// why the server ended it (ErrStalled, or the reason of a protocol
	// error).
	Closed(err error)
}

// ErrStalled: a write to the client did not complete within WriteTimeout
// (it stopped reading); the connection was cut.
var ErrStalled = errors.New("wspark: the client stopped reading")

// errWouldBlock: a parked socket has no more bytes for now.
var errWouldBlock = errors.New("wspark: no bytes waiting")

// Conn is one WebSocket connection, from Upgrade.
type Conn struct {
	s    *Server
	conn net.Conn
	// raw is a parked connection's descriptor, set by Serve.
	raw   syscall.RawConn
	h     Handler
	limit int64
	// own, for a connection that is not parked, wakes its own writer.
	own chan struct{}

	// Read side: touched only by the goroutine reading, one at a time.
	early []byte      // bytes that came with the handshake
	msg   []byte      // a fragmented message so far
	msgOp MessageType // its type; 0 when none is under way
	// drain: after a protocol error the stream's framing is lost; what the
	// client sends is discarded until it hangs up.
	drain bool

	mu    sync.Mutex
	watch *sockpoll.Watch // parked: readability comes from the poller
	// stopRead cancels the context of the messages being handled, when
	// the connection ends; nil while nothing is read.
	stopRead context.CancelFunc
	// wake: the handler's Outbox has frames for the writers.
	wake bool
	// ctrl are control frames to send (pongs, a ping).
	ctrl [][]byte
	// final is the close frame once Close is called; closeQueued once a
	// writer has taken it (nothing is taken from the Outbox after that),
	// closeSent once it is written.
	final       []byte
	closeQueued bool
	closeSent   bool
	// prompt: the server is shutting down; a write in flight gets the close
	// timeout, not WriteTimeout.
	prompt bool
	// peerClosed: the client sent its close frame; the socket closes as
	// soon as the answer is written.
	peerClosed bool
	// queued: with a writer, or being written.
	queued   bool
	cause    error // why the server ends it
	finished bool
	linger   *time.Timer // after our close frame: the wait for the client
	heard    time.Time   // last frame from the client, or the handshake
	pinged   time.Time   // ping not yet answered by any frame; zero if none
	silent   bool        // Unresponsive was called for that ping
}

// SetReadLimit sets the largest message the client may send (default
// DefaultReadLimit); a bigger one closes the connection with 1009.
func (c *Conn) SetReadLimit(n int64) { c.limit = n }

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// Serve hands the connection to h and returns at once: its frames are read
// when they come and its messages written when Wake says so, on the
// server's goroutines or, for a connection that cannot be parked, on two
// of its own. Everything after, until h.Closed, goes through h. Serve must
// be called once for every Conn from Upgrade.
func (c *Conn) Serve(h Handler) {
	s := c.s
	s.startOnce()
	c.mu.Lock()
	c.h = h
	parked := false
	if raw := rawConn(c.conn); s.poller != nil && raw != nil {
		if len(c.early) > 0 {
			// Bytes came with the handshake, and the poller will not say
			// so: read them now; the socket is watched after.
			c.raw, parked = raw, true
			go c.readParked()
		} else if w, err := s.poller.Add(raw, c.readable); err == nil {
			// Under c.mu, so that the first reading goroutine, which may
			// start at once, finds the watch to rearm.
			c.raw, c.watch, parked = raw, w, true
		}
	}
	if !parked {
		c.own = make(chan struct{}, 1)
		go c.readLoop()
		go c.writeLoop()
	}
	// What was queued, or closed, before Serve.
	c.wake = true
	c.scheduleLocked()
	c.mu.Unlock()
}

// Wake tells the connection that the Handler's Outbox has frames: a writer
// takes them once the socket has taken what it was given before. It never
// waits, so it may be called under the caller's locks.
func (c *Conn) Wake() {
	c.mu.Lock()
	c.wake = true
	c.scheduleLocked()
	c.mu.Unlock()
}

// Close ends the connection with a close frame of code and reason, after
// what is being written and what the Outbox still gives; then the socket is
// closed once the client answers or hangs up, or after a second. Only the
// first Close counts. It never waits.
func (c *Conn) Close(code StatusCode, reason string) {
	c.close(code, reason, false)
}

// close is Close; prompt (shutdown) also bounds a write in flight by the
// close timeout instead of WriteTimeout.
func (c *Conn) close(code StatusCode, reason string, prompt bool) {
	c.closeWith(closeFrame(code, reason), prompt)
}

func (c *Conn) closeWith(frame []byte, prompt bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prompt && !c.prompt && !c.finished {
		c.prompt = true
		if c.queued {
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.s.closeTimeout))
		}
	}
	if c.finished || c.final != nil {
		return
	}
	c.final = frame
	c.scheduleLocked()
}

// scheduleLocked gets a writer to flush, unless one is at it; with c.mu
// held.
func (c *Conn) scheduleLocked() {
	if c.queued || c.finished || c.h == nil {
		return
	}
	c.queued = true
	if c.own != nil {
		select {
		case c.own <- struct{}{}:
		default:
		}
		return
	}
	c.s.writers.Schedule(c)
}

// Flush is the shared writers' call: write what is queued.
func (c *Conn) Flush() { c.flush(fastWrite) }

// keepAlive pings a connection the server has heard nothing from for
// KeepAlive, and reports one that did not answer within KeepAlive.
func (c *Conn) keepAlive(now time.Time) {
	keep := c.s.cfg.KeepAlive
	c.mu.Lock()
	if c.finished || c.final != nil || c.h == nil {
		c.mu.Unlock()
		return
	}
	if !c.pinged.IsZero() {
		report := !c.silent && now.Sub(c.pinged) >= keep
		if report {
			c.silent = true
		}
		c.mu.Unlock()
		if report {
			c.h.Unresponsive()
		}
		return
	}
	if now.Sub(c.heard) >= keep {
		c.pinged = now
		c.ctrl = append(c.ctrl, pingFrame)
		c.scheduleLocked()
	}
	c.mu.Unlock()
}

// heardFrom records a sign of life from the client.
func (c *Conn) heardFrom() {
	c.mu.Lock()
	c.heard = time.Now()
	c.pinged = time.Time{}
	c.silent = false
	c.mu.Unlock()
}

// control queues a control frame (a pong) unless the close frame went.
func (c *Conn) control(frame []byte) {
	c.mu.Lock()
	if !c.closeQueued && !c.finished {
		c.ctrl = append(c.ctrl, frame)
		c.scheduleLocked()
	}
	c.mu.Unlock()
}

// closing reports whether a close frame is queued or sent: the client's
// data is no longer handled.
func (c *Conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.final != nil || c.finished
}

// flush writes everything queued: the Outbox's frames, control frames, and
// the close frame last. Each write is bounded by limit; one that does not
// complete within fastWrite is finished by a goroutine of its own with
// WriteTimeout, so that the shared writers move on.
func (c *Conn) flush(limit time.Duration) {
	var frames [][]byte
	for {
		c.mu.Lock()
		if c.finished {
			c.queued = false
			c.mu.Unlock()
			return
		}
		if c.prompt {
			limit = min(limit, c.s.closeTimeout)
		}
		takeOut := c.wake && !c.closeQueued
		c.wake = false
		ctrl := c.ctrl
		c.ctrl = nil
		var final []byte
		if c.final != nil && !c.closeQueued {
			final, c.closeQueued = c.final, true
		}
		c.mu.Unlock()

		frames = frames[:0]
		if takeOut {
			frames = c.h.Outbox(frames)
		}
		frames = append(frames, ctrl...)
		if final != nil {
			frames = append(frames, final)
		}
		if len(frames) == 0 {
			c.mu.Lock()
			if c.wake || len(c.ctrl) > 0 || (c.final != nil && !c.closeQueued) {
				c.mu.Unlock()
				continue // queued meanwhile
			}
			c.queued = false
			c.mu.Unlock()
			return
		}
		if limit == fastWrite && c.raw != nil && len(frames) == 1 {
			// The common case, one message to a parked socket: a write that
			// does not wait needs no deadline, and setting one is a timer
			// change per write (measured: p99 -17% at 10,000 sockets).
			n, err := writeNow(c.raw, frames[0])
			if err == nil && n < len(frames[0]) {
				go c.slowWrite(net.Buffers{frames[0][n:]}, final != nil)
				return
			}
			if !c.written(err, final != nil) {
				return
			}
			clear(frames)
			continue
		}
		bufs := net.Buffers(frames)
		deadline := time.Now().Add(limit)
		if final != nil {
			deadline = time.Now().Add(min(limit, c.s.closeTimeout))
		}
		_ = c.conn.SetWriteDeadline(deadline)
		_, err := bufs.WriteTo(c.conn)
		if errors.Is(err, os.ErrDeadlineExceeded) && limit == fastWrite {
			// The client's socket is full: wait for it elsewhere. bufs is
			// what is left; frames is not reused.
			go c.slowWrite(bufs, final != nil)
			return
		}
		c.clearWriteDeadline()
		if !c.written(err, final != nil) {
			return
		}
		clear(frames) // let written frames go
	}
}

// clearWriteDeadline lifts a write's deadline once it is done: writeNow
// fails on a deadline that has passed.
func (c *Conn) clearWriteDeadline() {
	if c.raw == nil {
		return
	}
	c.mu.Lock()
	if !c.prompt { // shutdown's deadline stays
		_ = c.conn.SetWriteDeadline(time.Time{})
	}
	c.mu.Unlock()
}

// slowWrite finishes a write the shared writer gave up on, within
// WriteTimeout, then goes on flushing from this goroutine.
func (c *Conn) slowWrite(rest net.Buffers, final bool) {
	limit := c.s.cfg.WriteTimeout
	c.mu.Lock()
	if final || c.prompt {
		limit = min(limit, c.s.closeTimeout)
	}
	// Under the lock: a prompt close sets its shorter deadline after this.
	_ = c.conn.SetWriteDeadline(time.Now().Add(limit))
	c.mu.Unlock()
	_, err := rest.WriteTo(c.conn)
	c.clearWriteDeadline()
	if !c.written(err, final) {
		return
	}
	c.flush(c.s.cfg.WriteTimeout)
}

// written records the end of a write and reports whether flushing goes
// on.
func (c *Conn) written(err error, final bool) bool {
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !final {
			c.s.cfg.Logger.Info("wspark: cut a client that stopped reading",
				"write_timeout", c.s.cfg.WriteTimeout, "remote", c.conn.RemoteAddr().String())
			c.end(ErrStalled)
			return false
		}
		c.end(nil)
		return false
	}
	if !final {
		return true
	}
	c.mu.Lock()
	c.closeSent = true
	c.queued = false
	peerClosed := c.peerClosed
	if !peerClosed && !c.finished {
		// Wait for the client's answer (or its hang-up) before closing: a
		// socket closed with the client's bytes unread is reset, and a reset
		// can destroy the close frame before the client reads it.
		c.linger = time.AfterFunc(c.s.closeTimeout, func() { c.end(nil) })
	}
	c.mu.Unlock()
	if peerClosed {
		c.end(nil)
		return false
	}
	if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	return false
}

// end finishes the connection once: the socket is closed, the handler
// told. cause is kept if it is the first reason.
func (c *Conn) end(cause error) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished = true
	if c.cause == nil {
		c.cause = cause
	}
	cause = c.cause
	if c.linger != nil {
		c.linger.Stop()
	}
	if c.watch != nil {
		c.watch.Remove()
	}
	if c.own != nil {
		close(c.own)
	}
	stopRead := c.stopRead
	c.mu.Unlock()
	_ = c.conn.Close()
	if stopRead != nil {
		stopRead()
	}
	if c.h != nil {
		c.h.Closed(cause)
	}
	c.s.forget(c)
}

// readable is the poller's call: the parked socket has bytes, or the client
// hung up. It must not block.
func (c *Conn) readable() { go c.readParked() }

// readParked handles what the client sent, then parks the socket again.
func (c *Conn) readParked() {
	// Also orders this goroutine after the one that rearmed the socket
	// (under c.mu): the read side's fields pass from one to the next.
	ctx, done := c.reading()
	if ctx == nil {
		return
	}
	err := c.readFrames(ctx, true)
	done()
	if err != nil {
		c.readFailed(err)
		if errors.Is(err, errPeerClosed) {
			return // nothing more is read; the socket closes after the answer
		}
	}
	c.rearm()
}

func (c *Conn) rearm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	var err error
	if c.watch == nil {
		c.watch, err = c.s.poller.Add(c.raw, c.readable)
	} else {
		err = c.watch.Rearm()
	}
	if err != nil {
		// Closed under us: the socket's end is already under way.
		go c.end(nil)
	}
}

// readLoop is the reading goroutine of a connection that is not parked.
func (c *Conn) readLoop() {
	ctx, done := c.reading()
	if ctx == nil {
		return
	}
	defer done()
	for {
		err := c.readFrames(ctx, false)
		c.readFailed(err)
		if errors.Is(err, errPeerClosed) || c.ended() {
			return
		}
	}
}

// writeLoop is the writing goroutine of a connection that is not parked:
// no fast write and hand-over, since a TLS connection whose write timed out
// is broken for good.
func (c *Conn) writeLoop() {
	for range c.own {
		c.flush(c.s.cfg.WriteTimeout)
	}
}

// reading starts a reading goroutine's turn: the context of the messages
// it handles (a parked connection keeps none while idle) and the function
// that ends it; a nil context if the connection has ended.
func (c *Conn) reading() (context.Context, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopRead = cancel
	return ctx, func() {
		c.mu.Lock()
		c.stopRead = nil
		c.mu.Unlock()
		cancel()
	}
}

func (c *Conn) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished
}

// errPeerClosed: the client's close frame came; nothing more is read.
var errPeerClosed = errors.New("wspark: the client closed the connection")

// readFailed ends reading: a protocol error closes with its code, and what
// the client sends after is discarded until it hangs up; the client's
// close frame is answered by the writer; anything else (the client hung
// up, or reset) ends the connection.
func (c *Conn) readFailed(err error) {
	var ce *closeError
	switch {
	case errors.As(err, &ce):
		c.drain = !ce.framed
		c.msg, c.msgOp = nil, 0
		c.mu.Lock()
		if c.cause == nil {
			c.cause = ce
		}
		c.mu.Unlock()
		c.Close(ce.code, ce.reason)
	case errors.Is(err, errPeerClosed):
	default:
		c.end(nil)
	}
}

// input is what the frame reader reads: the handshake's leftover bytes,
// then the socket. At a frame boundary a parked socket is read without
// waiting (errWouldBlock when it has nothing); inside a frame the reader
// waits, up to the deadline set for the frame.
type input struct {
	c        *Conn
	parked   bool
	inFrame  bool
	deadline bool // a read deadline is set
}

func (in *input) Read(p []byte) (int, error) {
	c := in.c
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		if len(c.early) == 0 {
			c.early = nil
		}
		return n, nil
	}
	if in.parked && !in.inFrame {
		return readNow(c.raw, p)
	}
	return c.conn.Read(p)
}

// writeNow writes what the socket takes of b at once: n < len(b) when it
// is full (a goroutine of the connection's own waits for the rest).
func writeNow(raw syscall.RawConn, b []byte) (int, error) {
	n, err := now(raw.Write, syscall.Write, b)
	if errors.Is(err, errWouldBlock) {
		return 0, nil
	}
	return n, err
}

// readNow reads what the socket has, without waiting (the poller does).
func readNow(raw syscall.RawConn, p []byte) (int, error) {
	n, err := now(raw.Read, syscall.Read, p)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// now runs one read or write (op) on the descriptor through raw's Read or
// Write (access), never waiting for readiness: EAGAIN is errWouldBlock.
func now(access func(func(fd uintptr) bool) error, op func(fd int, p []byte) (int, error), p []byte) (int, error) {
	var n int
	var oerr error
	err := access(func(fd uintptr) bool {
		for {
			n, oerr = op(int(fd), p)
			if oerr != syscall.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case oerr == syscall.EAGAIN:
		return 0, errWouldBlock
	case oerr != nil:
		return 0, oerr
	}
	return n, nil
}
