package pushhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leaderboardhq/leaderboard/event"
)

// Reasons a connection ends (errors.Is); the transport tells its client.
var (
	// ErrClosed: the hub was closed (shutdown). The client reconnects elsewhere.
	ErrClosed = errors.New("the server is shutting down")
	// ErrSlow: the connection's queue overflowed; the client resumes with since.
	ErrSlow = errors.New("the client fell behind")
	// ErrRevoked: the connection's token was revoked (its user deleted).
	ErrRevoked = errors.New("the token was revoked")
	// ErrExpired: the connection's token expired.
	ErrExpired = errors.New("the token expired")
	// ErrTooManySubscriptions: Subscribe beyond Config.MaxSubscriptions.
	ErrTooManySubscriptions = errors.New("too many subscriptions")
)

// Mode is how a channel's events relate to each other.
type Mode int

const (
	// Log: events are seq 1, 2, 3, ... with no gaps; each is needed.
	Log Mode = iota
	// State: each event is the whole state; only the newest matters.
	State
)

// Source is where subscriptions catch up from: the channels' history.
type Source interface {
	// After returns up to limit of a Log channel's retained events after
	// seq, in seq order.
	After(ctx context.Context, channel string, seq uint64, limit int) ([]event.Event, error)
	// LastSeq is a Log channel's last seq (0 if none).
	LastSeq(ctx context.Context, channel string) (uint64, error)
	// State is a State channel's current state.
	State(ctx context.Context, channel string) (event.Event, error)
}

// Config tunes a Hub.
type Config struct {
	Source Source
	// Buffer is how many messages may queue for one connection before it is
	// dropped. Default 256.
	Buffer int
	// MaxSubscriptions per connection. Default 100.
	MaxSubscriptions int
	// Batch is how many history events one read fetches. Default 100.
	Batch int
	// RetryDelay is the wait before a failed history read is tried again.
	// Default 1s.
	RetryDelay time.Duration
	Logger     *slog.Logger
}

// Hub routes events to the subscriptions of this process's connections.
type Hub struct {
	cfg Config

	mu       sync.Mutex
	closed   bool
	channels map[string]*channel
	tokens   map[string]map[*Conn]struct{}
	users    map[string]map[*Conn]struct{}
}

type channel struct {
	subs map[*sub]struct{}
	// max is the highest seq published (or observed) while the channel had
	// subscribers.
	max uint64
}

