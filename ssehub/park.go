package ssehub

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/leaderboardhq/leaderboard/writepool"
)

// Parked streams (Config.Park, Stream): once a stream has sent its first
// event, its connection is taken over from net/http (Hijack) and the handler
// returns, so an idle subscriber holds no goroutine, no goroutine stack and
// none of net/http's per-connection buffers: only its socket and a small
// record. A few shared writers write each once-formatted, once-chunked event
// to the parked subscribers of its topic, everything queued for one socket in
// one write. A write that cannot complete at once (the client's socket buffer
// is full) moves to a goroutine of its own that waits up to WriteTimeout, so a
// stalled client never holds up a shared writer. Once a second a sweeper sends
// keep-alives to streams silent for KeepAlive and notices clients that hung up
// (a non-blocking read sees the end of the stream).
//
// The response stays an HTTP/1.1 chunked response: every event is one chunk,
// and a stream the hub ends gets its close event and the terminating chunk.
// Streams that cannot be parked (HTTP/1.0, HTTP/2, a writer without Hijack, a
// connection without a file descriptor such as TLS) keep their goroutine.

// ErrParked is what Stream returns when it handed the stream to the hub: the
// handler must return without touching the response; end is called when the
// stream ends.
var ErrParked = errors.New("ssehub: stream parked")

const (
	// fastWrite bounds a shared writer's write: a healthy client's socket takes
	// a few events at once; one that does not is finished by a goroutine of
	// its own.
	fastWrite = 2 * time.Millisecond
	// sweepEvery is how often keep-alives are due and hung-up clients noticed.
	sweepEvery = time.Second
)

var (
	keepAliveChunk = chunk(keepAliveComment)
	lastChunk      = []byte("0\r\n\r\n")
)

// chunk is b as one HTTP/1.1 chunk.
func chunk(b []byte) []byte {
	out := strconv.AppendInt(make([]byte, 0, len(b)+12), int64(len(b)), 16)
	out = append(out, '\r', '\n')
	out = append(out, b...)
	return append(out, '\r', '\n')
}

// parked is a stream the hub writes for, without a goroutine of its own.
type parked struct {
	h    *Hub
	s    *subscriber
	conn net.Conn
	raw  syscall.RawConn
	end  func(error)

	mu       sync.Mutex
	pending  []frame // chunked frames to write, in order
	final    []byte  // the close event and last chunk, once the hub ends the stream
	cause    error   // why the stream ends, once it does
	queued   bool    // with a writer, or being written by one
	finished bool
	last     time.Time // of the last write
	last1    uint64    // seq of the last event queued
}

// writers are the hub's shared writers and its sweeper, started with the
// first parked stream.
type writers struct {
	once sync.Once
	mu   sync.Mutex
	all  map[*parked]struct{}
	pool *writepool.Pool
}

func (h *Hub) startWriters() {
	w := &h.writers
	w.once.Do(func() {
		pool := writepool.Start(max(2, runtime.GOMAXPROCS(0)), min(sweepEvery, h.cfg.KeepAlive), h.sweep)
		w.mu.Lock()
		w.all = make(map[*parked]struct{})
		w.pool = pool
		w.mu.Unlock()
	})
}

// stopWriters ends the writers once every parked stream has finished.
func (h *Hub) stopWriters() {
	w := &h.writers
	w.mu.Lock()
	pool := w.pool
	w.mu.Unlock()
	if pool != nil {
		pool.Stop()
	}
}

func (h *Hub) schedule(p *parked) { h.writers.pool.Schedule(p) }

// Flush is the shared writers' call: write what is queued.
func (p *parked) Flush() { p.flush(fastWrite) }

// sweep sends keep-alives and notices clients that hung up.
func (h *Hub) sweep(now time.Time) {
	w := &h.writers
	w.mu.Lock()
	streams := make([]*parked, 0, len(w.all))
	for p := range w.all {
		streams = append(streams, p)
	}
	w.mu.Unlock()
	var buf [512]byte
	for _, p := range streams {
		if p.hungUp(buf[:]) {
			p.stop(errClientGone)
			continue
		}
		p.keepAlive(now)
	}
}

