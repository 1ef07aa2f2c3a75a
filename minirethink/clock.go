package minirethink

import (
	"sync"
	"time"
)

// clock is the server's time, which r.now() reads: the wall clock (or
// WithClock's), moved by FastForward, or frozen by SetTime, as miniredis
// lets tests control time instead of sleeping.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	fixed  time.Time // zero: not frozen
	offset time.Duration
}

func newClock(base func() time.Time) *clock {
	if base == nil {
		base = time.Now
	}
	return &clock{base: base}
}

// Now is the current time of the server.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return c.base().Add(c.offset)
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fixed = t
}

func (c *clock) fastForward(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		c.fixed = c.fixed.Add(d)
		return
	}
	c.offset += d
}

// WithClock makes now the server's clock, which r.now() reads (default:
// time.Now). SetTime and FastForward still apply on top of it.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.clock = now }
}

// SetTime freezes the server's clock at t: every query's r.now() is t
// until the next SetTime or FastForward, so tests need not sleep for
// distinct timestamps. A zero t unfreezes it (back to the clock, with the
// FastForward offset so far).
func (s *Server) SetTime(t time.Time) {
	s.clock.set(t)
}

// FastForward moves the server's clock forward by d (back for a negative
// d): a frozen clock (SetTime) by d, a running one by an offset of d.
func (s *Server) FastForward(d time.Duration) {
	s.clock.fastForward(d)
}

// Now is the server's current time, what r.now() would answer (to the
// millisecond in a query).
func (s *Server) Now() time.Time {
	return s.clock.Now()
}
