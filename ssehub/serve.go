package ssehub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leaderboardhq/leaderboard/event"
)

var (
	keepAliveComment = []byte(": keep-alive\n\n")
	// errClientGone is the cancel cause when the request's own context ends; Serve
	// reports it as a normal end (nil).
	errClientGone = errors.New("ssehub: client gone")
	// errStopped: the stream's context ended before a write began, so nothing was
	// left half-written and the response can still end cleanly.
	errStopped = errors.New("ssehub: stream stopped")
	// A deadline in the past makes a blocked write return at once.
	longAgo = time.Unix(1, 0)
)

// Serve streams topic to w until the client goes away or ctx is done (it returns
// nil), the subscriber falls behind (ErrSlowSubscriber), the topic is closed
// (ErrTopicClosed) or the hub is closed (ErrClosed).
//
// It subscribes before it calls snapshot, so an event published while the snapshot
// is being read is queued rather than lost; queued events not newer than the last
// one sent are skipped, so the client never goes backwards. The snapshot is sent
// first unless the client's Last-Event-ID (the header, or the lastEventId query
// parameter that EventSource polyfills send) equals its Seq. Any other id, ahead
// of the snapshot, behind it, or not an unsigned integer, gets the snapshot.
//
// If snapshot fails, Serve returns its error (wrapped) and has written nothing, so
// the caller picks the status (note that EventSource does not retry after a
// non-200 answer). In every other case the response is a 200 event stream that
// ends when Serve returns, and the client reconnects after the retry hint. When
// the topic or the hub is closed, the stream's last event is
//
//	event: close
//	data: {"reason":"board deleted"}
//
// ("server shutting down" for Close), without an id so the client keeps its
// Last-Event-ID, and the response ends properly. A subscriber that fell behind
// is cut off instead, and so is one that does not take the close event within
// a second (or WriteTimeout, if shorter).
//
// snapshot must honour its context: Close waits for Serve to return. w must let
// http.ResponseController set write deadlines (net/http's writers do, and so does
// Echo's Response through Unwrap), or a client that stops reading can only be
// dropped when its kernel buffers drain. The http.Server should have ConnContext
// installed, so that a client that stops reading is noticed within seconds
// (Config.SendBuffer).
func (h *Hub) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, topic string, snapshot func(context.Context) (event.Event, error)) error {
	return h.serve(ctx, w, r, topic, snapshot, nil)
}

// Stream is Serve for a caller that holds something for the stream's
// lifetime (a slot under a cap, a gauge): end is called exactly once, with
// what Serve would have returned, when the stream ends. With Config.Park, once
// the first event is sent Stream may hand the connection to the hub's shared
// writers and return ErrParked at once: the handler must then return without
// touching w, and end is called later, from the hub. Every guarantee of Serve
// holds for a parked stream; the caller's ctx no longer ends it (the hub,
// the client or a drop does).
func (h *Hub) Stream(ctx context.Context, w http.ResponseWriter, r *http.Request, topic string, snapshot func(context.Context) (event.Event, error), end func(error)) error {
	err := h.serve(ctx, w, r, topic, snapshot, end)
	if !errors.Is(err, ErrParked) {
		end(err)
	}
	return err
}

