package connlimit_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/connlimit"
)

func TestAcquire(t *testing.T) {
	// Each step acquires for client (release: false) or releases the slot step
	// number release took (release: true).
	type step struct {
		client  string
		release int // index of an earlier step whose slot to give back; -1: acquire
		want    error
	}
	acq := func(client string, want error) step { return step{client: client, release: -1, want: want} }
	rel := func(i int) step { return step{release: i} }
	tests := []struct {
		name             string
		total, perClient int
		steps            []step
		inUse            int
	}{
		{
			name: "the N+1st from one client is refused", total: 10, perClient: 2,
			steps: []step{acq("a", nil), acq("a", nil), acq("a", connlimit.ErrTooManyFromClient)},
			inUse: 2,
		},
		{
			name: "other addresses are unaffected by one client's cap", total: 10, perClient: 2,
			steps: []step{acq("a", nil), acq("a", nil), acq("a", connlimit.ErrTooManyFromClient), acq("b", nil), acq("c", nil)},
			inUse: 4,
		},
		{
			name: "the N+1st in total is refused, whoever asks", total: 3, perClient: 2,
			steps: []step{acq("a", nil), acq("a", nil), acq("b", nil), acq("b", connlimit.ErrTooManyStreams), acq("c", connlimit.ErrTooManyStreams)},
			inUse: 3,
		},
		{
			name: "release frees a client's slot", total: 10, perClient: 1,
			steps: []step{acq("a", nil), acq("a", connlimit.ErrTooManyFromClient), rel(0), acq("a", nil)},
			inUse: 1,
		},
		{
			name: "release frees a slot of the total", total: 1, perClient: 1,
			steps: []step{acq("a", nil), acq("b", connlimit.ErrTooManyStreams), rel(0), acq("b", nil)},
			inUse: 1,
		},
		{
			name: "releasing twice frees one slot", total: 2, perClient: 2,
			steps: []step{acq("a", nil), acq("a", nil), rel(0), rel(0), acq("a", nil), acq("a", connlimit.ErrTooManyFromClient)},
			inUse: 2,
		},
		{
			name: "a refusal takes nothing", total: 1, perClient: 1,
			steps: []step{acq("a", nil), acq("a", connlimit.ErrTooManyFromClient), acq("b", connlimit.ErrTooManyStreams), rel(0), acq("b", nil)},
			inUse: 1,
		},
		{
			name: "the client's cap is checked first", total: 1, perClient: 1,
			steps: []step{acq("a", nil), acq("a", connlimit.ErrTooManyFromClient)},
			inUse: 1,
		},
		{
			name: "zero: no cap of that kind", total: 0, perClient: 0,
			steps: []step{acq("a", nil), acq("a", nil), acq("a", nil)},
			inUse: 3,
		},
		{
			name: "the same client with and without a port", total: 10, perClient: 1,
			steps: []step{acq("192.0.2.1:5555", nil), acq("192.0.2.1", connlimit.ErrTooManyFromClient)},
			inUse: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := connlimit.New(tt.total, tt.perClient)
			releases := make([]func(), len(tt.steps))
			for i, s := range tt.steps {
				if s.release >= 0 {
					require.NotNil(t, releases[s.release], "step %d releases a slot step %d did not take", i, s.release)
					releases[s.release]()
					continue
				}
				release, err := l.Acquire(s.client)
				if s.want != nil {
					assert.ErrorIs(t, err, s.want, "step %d: %s", i, s.client)
					assert.Nil(t, release, "step %d", i)
					continue
				}
				require.NoError(t, err, "step %d: %s", i, s.client)
				releases[i] = release
			}
			assert.Equal(t, tt.inUse, l.InUse())
		})
	}
}

// Which addresses count as one client.
func TestClientAddresses(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1", "192.0.2.1:443", true},
		{"192.0.2.1", "192.0.2.2", false},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1", true},
		{"2001:db8::1", "[2001:db8::2]:443", true},              // one /64
		{"2001:db8::1", "2001:db8:0:0:ffff:ffff:ffff:ff", true}, // still that /64
		{"2001:db8::1", "2001:db8:0:1::1", false},               // the next /64
		{"fe80::1%eth0", "fe80::2", true},
		{"not an address", "not an address", true},
		{"not an address", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s|%s", tt.a, tt.b), func(t *testing.T) {
			l := connlimit.New(0, 1)
			release, err := l.Acquire(tt.a)
			require.NoError(t, err)
			defer release()
			release2, err := l.Acquire(tt.b)
			if tt.same {
				assert.ErrorIs(t, err, connlimit.ErrTooManyFromClient)
				return
			}
			require.NoError(t, err)
			release2()
		})
	}
}

// Many goroutines acquire and release at once: the caps hold at every moment
// and every slot comes back.
func TestConcurrentUse(t *testing.T) {
	const (
		total, perClient = 20, 4
		clients          = 8
		workers          = 16
		rounds           = 2000
	)
	l := connlimit.New(total, perClient)
	var open atomic.Int64
	var byClient [clients]atomic.Int64
	var overTotal, overClient, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				c := (w + i) % clients
				release, err := l.Acquire(fmt.Sprintf("10.0.0.%d", c))
				if err != nil {
					refused.Add(1)
					continue
				}
				if open.Add(1) > total {
					overTotal.Add(1)
				}
				if byClient[c].Add(1) > perClient {
					overClient.Add(1)
				}
				runtime.Gosched() // hold the slot while others try
				byClient[c].Add(-1)
				open.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	assert.Zero(t, overTotal.Load(), "more than the total held at once")
	assert.Zero(t, overClient.Load(), "more than a client's cap held at once")
	assert.Zero(t, l.InUse(), "every slot released")
	t.Logf("%d acquisitions refused of %d", refused.Load(), workers*rounds)
}

func TestDefaultTotal(t *testing.T) {
	n := connlimit.DefaultTotal()
	assert.Positive(t, n)
	t.Logf("DefaultTotal here: %d", n)
}
