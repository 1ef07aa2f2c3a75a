package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// sequenceBatch is how many values of a Sequence go in one response; longer
// ones are sent as SUCCESS_PARTIAL batches fetched with CONTINUE, as real
// RethinkDB does with large results.
const sequenceBatch = 1000

// conn is one client connection. The reader goroutine decodes frames and
// starts a goroutine per query that can block; responses are written whole
// under wmu, so several queries can be in flight.
type conn struct {
	srv *Server
	nc  net.Conn
	br  *bufio.Reader
	log *slog.Logger

	// ctx is the parent of every query's context; it ends with the connection.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // query goroutines

	wmu sync.Mutex

	mu      sync.Mutex
	entries map[int64]*entry         // tokens in use: running STARTs, open cursors and feeds
	noreply map[*entry]chan struct{} // noreply STARTs still running, for NOREPLY_WAIT
}

// entry is the server's state for one token, from START until the query is
// answered in full, fails or is stopped.
type entry struct {
	token   int64
	ctx     context.Context
	cancel  context.CancelFunc
	stopped atomic.Bool

	// serve is held while a response for this token is being produced, so
	// START and successive CONTINUEs answer in order; it guards the fields below.
	serve sync.Mutex
	done  bool
	feed  reql.Feed
	rest  []any // what is left of a long Sequence
	notes []ql2.Response_ResponseNote
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		srv:     s,
		nc:      nc,
		br:      bufio.NewReader(nc),
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		ctx:     ctx,
		cancel:  cancel,
		entries: map[int64]*entry{},
		noreply: map[*entry]chan struct{}{},
	}
}

// abort drops the connection from outside; serve notices and cleans up.
func (c *conn) abort() {
	c.cancel()
	_ = c.nc.Close()
}

func (c *conn) serve() {
	defer c.teardown()
	if tcp, ok := c.nc.(*net.TCPConn); ok {
		_ = tcp.SetKeepAlive(true)
	}
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout))
	user, err := handshake(c.nc, c.br, c.srv.users)
	if err != nil {
		c.log.Debug("minirethink: handshake failed", "err", err)
		c.closeGracefully()
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.log = c.log.With("user", user)
	c.log.Debug("minirethink: connection open")
	c.loop()
}

// loop reads and dispatches queries until the connection ends.
func (c *conn) loop() {
	for {
		f, err := c.readFrame()
		if err != nil {
			var tooLarge *errTooLarge
			if errors.As(err, &tooLarge) {
				c.log.Warn("minirethink: query too large", "size", tooLarge.size, "max", tooLarge.max)
				// Skipped unread before the answer: a driver that gets the
				// answer while still sending the query may drop it, then
				// see only the connection close.
				c.discard(int64(tooLarge.size))
				c.reply(tooLarge.token, errorResponse(&reql.Error{
					Response: ql2.Response_CLIENT_ERROR, Msg: tooLarge.Error(),
				}))
				c.closeGracefully()
				return
			}
			var noMemory *errNoMemory
			if errors.As(err, &noMemory) {
				c.log.Warn("minirethink: query memory budget exhausted", "size", noMemory.size)
				c.reply(noMemory.token, errorResponse(&reql.Error{
					Response: ql2.Response_RUNTIME_ERROR, Type: ql2.Response_RESOURCE_LIMIT,
					Msg: noMemory.Error(), Backtrace: []any{},
				}))
				// The frame is skipped unread: the next one is intact.
				_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.FrameTimeout))
				if _, err := io.CopyN(io.Discard, c.br, int64(noMemory.size)); err != nil {
					return
				}
				continue
			}
			if !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
				c.log.Debug("minirethink: connection read failed", "err", err)
			}
			return
		}
		c.dispatch(f)
	}
}

// readFrame waits for a frame as long as the idle timeout allows, then gives
// the rest of it FrameTimeout to arrive.
func (c *conn) readFrame() (frame, error) {
	if d := c.srv.cfg.IdleTimeout; d > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(d))
	} else {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	if _, err := c.br.Peek(1); err != nil {
		return frame{}, err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.FrameTimeout))
	b := c.srv.budget
	if b == nil {
		return readFrame(c.br, c.srv.cfg.MaxQuerySize)
	}
	token, size, err := readHeader(c.br)
	if err != nil {
		return frame{}, err
	}
	limit := int(min(int64(c.srv.cfg.MaxQuerySize), b.total))
	if uint64(size) > uint64(limit) {
		return frame{token: token}, &errTooLarge{token: token, size: size, max: limit}
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.BudgetWait)
	err = b.acquire(ctx, int64(size))
	cancel()
	if err != nil {
		if c.ctx.Err() != nil {
			return frame{}, err
		}
		return frame{token: token}, &errNoMemory{token: token, size: size}
	}
	// The payload's own time starts once it may be read.
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.FrameTimeout))
	f, err := readPayload(c.br, token, size, limit)
	if err != nil {
		b.release(int64(size))
		return f, err
	}
	f.held = int64(size)
	return f, nil
}

