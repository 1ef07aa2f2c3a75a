package ssehub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/leaderboardhq/leaderboard/event"
)

// Reasons a stream ends that the caller may want to tell apart (errors.Is).
var (
	// ErrClosed: the hub was closed (shutdown). The client reconnects elsewhere.
	ErrClosed = errors.New("ssehub: hub closed")
	// ErrTopicClosed: CloseTopic was called, e.g. the board was deleted.
	ErrTopicClosed = errors.New("ssehub: topic closed")
	// ErrSlowSubscriber: the subscriber's buffer overflowed or a write timed out. It
	// reconnects and resumes from Last-Event-ID, so dropping it loses nothing.
	ErrSlowSubscriber = errors.New("ssehub: subscriber fell behind")
)

// Config tunes a Hub. Zero values mean the defaults.
type Config struct {
	// KeepAlive is how long a stream may stay silent before a ": keep-alive" comment
	// is sent. Idle proxies cut silent connections (Heroku's router after 55s).
	// Default 20s.
	KeepAlive time.Duration
	// Retry is the reconnect delay sent to clients as "retry:". Default 2s.
	Retry time.Duration
	// Buffer is how many events may queue for one subscriber before it is dropped.
	// Queued events share their bytes with every other subscriber of the topic, so
	// the memory bound is per published event, not per subscriber. Default 16.
	Buffer int
	// WriteTimeout drops a subscriber whose single write (event or keep-alive) takes
	// longer: a client that stopped reading on a quiet board never overflows its
	// buffer, and would otherwise hold its connection until TCP gives up.
	//
	// Default 5s. A write blocks only once the client is a whole SendBuffer behind
	// (about 128 KiB of kernel buffer by default); a healthy client drains that in
	// about a second on a 1 Mbit/s link and in under 3s at 384 kbit/s (a slow 3G
	// connection), and TCP recovers a lost segment within one or two
	// retransmission timeouts (0.2s to 1s each). 5s leaves room for those, while
	// a client that stopped reading is dropped within 5s of its buffers filling.
	WriteTimeout time.Duration
	// SendBuffer is the kernel send buffer (SO_SNDBUF, in bytes) Serve gives each
	// stream's connection; it needs ConnContext installed on the http.Server.
	// Left alone, Linux autotunes it up to tcp_wmem's maximum (commonly 4 MiB),
	// and a client that stops reading is noticed only once all of that has filled:
	// minutes on a board of small events. Keep it above the largest event (a
	// board of 100 players is about 10 KiB) so a healthy client takes an event in
	// one go; it bounds a client's throughput to about SendBuffer per round trip
	// (64 KiB at 100 ms is 640 KiB/s, dozens of such boards a second). Linux
	// doubles the value for its bookkeeping. Default 64 KiB; negative leaves the
	// kernel's.
	SendBuffer int
	// Delivered, if set, is told of every event written to a subscriber (the
	// first included), with the event's At: for metrics.
	Delivered func(at time.Time)
	// Park lets Stream hand a stream's connection to the hub once the first
	// event is sent, so that an idle subscriber costs no goroutine and no
	// buffers (park.go). Serve never parks.
	Park bool
	// Logger receives drops of slow subscribers, and a warning when ConnContext
	// is missing. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultKeepAlive    = 20 * time.Second
	defaultRetry        = 2 * time.Second
	defaultBuffer       = 16
	defaultWriteTimeout = 5 * time.Second
	defaultSendBuffer   = 64 << 10
	// A healthy client takes a close event of a few dozen bytes at once; only
	// one with full buffers needs longer.
	maxCloseTimeout = time.Second
)

// Hub fans events out to the subscribers of each topic. Its zero value is not
// usable; call New.
type Hub struct {
	cfg Config
	// closeTimeout bounds the final close event of a stream the hub ends, so a
	// stalled client cannot hold up Close: min(1s, WriteTimeout).
	closeTimeout time.Duration

	// mu guards topics, closed and every topic's subscriber list. Broadcast takes it
	// shared, so publishers never wait for each other, only for the brief
	// exclusive sections of subscribe, unsubscribe and close.
	mu      sync.RWMutex
	topics  map[string]*topic
	closed  bool
	serving sync.WaitGroup // one per Serve call that got past the closed check, until its stream ends
	writers writers        // of parked streams (park.go)

	warnNoConn sync.Once // ConnContext is not installed
}