// park hands st's connection to the hub after the first event, when it can.
// It reports whether it did; if not, the caller goes on serving as before.
// last is the seq of the last event sent.
func (h *Hub) park(ctx context.Context, st *stream, s *subscriber, r *http.Request, last uint64, end func(error)) bool {
	// HEAD has no body to stream, HTTP/1.0 no chunks, HTTP/2 no Hijack.
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1 || end == nil {
		return false
	}
	conn, _, err := st.rc.Hijack()
	if err != nil {
		return false
	}
	sc, ok := conn.(syscall.Conn)
	var raw syscall.RawConn
	if ok {
		raw, err = sc.SyscallConn()
	}
	if !ok || err != nil {
		// Hijacked but unparkable cannot happen with net/http's TCP and unix
		// connections; end the stream as a cut rather than guess.
		_ = conn.Close()
		end(nil)
		return true
	}
	_ = conn.SetDeadline(time.Time{})
	p := &parked{h: h, s: s, conn: conn, raw: raw, end: end, last: time.Now(), last1: last}
	h.startWriters()
	h.mu.Lock()
	if cause := context.Cause(ctx); cause != nil {
		h.mu.Unlock()
		// The stream ended while it was being parked: finish it here.
		p.cause = cause
		if isCleanEnd(cause) {
			p.final = append(chunk(closeEvent(cause)), lastChunk...)
			p.queued = true
			h.writers.mu.Lock()
			h.writers.all[p] = struct{}{}
			h.writers.mu.Unlock()
			go p.flush(h.closeTimeout)
			return true
		}
		h.writers.mu.Lock()
		h.writers.all[p] = struct{}{}
		h.writers.mu.Unlock()
		go p.finish()
		return true
	}
	// From here the hub reaches the stream through p: Broadcast queues to it,
	// and every cancel (slow, topic closed, hub closed) stops it.
	s.park = p
	s.cancel = func(cause error) { p.stop(cause) }
	h.writers.mu.Lock()
	h.writers.all[p] = struct{}{}
	h.writers.mu.Unlock()
	// What was queued before the hand-over.
	p.mu.Lock()
	for len(s.queue) > 0 {
		p.add(<-s.queue)
	}
	p.mu.Unlock()
	h.mu.Unlock()
	return true
}

// push queues a frame for the stream (Broadcast, under the hub's read lock).
func (p *parked) push(f frame) {
	p.mu.Lock()
	if p.cause != nil {
		p.mu.Unlock()
		return
	}
	if len(p.pending) >= p.h.cfg.Buffer {
		p.mu.Unlock()
		p.stop(ErrSlowSubscriber)
		return
	}
	p.add(f)
	p.mu.Unlock()
}

// add queues f unless the client has it already; with p.mu held.
func (p *parked) add(f frame) {
	if f.seq <= p.last1 {
		return
	}
	if f.chunk == nil {
		f.chunk = chunk(f.b)
	}
	p.last1 = f.seq
	p.pending = append(p.pending, f)
	if !p.queued {
		p.queued = true
		p.h.schedule(p)
	}
}

// keepAlive queues a keep-alive comment when the stream has been silent for
// KeepAlive.
func (p *parked) keepAlive(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cause != nil || p.queued || now.Sub(p.last) < p.h.cfg.KeepAlive {
		return
	}
	p.pending = append(p.pending, frame{chunk: keepAliveChunk, keepAlive: true})
	p.queued = true
	p.h.schedule(p)
}

// hungUp reports whether the client closed its side: a non-blocking read sees
// the end of the stream. Anything the client sent is discarded.
func (p *parked) hungUp(buf []byte) bool {
	gone := false
	err := p.raw.Read(func(fd uintptr) bool {
		for {
			n, err := syscall.Read(int(fd), buf)
			switch {
			case n > 0:
				continue
			case n == 0 && err == nil:
				gone = true
			case err == syscall.EINTR:
				continue
			case err != syscall.EAGAIN:
				gone = true
			}
			return true
		}
	})
	return gone || err != nil
}

