package writepool_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/leaderboardhq/leaderboard/writepool"
)

type job struct {
	wg    *sync.WaitGroup
	block chan struct{}
	runs  atomic.Int32
}

func (j *job) Flush() {
	if j.block != nil {
		<-j.block
	}
	j.runs.Add(1)
	j.wg.Done()
}

// Every scheduled job runs once; one that blocks holds only its writer;
// Stop runs what is queued, then ends every goroutine.
func TestPool(t *testing.T) {
	var sweeps atomic.Int32
	p := writepool.Start(2, 10*time.Millisecond, func(time.Time) { sweeps.Add(1) })
	var wg sync.WaitGroup
	blocked := &job{wg: &wg, block: make(chan struct{})}
	wg.Add(1)
	p.Schedule(blocked)
	jobs := make([]*job, 100)
	for i := range jobs {
		jobs[i] = &job{wg: &wg}
		wg.Add(1)
		p.Schedule(jobs[i])
	}
	assert.Eventually(t, func() bool {
		for _, j := range jobs {
			if j.runs.Load() != 1 {
				return false
			}
		}
		return true
	}, 5*time.Second, time.Millisecond, "the other writer ran the rest")
	assert.Eventually(t, func() bool { return sweeps.Load() >= 2 }, 5*time.Second, time.Millisecond)
	close(blocked.block)
	wg.Wait()
	p.Stop()
	p.Stop() // twice is fine
	n := sweeps.Load()
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, n, sweeps.Load(), "no sweep after Stop")
}
