package minirethink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// The embedded server's clock, which r.now() reads, is the test's to move:
// no sleeping for distinct milliseconds.

func readNow(t *testing.T, s *r.Session) time.Time {
	t.Helper()
	var now time.Time
	require.NoError(t, r.Now().ReadOne(&now, s))
	return now
}

func TestSetTimeFreezesNow(t *testing.T) {
	srv, s, db := embedded(t)
	at := time.Date(2026, 11, 22, 10, 0, 0, 123_000_000, time.UTC)
	srv.SetTime(at)
	assert.True(t, at.Equal(readNow(t, s)), "r.now() is the frozen time")
	assert.True(t, at.Equal(readNow(t, s)), "and stays so")
	assert.True(t, at.Equal(srv.Now()))

	srv.FastForward(1500 * time.Millisecond)
	assert.True(t, at.Add(1500*time.Millisecond).Equal(readNow(t, s)), "FastForward moves the frozen clock")

	// Writes see the same clock: two updates a millisecond apart, no sleep.
	players := createTestTable(t, s, db, "players")
	_, err := players.Insert(map[string]any{"id": "a", "at": r.Now()}).RunWrite(s)
	require.NoError(t, err)
	srv.FastForward(time.Millisecond)
	_, err = players.Insert(map[string]any{"id": "b", "at": r.Now()}).RunWrite(s)
	require.NoError(t, err)
	var gap float64
	require.NoError(t, players.Get("b").Field("at").Sub(players.Get("a").Field("at")).ReadOne(&gap, s))
	assert.InDelta(t, 0.001, gap, 1e-9)
}

func TestFastForwardARunningClock(t *testing.T) {
	srv, s, _ := embedded(t)
	srv.FastForward(48 * time.Hour)
	now := readNow(t, s)
	assert.WithinDuration(t, time.Now().Add(48*time.Hour), now, 5*time.Second)

	srv.SetTime(time.Time{})
	assert.WithinDuration(t, time.Now().Add(48*time.Hour), readNow(t, s), 5*time.Second,
		"unfreezing keeps the offset")
}

func TestWithClock(t *testing.T) {
	at := time.Unix(1795341600, 0).UTC()
	_, s, _ := embedded(t, WithClock(func() time.Time { return at }))
	assert.True(t, at.Equal(readNow(t, s)))
}

// RunT takes the small Tester interface, so the package does not import
// testing; *testing.T and testing.TB satisfy it.
var (
	_ Tester = (*testing.T)(nil)
	_ Tester = testing.TB(nil)
)