// New returns a Hub.
func New(cfg Config) *Hub {
	if cfg.Source == nil {
		panic("pushhub: Config.Source is required")
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = 100
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Hub{
		cfg:      cfg,
		channels: map[string]*channel{},
		tokens:   map[string]map[*Conn]struct{}{},
		users:    map[string]map[*Conn]struct{}{},
	}
}

// Conn is one client connection of one user.
type Conn struct {
	hub   *Hub
	user  string
	token string
	// qmu guards queue, what the client is to be sent: a slice that grows
	// with what is queued (up to Buffer) and shrinks back once taken, so
	// an idle connection keeps no room for 256 messages.
	qmu   sync.Mutex
	queue []*Message
	ready chan struct{} // signalled when a message is queued
	space chan struct{} // signalled when the transport takes messages
	done  chan struct{}
	// stopCatchUp cancels the history reads of a catch-up under way, when
	// the connection ends.
	stopCatchUp atomic.Pointer[context.CancelFunc]
	expiry      *time.Timer
	errOnce     sync.Once
	err         error
	ended       atomic.Bool // set with err, before done is closed
	// catching is catchIdle, or a catch-up goroutine runs (catchRunning), or
	// runs and must look again (catchAgain): a connection holds a goroutine
	// only while it reads history.
	catching atomic.Int32
	// notify is the transport's hook (Notify), if it set one.
	notify atomic.Pointer[func()]

	// Guarded by hub.mu.
	subs map[string]*sub
}

type sub struct {
	conn    *Conn
	channel string
	mode    Mode
	since   *uint64 // what the client asked for, until the sub has started
	started bool
	// last is the seq of the last event queued for the client.
	last uint64
	// catching: history is being read; live events are left to it.
	catching bool
	// ready: Subscribe has queued the reply; the catch-up goroutine may
	// start the subscription (it leaves one that is not ready alone).
	ready bool
}

// Connect registers a connection of user (an id) authenticated by the
// token with the given hash, which expires at expires. The connection ends
// at expiry (ErrExpired), on revocation, when too slow, or on Close; the
// caller must Close it when the client goes away.
func (h *Hub) Connect(user, tokenHash string, expires time.Time) (*Conn, error) {
	c := &Conn{
		hub: h, user: user, token: tokenHash,
		ready: make(chan struct{}, 1),
		space: make(chan struct{}, 1),
		done:  make(chan struct{}),
		subs:  map[string]*sub{},
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	addTo(h.tokens, tokenHash, c)
	addTo(h.users, user, c)
	h.mu.Unlock()
	// Armed once assigned, so Close never races with the assignment.
	c.expiry = time.AfterFunc(time.Hour, func() { c.Close(ErrExpired) })
	c.expiry.Reset(time.Until(expires))
	return c, nil
}

func addTo(m map[string]map[*Conn]struct{}, key string, c *Conn) {
	set := m[key]
	if set == nil {
		set = map[*Conn]struct{}{}
		m[key] = set
	}
	set[c] = struct{}{}
}

func removeFrom(m map[string]map[*Conn]struct{}, key string, c *Conn) {
	if set := m[key]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// Done is closed when the connection has ended; Err says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is open).
func (c *Conn) Err() error {
	if c.ended.Load() {
		return c.err
	}
	return nil
}

// Ended reports whether the connection has ended (Done is closed): for a
// transport that checks at every message, cheaper than a select on Done.
func (c *Conn) Ended() bool { return c.ended.Load() }

// Close ends the connection with reason (nil: the client went away). Only
// the first reason counts.
func (c *Conn) Close(reason error) {
	c.errOnce.Do(func() {
		h := c.hub
		h.mu.Lock()
		for _, s := range c.subs {
			h.unsubscribeLocked(s)
		}
		removeFrom(h.tokens, c.token, c)
		removeFrom(h.users, c.user, c)
		h.mu.Unlock()
		c.expiry.Stop()
		c.err = reason
		c.ended.Store(true)
		close(c.done)
		if stop := c.stopCatchUp.Load(); stop != nil {
			(*stop)()
		}
		c.notifyTransport()
	})
}

// Notify makes the connection call f after every message it queues and
// once when it ends (Done), for a transport that writes from shared
// goroutines instead of one waiting in Next: f says "Drain what is queued,
// or see why it ended". f may run under the hub's lock, so it must only
// signal, never wait or call back into the hub. It is also called once at
// once, for what was queued before.
func (c *Conn) Notify(f func()) {
	c.notify.Store(&f)
	f()
}

func (c *Conn) notifyTransport() {
	if f := c.notify.Load(); f != nil {
		(*f)()
	}
}

// Next returns the next message to send, waiting for one; an error when the
// connection ended or ctx is done.
func (c *Conn) Next(ctx context.Context) (*Message, error) {
	for {
		if m := c.Take(); m != nil {
			return m, nil
		}
		select {
		case <-c.ready:
		case <-c.done:
			if c.err == nil {
				return nil, errEnded
			}
			return nil, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// errEnded: Next on a connection closed with no reason (its client left).
var errEnded = errors.New("the connection ended")

// Ready is signalled when a message is queued, for transports that select
// on it with other channels (keep-alive tickers): after a receive they
// Take until it returns nil.
func (c *Conn) Ready() <-chan struct{} { return c.ready }

// Take returns the next queued message without waiting; nil if none.
func (c *Conn) Take() *Message {
	c.qmu.Lock()
	if len(c.queue) == 0 {
		c.qmu.Unlock()
		return nil
	}
	m := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	c.qmu.Unlock()
	c.took()
	return m
}

// keptQueue is the largest queue array kept for the next messages once
// drained; a burst's bigger one goes.
const keptQueue = 8

// Drain calls f with every queued message, in order, without waiting, and
// empties the queue. f must not call into the hub: the queue is locked.
func (c *Conn) Drain(f func(*Message)) {
	c.qmu.Lock()
	if len(c.queue) == 0 {
		c.qmu.Unlock()
		return
	}
	for i, m := range c.queue {
		f(m)
		c.queue[i] = nil
	}
	if cap(c.queue) <= keptQueue {
		c.queue = c.queue[:0]
	} else {
		c.queue = nil
	}
	c.qmu.Unlock()
	c.took()
}

// Queued is how many messages wait to be taken.
func (c *Conn) Queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}

func (c *Conn) took() {
	select {
	case c.space <- struct{}{}:
	default:
	}
}

// push queues m; with room only up to limit messages. It reports whether
// m was queued.
func (c *Conn) push(m *Message, limit int) bool {
	c.qmu.Lock()
	if len(c.queue) >= limit {
		c.qmu.Unlock()
		return false
	}
	c.queue = append(c.queue, m)
	c.qmu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	c.notifyTransport()
	return true
}

// Send queues m, waiting while the queue is more than half full, so that
// what is published meanwhile still fits; false if the connection ended.
// It is for the connection's own goroutines (replies, history), never for
// Publish.
func (c *Conn) Send(m *Message) bool {
	for {
		select {
		case <-c.done:
			return false
		default:
		}
		if c.push(m, c.hub.cfg.Buffer/2+1) {
			return true
		}
		select {
		case <-c.space:
		case <-c.done:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// offer queues m without waiting; a full queue ends the connection. The
// caller holds hub.mu.
func (c *Conn) offer(m *Message) {
	if !c.push(m, c.hub.cfg.Buffer) {
		// Close takes hub.mu: end the connection from outside the lock.
		go c.Close(ErrSlow)
	}
}

// Subscribe subscribes the connection to channel, whose permission the
// caller checked, after seq since (nil: from now on). It queues the
// "subscribed" reply, then the history after since, then live events: every
// event committed after the reply was queued reaches the client.
// Subscribing again restarts the subscription.
func (c *Conn) Subscribe(ctx context.Context, name string, mode Mode, since *uint64) error {
	h := c.hub
	h.mu.Lock()
	if old := c.subs[name]; old != nil {
		h.unsubscribeLocked(old)
	} else if len(c.subs) >= h.cfg.MaxSubscriptions {
		h.mu.Unlock()
		return fmt.Errorf("%w: at most %d a connection", ErrTooManySubscriptions, h.cfg.MaxSubscriptions)
	}
	s := &sub{conn: c, channel: name, mode: mode, since: since, catching: true}
	c.subs[name] = s
	ch := h.channels[name]
	if ch == nil {
		ch = &channel{subs: map[*sub]struct{}{}}
		h.channels[name] = ch
	}
	ch.subs[s] = struct{}{}
	h.mu.Unlock()
	if mode == Log && since == nil {
		// "From now" is the last seq before the reply: read it here, not
		// on the catch-up goroutine. What is published meanwhile is
		// caught up from history.
		last, err := h.cfg.Source.LastSeq(ctx, name)
		if err != nil {
			c.Unsubscribe(name)
			return err
		}
		h.mu.Lock()
		s.last, s.started = last, true
		h.mu.Unlock()
	}
	if !c.Send(&Message{Type: TypeSubscribed, Channel: name}) {
		return c.err
	}
	h.mu.Lock()
	s.ready = true
	h.mu.Unlock()
	c.poke()
	return nil
}

// Unsubscribe ends the subscription to channel, if there is one.
func (c *Conn) Unsubscribe(name string) bool {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s := c.subs[name]
	if s != nil {
		h.unsubscribeLocked(s)
	}
	return s != nil
}

// Subscribed reports whether the connection is subscribed to channel.
func (c *Conn) Subscribed(name string) bool {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.subs[name] != nil
}

func (h *Hub) unsubscribeLocked(s *sub) {
	if s.conn.subs[s.channel] == s {
		delete(s.conn.subs, s.channel)
	}
	if ch := h.channels[s.channel]; ch != nil {
		delete(ch.subs, s)
		if len(ch.subs) == 0 {
			delete(h.channels, s.channel)
		}
	}
}

// Publish hands an event of channel ev.Topic to its subscriptions: each
// gets it if it is the next one it needs; one that sees a gap catches up
// from history instead.
func (h *Hub) Publish(ev event.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[ev.Topic]
	if ch == nil {
		return
	}
	ch.max = max(ch.max, ev.Seq)
	var m *Message
	for s := range ch.subs {
		if s.catching {
			continue
		}
		switch {
		case ev.Seq <= s.last:
			continue // already sent
		case s.mode == Log && ev.Seq > s.last+1:
			s.catching = true
			s.conn.poke()
			continue
		}
		if m == nil {
			m = &Message{Type: TypeEvent, Channel: ev.Topic, Seq: ev.Seq, Data: ev.Data}
		}
		s.last = ev.Seq
		s.conn.offer(m)
	}
}

// Observe tells the hub the channel's last seq is at least seq (a resync
// after a changefeed reconnect): subscriptions behind it catch up.
func (h *Hub) Observe(name string, seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[name]
	if ch == nil {
		return
	}
	ch.max = max(ch.max, seq)
	for s := range ch.subs {
		if !s.catching && s.mode == Log && s.last < seq {
			s.catching = true
			s.conn.poke()
		}
	}
}

// Channels returns the channels that have subscribers here, by mode.
func (h *Hub) Channels(mode Mode) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for name, ch := range h.channels {
		for s := range ch.subs {
			if s.mode == mode {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// Subscription is one user's subscription to a channel here.
type Subscription struct {
	Channel, User string
}

// Subscriptions returns the distinct (channel, user) pairs of Log
// subscriptions, for a resync of memberships.
func (h *Hub) Subscriptions() []Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[Subscription]bool{}
	var out []Subscription
	for name, ch := range h.channels {
		for s := range ch.subs {
			p := Subscription{Channel: name, User: s.conn.user}
			if s.mode == Log && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// Tokens returns the hashes of the tokens of open connections.
func (h *Hub) Tokens() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.tokens))
	for t := range h.tokens {
		out = append(out, t)
	}
	return out
}

// RevokeToken ends every connection made with the token of that hash.
func (h *Hub) RevokeToken(hash string) {
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.tokens[hash]))
	for c := range h.tokens[hash] {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close(ErrRevoked)
	}
}

// Revoke ends the subscriptions of user (an id) to channel, telling its
// clients why.
func (h *Hub) Revoke(name, user, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.users[user] {
		if s := c.subs[name]; s != nil {
			h.unsubscribeLocked(s)
			c.offer(Notice(name, why))
		}
	}
}

// CloseChannel ends every subscription to channel (deleted), telling the
// clients why.
func (h *Hub) CloseChannel(name, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[name]
	if ch == nil {
		return
	}
	for s := range ch.subs {
		h.unsubscribeLocked(s)
		s.conn.offer(Notice(name, why))
	}
}

// Close ends every connection (ErrClosed) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var conns []*Conn
	for _, set := range h.users {
		for c := range set {
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close(ErrClosed)
	}
}

// Len is how many connections are open.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.users {
		n += len(set)
	}
	return n
}