type topic struct {
	name string
	subs []*subscriber
}

// frame is an event already in wire format, formatted once per Broadcast and shared
// read-only by every subscriber.
type frame struct {
	seq uint64
	b   []byte
	at  time.Time // the event's At
	// chunk is b as an HTTP/1.1 chunk, for parked streams; made once per
	// Broadcast when the topic has one.
	chunk     []byte
	keepAlive bool // a parked stream's keep-alive comment, not an event
}

type subscriber struct {
	topic  *topic
	idx    int // position in topic.subs, so removal is O(1)
	queue  chan frame
	cancel context.CancelCauseFunc
	// park is set, under the hub's lock, when the stream was parked: the
	// hub's writers serve it instead of its own goroutine (park.go).
	park *parked
}

// New returns a Hub with cfg's zero fields set to their defaults.
func New(cfg Config) *Hub {
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = defaultKeepAlive
	}
	if cfg.Retry <= 0 {
		cfg.Retry = defaultRetry
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = defaultBuffer
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if cfg.SendBuffer == 0 {
		cfg.SendBuffer = defaultSendBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Hub{cfg: cfg, closeTimeout: min(maxCloseTimeout, cfg.WriteTimeout), topics: make(map[string]*topic)}
}

// Broadcast queues ev for every current subscriber of ev.Topic and returns
// without waiting for any of them: a subscriber whose buffer is full is dropped
// instead. ev.Data must not be modified afterwards. Broadcasting to a topic
// without subscribers costs a map lookup.
func (h *Hub) Broadcast(ev event.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t := h.topics[ev.Topic]
	if t == nil {
		return
	}
	f := frame{seq: ev.Seq, b: ev.SSE(), at: ev.At}
	for _, s := range t.subs {
		if p := s.park; p != nil {
			if f.chunk == nil {
				f.chunk = chunk(f.b)
			}
			p.push(f)
			continue
		}
		select {
		case s.queue <- f:
		default:
			// Cancelling only signals; the subscriber's own Serve unsubscribes it.
			s.cancel(ErrSlowSubscriber)
		}
	}
}

// Topics returns, sorted, the topics that have at least one subscriber: after a
// changefeed reconnect these are the boards to re-read and republish.
func (h *Hub) Topics() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	names := make([]string, 0, len(h.topics))
	for name := range h.topics {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// CloseTopic ends every stream of topic with a close event whose reason is
// "board deleted"; their Serve calls return ErrTopicClosed. A later Serve for the
// same topic subscribes afresh.
func (h *Hub) CloseTopic(topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[topic]
	if t == nil {
		return
	}
	for _, s := range t.subs {
		s.cancel(ErrTopicClosed)
	}
	delete(h.topics, topic)
}

// Close ends every stream with a close event whose reason is "server shutting
// down", and waits for their Serve calls to return; later Serve calls send the
// same event and return ErrClosed at once. A client that does not take the event
// within a second (one that stopped reading) is cut off, so this is prompt as
// long as the snapshot functions honour their context.
// http.Server.Shutdown waits for idle connections and streams never go idle, so
// register Close with http.Server.RegisterOnShutdown (or call it before Shutdown).
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for _, t := range h.topics {
			for _, s := range t.subs {
				s.cancel(ErrClosed)
			}
		}
	}
	h.mu.Unlock()
	h.serving.Wait()
	h.stopWriters()
}

func (h *Hub) subscribe(name string, cancel context.CancelCauseFunc) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	t := h.topics[name]
	if t == nil {
		t = &topic{name: name}
		h.topics[name] = t
	}
	s := &subscriber{
		topic:  t,
		idx:    len(t.subs),
		queue:  make(chan frame, h.cfg.Buffer),
		cancel: cancel,
	}
	t.subs = append(t.subs, s)
	h.serving.Add(1)
	return s, nil
}

func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := s.topic
	last := len(t.subs) - 1
	t.subs[s.idx] = t.subs[last]
	t.subs[s.idx].idx = s.idx
	t.subs[last] = nil
	t.subs = t.subs[:last]
	// CloseTopic may already have detached t, and a new topic of the same name may
	// have taken its place; only release the one that is still registered.
	if len(t.subs) == 0 && h.topics[t.name] == t {
		delete(h.topics, t.name)
	}
}
