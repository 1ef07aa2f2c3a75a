// Package writepool runs the writes of parked connections (SSE streams,
// WebSockets) on a few shared goroutines instead of one per connection,
// and a sweep of them once a tick (keep-alives, hang-ups).
//
// A connection with something to send is scheduled once (its own flag says
// it is queued); a writer takes it and calls Flush, which writes what is
// queued for it and must not wait long: a write the socket does not take
// at once is finished by a goroutine of the connection's own, so one
// stalled client never holds a shared writer.
package writepool

import (
	"sync"
	"time"
)

// Job is a parked connection's flush.
type Job interface {
	Flush()
}

// Pool is the shared writers and the sweeper.
type Pool struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []Job
	stopped bool
	// endSweep ends the sweeper.
	endSweep chan struct{}
	done     sync.WaitGroup
}

// Start starts n writers and, if sweep is not nil, a goroutine that calls
// it every tick.
func Start(n int, every time.Duration, sweep func(now time.Time)) *Pool {
	p := &Pool{endSweep: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	for range n {
		p.done.Go(p.write)
	}
	if sweep != nil {
		p.done.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case now := <-tick.C:
					sweep(now)
				case <-p.endSweep:
					return
				}
			}
		})
	}
	return p
}

// Schedule queues j for the next free writer.
func (p *Pool) Schedule(j Job) {
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.cond.Signal()
	p.mu.Unlock()
}

// Stop ends the sweeper, and the writers once the queue is empty, and
// waits for them.
func (p *Pool) Stop() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.endSweep)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.done.Wait()
}

func (p *Pool) write() {
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) == 0 {
			p.queue = nil // let a burst's backing array go
		}
		p.mu.Unlock()
		j.Flush()
	}
}