func (h *Hub) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, topic string, snapshot func(context.Context) (event.Event, error), end func(error)) error {
	lastID, haveID := lastEventID(r)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// ctx is usually r.Context() already, but when it is not, a client that went
	// away must still end the stream before a write fails.
	defer context.AfterFunc(r.Context(), func() { cancel(errClientGone) })()
	st := h.newStream(ctx, w, r, topic)
	if h.cfg.SendBuffer > 0 && !setSendBuffer(r, h.cfg.SendBuffer) {
		h.warnNoConn.Do(func() {
			h.cfg.Logger.Warn("ssehub: the http.Server has no ssehub.ConnContext, so stream send buffers keep the kernel's size: a client that stops reading is noticed late")
		})
	}

	s, err := h.subscribe(topic, cancel)
	if err != nil {
		// A 200 that ends at once makes EventSource reconnect, to another instance
		// during a shutdown; an error status would make it give up.
		st.end(err)
		return err
	}
	handedOff := false // parked: the hub ends the stream, unsubscribes and calls Done
	defer func() {
		if !handedOff {
			h.unsubscribe(s)
			h.serving.Done()
		}
	}()

	// The deadline must be set from outside the writing goroutine: a write blocked
	// on a client that stopped reading returns only when its deadline passes.
	// When the hub ends the stream on purpose, a write in flight gets closeTimeout
	// to finish, so that a healthy client is not cut mid-event and then gets the
	// close event; any other end cuts the write at once.
	var interrupted chan struct{}
	var stopInterrupt func() bool
	arm := func() {
		interrupted = make(chan struct{})
		done := interrupted
		stopInterrupt = context.AfterFunc(ctx, func() {
			deadline := longAgo
			if isCleanEnd(context.Cause(ctx)) {
				deadline = time.Now().Add(h.closeTimeout)
			}
			_ = st.rc.SetWriteDeadline(deadline)
			close(done)
		})
	}
	arm()
	defer func() {
		if handedOff {
			return
		}
		if stopInterrupt() {
			_ = st.rc.SetWriteDeadline(time.Time{})
			return
		}
		// Wait, so that net/http finishes the response only after the deadline is
		// in place: after a cut it then fails and closes the connection, instead of
		// reusing a connection whose deadline could land on its next response.
		<-interrupted
	}()

	snap, err := snapshot(ctx)
	if err != nil {
		cause := context.Cause(ctx)
		switch {
		case isCleanEnd(cause):
			<-interrupted
			st.end(cause)
			return cause
		case isHubCause(cause):
			_ = st.open()
			return cause
		}
		return fmt.Errorf("ssehub: snapshot of %q: %w", topic, err)
	}

	err = st.open()
	// Only an id equal to the snapshot's seq says the client has this board. An
	// id behind it is a client that missed boards; one ahead of it was issued
	// before a database restore or by another deployment, and trusting it would
	// skip every board up to it: silence, perhaps for ever. Both get the
	// snapshot, and then every newer board.
	if err == nil && (!haveID || lastID != snap.Seq) {
		err = st.write(snap.SSE())
		st.delivered(err, snap.At)
	}
	if err == nil && end != nil && h.cfg.Park && st.deadlines {
		// The interrupt must not fire on a connection the hub owns.
		if stopInterrupt() {
			if h.park(ctx, st, s, r, snap.Seq, end) {
				handedOff = true
				return ErrParked
			}
			_ = st.rc.SetWriteDeadline(time.Time{})
			arm()
		} else {
			err = errStopped
		}
	}
	if err == nil {
		err = st.loop(s.queue, snap.Seq)
	}
	if cause := context.Cause(ctx); errors.Is(err, errStopped) && isCleanEnd(cause) {
		<-interrupted // so that its deadline cannot land after ours
		st.end(cause)
		return cause
	}
	return st.result(err)
}

// isCleanEnd reports whether the hub ended the stream on purpose, so that it gets
// a close event and a proper end rather than a cut.
func isCleanEnd(cause error) bool {
	return errors.Is(cause, ErrClosed) || errors.Is(cause, ErrTopicClosed)
}

func isHubCause(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrTopicClosed) || errors.Is(err, ErrSlowSubscriber)
}

// lastEventID reads the id the client last received; anything but an unsigned
// 64-bit integer is treated as no id, so a stale or foreign id costs a duplicate
// board, never an error.
func lastEventID(r *http.Request) (uint64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("lastEventId")
	}
	id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	return id, err == nil
}

// stream is the writing side of one Serve call.
type stream struct {
	h         *Hub
	ctx       context.Context
	w         http.ResponseWriter
	rc        *http.ResponseController
	deadlines bool // whether w supports write deadlines (httptest recorders do not)
	opened    bool // the status line and headers are written
	retrySent bool
	log       *slog.Logger
}

func (h *Hub) newStream(ctx context.Context, w http.ResponseWriter, r *http.Request, topic string) *stream {
	return &stream{
		h: h, ctx: ctx, w: w, rc: http.NewResponseController(w), deadlines: true,
		log: h.cfg.Logger.With("topic", topic, "remote", r.RemoteAddr),
	}
}

