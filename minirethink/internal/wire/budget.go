package wire

import (
	"context"
	"sync"
)

// budget bounds the bytes held for incoming queries across every
// connection: a frame's payload is allocated only once its size is taken
// from the budget, and given back when the query has been evaluated (or,
// for CONTINUE, STOP and the like, handled). A frame that does not fit now
// waits for others to finish, so many connections sending large queries at
// once cannot make the server allocate more than the budget.
type budget struct {
	mu    sync.Mutex
	total int64
	free  int64
	freed chan struct{} // closed, and replaced, whenever bytes come back
}

func newBudget(total int64) *budget {
	return &budget{total: total, free: total, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting until they are free or ctx ends. The
// caller has checked that n is at most the total.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if n <= b.free {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n bytes back.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// inUse is how many bytes are taken.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total - b.free
}
