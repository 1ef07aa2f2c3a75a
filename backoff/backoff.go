// Package backoff computes retry delays: capped exponential with equal
// jitter (a random delay between half and all of the step), so processes
// that lost the database together do not come back in lockstep, and none
// retries at once.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a retry schedule.
type Policy struct {
	Base time.Duration // first delay's upper bound
	Max  time.Duration // cap
}

// Default suits reconnecting to a database: 100ms, doubling, at most 10s.
var Default = Policy{Base: 100 * time.Millisecond, Max: 10 * time.Second}

// Delay is the wait before retry number attempt (0 for the first retry): a
// random duration in [d/2, d] where d = min(Max, Base*2^attempt).
func (p Policy) Delay(attempt int) time.Duration {
	d := p.Max
	if attempt < 32 {
		if e := p.Base << attempt; e > 0 && e < p.Max {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Sleep waits for Delay(attempt) or until ctx is done, whichever is first,
// and returns ctx's error in the second case.
func (p Policy) Sleep(ctx context.Context, attempt int) error {
	return Wait(ctx, p.Delay(attempt))
}

// Wait waits for d or until ctx is done, whichever is first, and returns
// ctx's error in the second case.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