// open sends the headers and the retry hint.
func (st *stream) open() error {
	st.writeHeader()
	if err := st.write(st.retryHint()); err != nil {
		return err
	}
	st.retrySent = true
	return nil
}

func (st *stream) writeHeader() {
	if st.opened {
		return
	}
	st.opened = true
	hd := st.w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx would otherwise buffer the stream
	st.w.WriteHeader(http.StatusOK)
}

func (st *stream) retryHint() []byte {
	retry := strconv.AppendInt([]byte("retry: "), st.h.cfg.Retry.Milliseconds(), 10)
	return append(retry, '\n', '\n')
}

// end writes what the stream still lacks of a proper ending: the headers and
// retry hint if they were not sent yet, then the close event for cause. It
// ignores the stream's context, which is done, and gives the write closeTimeout.
// The deadline stays in place when Serve returns, so net/http's final chunk is
// bounded too: a client that does not read it is cut, and Close stays prompt.
func (st *stream) end(cause error) {
	st.writeHeader()
	var b []byte
	if !st.retrySent {
		b = st.retryHint()
	}
	b = append(b, closeEvent(cause)...)
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.h.closeTimeout))
	if _, err := st.w.Write(b); err == nil {
		_ = st.rc.Flush()
	}
}

func (st *stream) write(b []byte) error {
	var deadline time.Time
	if st.deadlines {
		deadline = time.Now().Add(st.h.cfg.WriteTimeout)
		err := st.rc.SetWriteDeadline(deadline)
		if errors.Is(err, http.ErrNotSupported) {
			st.deadlines = false
		}
	}
	// Checked after setting the deadline: an interrupt that fires later sets its
	// deadline after ours, so it cannot be overwritten.
	if st.ctx.Err() != nil {
		return errStopped
	}
	_, err := st.w.Write(b)
	if err == nil {
		err = st.rc.Flush()
	}
	// The interrupt also ends writes with a deadline error: a cut comes before our
	// own deadline, and a clean end's grace may outlast it but has its own cause.
	// Any other write that outlived our deadline timed out.
	if errors.Is(err, os.ErrDeadlineExceeded) && st.deadlines && !time.Now().Before(deadline) &&
		!isCleanEnd(context.Cause(st.ctx)) {
		st.log.Info("ssehub: dropped stalled subscriber", "write_timeout", st.h.cfg.WriteTimeout)
		return fmt.Errorf("%w: write timed out after %v", ErrSlowSubscriber, st.h.cfg.WriteTimeout)
	}
	return err
}

// loop delivers queued frames newer than last, and a keep-alive comment whenever
// the stream has been silent for KeepAlive.
func (st *stream) loop(queue <-chan frame, last uint64) error {
	keepAlive := time.NewTimer(st.h.cfg.KeepAlive)
	defer keepAlive.Stop()
	for {
		var err error
		select {
		case <-st.ctx.Done():
			return errStopped
		case <-keepAlive.C:
			err = st.write(keepAliveComment)
		case f := <-queue:
			if f.seq <= last {
				continue
			}
			last = f.seq
			err = st.write(f.b)
			st.delivered(err, f.at)
		}
		if err != nil {
			return err
		}
		keepAlive.Reset(st.h.cfg.KeepAlive)
	}
}

// delivered tells Config.Delivered of an event written without error.
func (st *stream) delivered(err error, at time.Time) {
	if err == nil && st.h.cfg.Delivered != nil {
		st.h.cfg.Delivered(at)
	}
}

// result turns the error that ended the stream into what Serve reports.
func (st *stream) result(err error) error {
	cause := context.Cause(st.ctx)
	switch {
	case isHubCause(cause):
		if errors.Is(cause, ErrSlowSubscriber) {
			st.log.Info("ssehub: dropped slow subscriber", "buffer", st.h.cfg.Buffer)
		}
		return cause
	case errors.Is(err, ErrSlowSubscriber):
		// A write timeout; net/http has cancelled the request since, so this comes
		// before the client-gone case.
		return err
	case cause != nil:
		// The client went away or the caller's context ended.
		return nil
	case errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET):
		// The client went away before net/http noticed and ended the request.
		return nil
	default:
		return fmt.Errorf("ssehub: write: %w", err)
	}
}