// done gives back what frame f took from the query memory budget.
func (c *conn) done(f frame) {
	if f.held > 0 {
		c.srv.budget.release(f.held)
	}
}

// discard reads what is left of a refused frame, briefly, so that closing
// the socket does not reset it before the client has read why.
func (c *conn) discard(n int64) {
	_ = c.nc.SetReadDeadline(time.Now().Add(min(c.srv.cfg.FrameTimeout, 2*time.Second)))
	_, _ = io.CopyN(io.Discard, c.br, n)
}

// closeGracefully half-closes so that whatever was written last reaches
// the client before the connection goes.
func (c *conn) closeGracefully() {
	// TCP and TLS connections both half-close.
	if hc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	_ = c.nc.Close()
}

// teardown ends every query of the connection: contexts are cancelled so
// blocked Runs and feed waits return, and every feed still open is closed.
func (c *conn) teardown() {
	c.cancel()
	_ = c.nc.Close()
	c.wg.Wait()
	c.mu.Lock()
	entries := c.entries
	c.entries = map[int64]*entry{}
	c.mu.Unlock()
	for _, e := range entries {
		e.serve.Lock()
		e.finish()
		e.serve.Unlock()
	}
	c.log.Debug("minirethink: connection closed")
}

func (c *conn) dispatch(f frame) {
	q, perr := parseQuery(f.payload)
	if perr != nil {
		c.done(f)
		c.reply(f.token, errorResponse(perr))
		return
	}
	if q.typ != ql2.Query_START {
		defer c.done(f)
	}
	switch q.typ {
	case ql2.Query_START:
		c.start(f, q)
	case ql2.Query_CONTINUE:
		c.continue_(f.token)
	case ql2.Query_STOP:
		c.stop(f.token)
	case ql2.Query_NOREPLY_WAIT:
		c.noreplyWait(f.token)
	case ql2.Query_SERVER_INFO:
		c.reply(f.token, response{typ: ql2.Response_SERVER_INFO, values: []any{map[string]any{
			"id":    c.srv.cfg.ServerID,
			"name":  c.srv.cfg.ServerName,
			"proxy": false,
		}}})
	}
}

// start runs a START in its own goroutine; f's budget is given back once
// the engine has evaluated it.
func (c *conn) start(f frame, q query) {
	token := f.token
	c.mu.Lock()
	if _, dup := c.entries[token]; dup {
		c.mu.Unlock()
		c.done(f)
		// Real RethinkDB's words for a token reused while still in use.
		c.reply(token, errorResponse(reql.ErrClient("ERROR: duplicate token %d", token)))
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	e := &entry{token: token, ctx: ctx, cancel: cancel}
	// Locked before anyone can see the entry, so a CONTINUE that overtakes
	// the START's answer waits for it.
	e.serve.Lock()
	c.entries[token] = e
	var noreplyDone chan struct{}
	if q.noreply {
		noreplyDone = make(chan struct{})
		c.noreply[e] = noreplyDone
	}
	c.mu.Unlock()

	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer e.serve.Unlock()
		if noreplyDone != nil {
			defer func() {
				c.mu.Lock()
				delete(c.noreply, e)
				c.mu.Unlock()
				close(noreplyDone)
			}()
		}
		resp, ok := c.runStart(e, q, func() { c.done(f) })
		if ok && !q.noreply {
			c.reply(token, resp)
		}
	}()
}

// runStart evaluates a START and returns its first answer; ok is false when
// there is nobody left to answer (the connection is closing). evaluated is
// called as soon as the engine is done with the query's JSON.
func (c *conn) runStart(e *entry, q query, evaluated func()) (response, bool) {
	res, err := c.runEngine(e.ctx, q)
	evaluated()
	if e.stopped.Load() {
		if res.Kind == reql.Stream && res.Feed != nil {
			res.Feed.Close()
		}
		c.forget(e)
		// A query stopped while running ends as an empty sequence, as in real RethinkDB.
		return sequenceResponse(nil), true
	}
	if err != nil {
		c.forget(e)
		return errorResponse(err), c.ctx.Err() == nil
	}
	switch res.Kind {
	case reql.Atom:
		c.forget(e)
		return atomResponse(res.Atom), true
	case reql.Sequence:
		if q.noreply || len(res.Seq) <= sequenceBatch {
			c.forget(e)
			return sequenceResponse(res.Seq), true
		}
		e.rest = res.Seq[sequenceBatch:]
		return partialResponse(res.Seq[:sequenceBatch], nil), true
	case reql.Stream:
		if res.Feed == nil {
			c.forget(e)
			return errorResponse(errors.New("engine returned a Stream without a Feed")), true
		}
		e.feed = res.Feed
		if q.noreply {
			// Nobody will ever CONTINUE a feed whose START wanted no reply.
			c.forget(e)
			return response{}, false
		}
		e.notes = res.Feed.Notes()
		return c.nextFeedBatch(e, false)
	default:
		c.forget(e)
		return errorResponse(errors.New("engine returned a result of unknown kind")), true
	}
}