// stop ends the stream for cause: a clean end (topic or hub closed) gets the
// close event after what is queued, and the last chunk; any other is cut at
// once.
func (p *parked) stop(cause error) {
	p.mu.Lock()
	if p.cause != nil {
		p.mu.Unlock()
		return
	}
	p.cause = cause
	if isCleanEnd(cause) {
		p.final = append(chunk(closeEvent(cause)), lastChunk...)
		if !p.queued {
			p.queued = true
			p.h.schedule(p)
		} else {
			// A write in flight gets closeTimeout to finish, as in Serve.
			_ = p.conn.SetWriteDeadline(time.Now().Add(p.h.closeTimeout))
		}
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	if errors.Is(cause, ErrSlowSubscriber) {
		p.h.cfg.Logger.Info("ssehub: dropped slow subscriber", "buffer", p.h.cfg.Buffer, "remote", p.conn.RemoteAddr().String())
	}
	// Closing interrupts a write in progress; the writer then finishes it.
	_ = p.conn.Close()
	// Not here: stop may run under the hub's lock, and finish takes it.
	go p.finish()
}

// flush writes everything queued, each write bounded by limit. A write that
// does not complete within fastWrite is finished by a goroutine of its own
// with WriteTimeout, so that the shared writers move on.
func (p *parked) flush(limit time.Duration) {
	for {
		p.mu.Lock()
		frames, final, cause := p.pending, p.final, p.cause
		p.pending, p.final = nil, nil
		if cause != nil && !isCleanEnd(cause) {
			p.queued = false
			p.mu.Unlock()
			return // cut: stop has closed the connection and finishes
		}
		if len(frames) == 0 && final == nil {
			p.queued = false
			done := cause != nil // a clean end whose close event is written
			p.mu.Unlock()
			if done {
				p.finish()
			}
			return
		}
		p.mu.Unlock()

		bufs := make(net.Buffers, 0, len(frames)+1)
		for _, f := range frames {
			bufs = append(bufs, f.chunk)
		}
		if final != nil {
			bufs = append(bufs, final)
		}
		deadline := time.Now().Add(limit)
		if final != nil {
			deadline = time.Now().Add(min(limit, p.h.closeTimeout))
		}
		_ = p.conn.SetWriteDeadline(deadline)
		_, err := bufs.WriteTo(p.conn)
		if errors.Is(err, os.ErrDeadlineExceeded) && limit == fastWrite {
			// The client's socket is full: wait for it elsewhere.
			go p.slowWrite(bufs, frames, final)
			return
		}
		if err != nil {
			p.failed(err, final != nil)
			return
		}
		if p.written(frames, final) {
			return
		}
	}
}

// written records a finished write of frames (and of the final close, if
// any); it reports whether the stream ended with it.
func (p *parked) written(frames []frame, final []byte) bool {
	p.wrote(frames)
	if final == nil {
		return false
	}
	p.mu.Lock()
	p.queued = false
	p.mu.Unlock()
	p.finish()
	return true
}

// slowWrite finishes a write the shared writer gave up on, within
// WriteTimeout, then goes on flushing from this goroutine.
func (p *parked) slowWrite(rest net.Buffers, frames []frame, final []byte) {
	limit := p.h.cfg.WriteTimeout
	p.mu.Lock()
	if final != nil || isCleanEnd(p.cause) {
		limit = min(limit, p.h.closeTimeout)
	}
	p.mu.Unlock()
	_ = p.conn.SetWriteDeadline(time.Now().Add(limit))
	if _, err := rest.WriteTo(p.conn); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && final == nil {
			p.h.cfg.Logger.Info("ssehub: dropped stalled subscriber", "write_timeout", p.h.cfg.WriteTimeout, "remote", p.conn.RemoteAddr().String())
			p.mu.Lock()
			if p.cause == nil {
				p.cause = ErrSlowSubscriber
			}
			p.mu.Unlock()
		}
		p.failed(err, final != nil)
		return
	}
	if p.written(frames, final) {
		return
	}
	p.flush(p.h.cfg.WriteTimeout)
}

// wrote records a successful write.
func (p *parked) wrote(frames []frame) {
	p.mu.Lock()
	p.last = time.Now()
	p.mu.Unlock()
	if p.h.cfg.Delivered == nil {
		return
	}
	for _, f := range frames {
		if !f.keepAlive {
			p.h.cfg.Delivered(f.at)
		}
	}
}

// failed ends the stream after a write error: the client went away, or a
// cut or a timeout interrupted it.
func (p *parked) failed(err error, final bool) {
	p.mu.Lock()
	if p.cause == nil {
		p.cause = errClientGone
	}
	p.queued = false
	p.mu.Unlock()
	_ = p.conn.Close()
	p.finish()
}

// finish releases the stream once: it leaves the topic, closes the
// connection and tells the caller what Serve would have returned.
func (p *parked) finish() {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	cause := p.cause
	p.mu.Unlock()
	_ = p.conn.Close()
	h := p.h
	h.unsubscribe(p.s)
	h.writers.mu.Lock()
	delete(h.writers.all, p)
	h.writers.mu.Unlock()
	var result error // the client went away, as Serve reports it
	if isHubCause(cause) {
		result = cause
	}
	p.end(result)
	h.serving.Done()
}
