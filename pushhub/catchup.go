package pushhub

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// States of Conn.catching.
const (
	catchIdle int32 = iota
	catchRunning
	catchAgain
)

// poke asks for the connection's catching subscriptions to be caught up:
// it starts the connection's catch-up goroutine, or tells the running one
// to look again once it is done. It never waits (Publish calls it under
// the hub's lock).
func (c *Conn) poke() {
	for {
		switch c.catching.Load() {
		case catchIdle:
			if c.catching.CompareAndSwap(catchIdle, catchRunning) {
				go c.catchUpAll()
				return
			}
		case catchRunning:
			if c.catching.CompareAndSwap(catchRunning, catchAgain) {
				return
			}
		default:
			return
		}
	}
}

// catchUpAll starts new subscriptions and catches up those that saw a gap,
// one at a time, until none is left; then the goroutine ends, so an idle
// connection holds none.
func (c *Conn) catchUpAll() {
	// A context for this run only (a connection keeps none while idle),
	// cancelled by Close.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.stopCatchUp.Store(&cancel)
	defer c.stopCatchUp.Store(nil)
	select {
	case <-c.done: // closed before Close could see the run
		cancel()
	default:
	}
	for {
		c.catching.Store(catchRunning)
		retry := false
		for _, s := range c.catchingSubs() {
			if err := c.catchUp(ctx, s); err != nil {
				if c.Err() != nil || ctx.Err() != nil {
					c.catching.Store(catchIdle)
					return
				}
				c.hub.cfg.Logger.Warn("push subscription could not catch up, will retry",
					"channel", s.channel, "err", err)
				retry = true
			}
		}
		if retry {
			select {
			case <-c.done:
				c.catching.Store(catchIdle)
				return
			case <-time.After(c.hub.cfg.RetryDelay):
			}
			continue
		}
		if c.catching.CompareAndSwap(catchRunning, catchIdle) {
			return
		}
		// poked meanwhile: look again
	}
}

func (c *Conn) catchingSubs() []*sub {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	var out []*sub
	for _, s := range c.subs {
		if s.catching && s.ready {
			out = append(out, s)
		}
	}
	return out
}

// current reports whether s is still the connection's subscription (not
// ended or replaced meanwhile).
func (c *Conn) current(s *sub) bool {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.subs[s.channel] == s
}

// catchUp brings s up to the channel's newest event from history, then lets
// it take live events again.
func (c *Conn) catchUp(ctx context.Context, s *sub) error {
	h := c.hub
	if !s.started && s.mode == Log {
		last, err := h.cfg.Source.LastSeq(ctx, s.channel)
		if err != nil {
			return err
		}
		h.mu.Lock()
		switch {
		case s.since == nil:
			s.last = last
		case *s.since > last:
			// Ahead of the channel (a restored database?): from its last.
			s.last = last
		default:
			s.last = *s.since
		}
		s.started = true
		h.mu.Unlock()
		if s.since != nil && *s.since > last && !c.Send(&Message{
			Type: TypeError, Channel: s.channel, Reset: true,
			Error: fmt.Sprintf("history: channel %s has no event %d; its last is %d", s.channel, *s.since, last),
		}) {
			return nil
		}
	}
	for {
		if !c.current(s) {
			return nil
		}
		// What was published before the read is committed, so the read
		// finds it if history still has it.
		h.mu.Lock()
		var known uint64
		if ch := h.channels[s.channel]; ch != nil {
			known = ch.max
		}
		h.mu.Unlock()
		progress, err := c.readHistory(ctx, s)
		if err != nil {
			return err
		}
		h.mu.Lock()
		ch := h.channels[s.channel]
		if ch != nil && ch.max > s.last && s.mode == Log {
			if progress || ch.max > known {
				// More came, or was published during the read: read again.
				h.mu.Unlock()
				continue
			}
			// Published before the read, yet not in history: it is gone
			// (the channel was emptied). Say so rather than wait for ever.
			missed := s.last
			s.last = ch.max
			s.catching = false
			h.mu.Unlock()
			c.Send(&Message{
				Type: TypeError, Channel: s.channel, Reset: true,
				Error: fmt.Sprintf("history: events after %d of channel %s are no longer retained", missed, s.channel),
			})
			return nil
		}
		// A State channel read older than what was published meanwhile
		// gets the newer state with the next event.
		s.catching = false
		h.mu.Unlock()
		return nil
	}
}

// readHistory queues what s lacks from history and reports whether it
// queued anything.
func (c *Conn) readHistory(ctx context.Context, s *sub) (bool, error) {
	h := c.hub
	if s.mode == State {
		ev, err := h.cfg.Source.State(ctx, s.channel)
		if err != nil {
			return false, err
		}
		h.mu.Lock()
		first := !s.started
		s.started = true
		if first && s.since != nil {
			s.last = *s.since
		}
		fresh := ev.Seq > s.last || (first && s.since == nil)
		h.mu.Unlock()
		if !fresh {
			return false, nil
		}
		if !c.Send(&Message{Type: TypeEvent, Channel: s.channel, Seq: ev.Seq, Data: ev.Data}) {
			return false, errors.New("connection closed")
		}
		h.mu.Lock()
		s.last = ev.Seq
		h.mu.Unlock()
		return true, nil
	}
	progress := false
	for {
		evs, err := h.cfg.Source.After(ctx, s.channel, s.last, h.cfg.Batch)
		if err != nil {
			return progress, err
		}
		if len(evs) == 0 {
			return progress, nil
		}
		if evs[0].Seq > s.last+1 && !c.Send(&Message{
			Type: TypeError, Channel: s.channel, Reset: true,
			Error: fmt.Sprintf("history: events %d to %d of channel %s are no longer retained",
				s.last+1, evs[0].Seq-1, s.channel),
		}) {
			return progress, errors.New("connection closed")
		}
		for _, ev := range evs {
			if !c.Send(&Message{Type: TypeEvent, Channel: s.channel, Seq: ev.Seq, Data: ev.Data}) {
				return progress, errors.New("connection closed")
			}
			h.mu.Lock()
			s.last = ev.Seq
			h.mu.Unlock()
			progress = true
		}
		if len(evs) < h.cfg.Batch {
			return progress, nil
		}
	}
}