// runEngine calls the engine, turning a panic into an INTERNAL error: a
// query that trips an engine bug must not take the server (and the test
// binary) down with it.
func (c *conn) runEngine(ctx context.Context, q query) (res reql.Result, err error) {
	defer c.recoverInto(&err)
	return c.srv.cfg.Engine.Run(ctx, reql.Query{Term: q.term, GlobalOpts: q.opts})
}

func (c *conn) feedNext(e *entry, wait bool) (vals []any, err error) {
	defer c.recoverInto(&err)
	return e.feed.Next(e.ctx, wait)
}

func (c *conn) recoverInto(err *error) {
	if p := recover(); p != nil {
		c.log.Error("minirethink: engine panic", "panic", p, "stack", string(debug.Stack()))
		*err = fmt.Errorf("Internal error in minirethink: %v", p)
	}
}

// nextFeedBatch answers from an open feed; the caller holds e.serve.
func (c *conn) nextFeedBatch(e *entry, wait bool) (response, bool) {
	vals, err := c.feedNext(e, wait)
	if e.stopped.Load() {
		return sequenceResponse(nil), true
	}
	if err != nil {
		c.forget(e)
		if c.ctx.Err() != nil {
			return response{}, false
		}
		return errorResponse(err), true
	}
	if vals == nil {
		vals = []any{}
	}
	return partialResponse(vals, e.notes), true
}

func (c *conn) lookup(token int64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[token]
}

func notInStreamCache(token int64) response {
	return errorResponse(reql.ErrClient("Token %d not in stream cache.", token))
}

func (c *conn) continue_(token int64) {
	e := c.lookup(token)
	if e == nil {
		c.reply(token, notInStreamCache(token))
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		e.serve.Lock()
		defer e.serve.Unlock()
		if resp, ok := c.runContinue(e); ok {
			c.reply(token, resp)
		}
	}()
}

func (c *conn) runContinue(e *entry) (response, bool) {
	switch {
	case e.stopped.Load():
		return sequenceResponse(nil), true
	case e.done:
		// The START failed or was answered in full while this CONTINUE waited.
		return notInStreamCache(e.token), true
	case e.feed != nil:
		return c.nextFeedBatch(e, true)
	default:
		n := min(len(e.rest), sequenceBatch)
		batch := e.rest[:n]
		e.rest = e.rest[n:]
		if len(e.rest) == 0 {
			c.forget(e)
			return sequenceResponse(batch), true
		}
		return partialResponse(batch, nil), true
	}
}

func (c *conn) stop(token int64) {
	c.mu.Lock()
	e := c.entries[token]
	if e != nil {
		delete(c.entries, token)
	}
	c.mu.Unlock()
	if e == nil {
		c.reply(token, notInStreamCache(token))
		return
	}
	e.stopped.Store(true)
	// Wakes a CONTINUE blocked in Feed.Next or a running START, which then
	// answer an empty sequence before this STOP does.
	e.cancel()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		e.serve.Lock()
		defer e.serve.Unlock()
		e.finish()
		// Answered even when the STOP asked for noreply: real RethinkDB does.
		c.reply(token, sequenceResponse(nil))
	}()
}

// forget ends the entry and frees its token; the caller holds e.serve.
func (c *conn) forget(e *entry) {
	c.mu.Lock()
	if c.entries[e.token] == e {
		delete(c.entries, e.token)
	}
	c.mu.Unlock()
	e.finish()
}

// finish releases the entry's resources; the caller holds e.serve.
func (e *entry) finish() {
	e.done = true
	e.rest = nil
	if e.feed != nil {
		e.feed.Close()
		e.feed = nil
	}
	e.cancel()
}

// noreplyWait answers once every noreply query started before it is done.
func (c *conn) noreplyWait(token int64) {
	c.mu.Lock()
	pending := make([]chan struct{}, 0, len(c.noreply))
	for _, done := range c.noreply {
		pending = append(pending, done)
	}
	c.mu.Unlock()
	if len(pending) == 0 {
		c.reply(token, response{typ: ql2.Response_WAIT_COMPLETE})
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for _, done := range pending {
			select {
			case <-done:
			case <-c.ctx.Done():
				return
			}
		}
		c.reply(token, response{typ: ql2.Response_WAIT_COMPLETE})
	}()
}

// reply writes one response frame. A failed write means the client is gone
// or not reading: the connection is dropped.
func (c *conn) reply(token int64, r response) {
	b := r.encode(token)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		if c.ctx.Err() == nil {
			c.log.Debug("minirethink: write failed, dropping connection", "err", err)
		}
		c.abort()
	}
}
