package dblistener

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// The listener against the embedded database over TCP with the real
// driver. These tests cannot use internal/testapp, which imports this
// package.

var fast = backoff.Policy{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}

func openStore(t *testing.T, addr string) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := models.Open(ctx, models.ConnConfig{Address: addr, Database: "leaderboard", Username: "admin"}, models.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.EnsureSchema(ctx))
	return store
}

// recorder is a Sink that keeps every board event.
type recorder struct {
	ch chan event.Event
	mu sync.Mutex
	// seen are the events await read.
	seen []event.Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan event.Event, 10000)} }

func (rec *recorder) Send(_ context.Context, ev event.Event) error {
	rec.ch <- ev
	return nil
}

// await returns the first event of board, already received or still to
// come, that satisfies ok.
func (rec *recorder) await(t *testing.T, board string, ok func(event.BoardData) bool) event.Event {
	t.Helper()
	match := func(ev event.Event) bool {
		if ev.Topic != event.BoardTopic(board) {
			return false
		}
		var data event.BoardData
		require.NoError(t, json.Unmarshal(ev.Data, &data))
		return ok(data)
	}
	rec.mu.Lock()
	seen := slices.Clone(rec.seen)
	rec.mu.Unlock()
	for _, ev := range seen {
		if match(ev) {
			return ev
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-rec.ch:
			rec.mu.Lock()
			rec.seen = append(rec.seen, ev)
			rec.mu.Unlock()
			if match(ev) {
				return ev
			}
		case <-timeout:
			var got []string
			for _, ev := range rec.of(board) {
				got = append(got, string(ev.Data))
			}
			t.Fatalf("no event of board %s as expected within 10s; its events: %v", board, got)
		}
	}
}

// of returns every event of board, read or not yet read.
func (rec *recorder) of(board string) []event.Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for {
		select {
		case ev := <-rec.ch:
			rec.seen = append(rec.seen, ev)
			continue
		default:
		}
		break
	}
	var out []event.Event
	for _, ev := range rec.seen {
		if ev.Topic == event.BoardTopic(board) {
			out = append(out, ev)
		}
	}
	return out
}

func score(name string, want int64) func(event.BoardData) bool {
	return func(b event.BoardData) bool {
		for _, p := range b.Players {
			if p.Name == name {
				return p.Score == want
			}
		}
		return false
	}
}

// logBuffer collects log lines for a test to look for.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testConfig(sink Sink, interval time.Duration) Config {
	return Config{
		TopN: 5, Interval: interval, Sink: sink, Backoff: fast,
		HeartbeatInterval: time.Second, HeartbeatStaleAfter: 3 * time.Second,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// run starts Run; the returned stop ends it and waits for it.
func run(t *testing.T, store *models.Store, cfg Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, store, cfg) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of its context's end")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// board creates a board with players (score 0).
func board(t *testing.T, store *models.Store, name string, players ...string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	b := &models.Board{Name: name}
	require.NoError(t, store.Boards.Save(ctx, b))
	ids := make([]string, len(players))
	for i, n := range players {
		p := &models.Player{Board: b.ID, Name: n}
		require.NoError(t, store.Players.Save(ctx, p))
		ids[i] = p.ID
	}
	return b.ID, ids
}

// Writes that arrive within one interval are one republish, with the state
// after the last of them.
func TestWritesWithinAnIntervalAreOneRepublish(t *testing.T) {
	db := minirethink.RunT(t)
	store := openStore(t, db.Addr())
	b, ids := board(t, store, "Cup", "Ann", "Bob")
	rec := newRecorder()
	// Long enough that the writes below, a few milliseconds' worth, all
	// fall within the interval that starts with the first republish.
	run(t, store, testConfig(rec, 2*time.Second))
	first := rec.await(t, b, func(b event.BoardData) bool { return len(b.Players) == 2 })

	ctx := context.Background()
	const adds = 20
	for i := range adds {
		_, err := store.Players.AddScore(ctx, b, ids[i%2], int64(i+1))
		require.NoError(t, err)
	}
	// Ann got 1+3+...+19 = 100, Bob 2+4+...+20 = 110.
	last := rec.await(t, b, score("Bob", 110))
	assert.Equal(t, first.Seq+1, last.Seq, "%d writes, one republish", adds)
	var data event.BoardData
	require.NoError(t, json.Unmarshal(last.Data, &data))
	require.Len(t, data.Players, 2)
	assert.Equal(t, []string{"Bob", "Ann"}, []string{data.Players[0].Name, data.Players[1].Name})
	assert.Equal(t, int64(100), data.Players[1].Score)
	assert.Len(t, rec.of(b), 2, "nothing in between")
}

// A recompute that fails (the database is unreachable) is retried until it
// succeeds. The publisher runs alone here, without the feed, so no resync
// can stand in for the retry.
func TestFailedRecomputeIsRetried(t *testing.T) {
	db := minirethink.RunT(t)
	direct := openStore(t, db.Addr())
	b, ids := board(t, direct, "Cup", "Ann")
	_, err := direct.Players.AddScore(context.Background(), b, ids[0], 5)
	require.NoError(t, err)

	p := startProxy(t, db.Addr())
	store := openStore(t, p.Addr())
	var logs logBuffer
	cfg := testConfig(nil, 10*time.Millisecond)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	l, err := newListener(store, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	p.Cut()
	wg.Go(func() { l.publishLoop(ctx) })
	l.mark(b)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "recompute board failed, will retry")
	}, 10*time.Second, 5*time.Millisecond, "the recompute fails while the database is unreachable")
	got, err := direct.Boards.Get(context.Background(), b)
	require.NoError(t, err)
	require.Empty(t, got.Top, "nothing was published yet")

	p.Heal()
	require.Eventually(t, func() bool {
		got, err := direct.Boards.Get(context.Background(), b)
		return err == nil && len(got.Top) == 1 && got.Top[0].Score == 5
	}, 10*time.Second, 5*time.Millisecond, "the retry publishes the board once the database is back")
}

// A write made while the feed is down is not lost: after the feed
// reconnects the listener recomputes every board.
func TestWriteWhileFeedDownIsPublishedAfterReconnect(t *testing.T) {
	db := minirethink.RunT(t)
	direct := openStore(t, db.Addr())
	b, ids := board(t, direct, "Cup", "Ann")
	p := startProxy(t, db.Addr())
	rec := newRecorder()
	run(t, openStore(t, p.Addr()), testConfig(rec, 10*time.Millisecond))
	rec.await(t, b, func(b event.BoardData) bool { return len(b.Players) == 1 })

	p.Cut()
	_, err := direct.Players.AddScore(context.Background(), b, ids[0], 7)
	require.NoError(t, err)
	p.Heal()
	rec.await(t, b, score("Ann", 7))
}

// A deleted board is never republished: not after its players' deletes
// reach the feed, not while its delete is under way, not at a resync.
func TestDeletedBoardIsNotRepublished(t *testing.T) {
	lb := r.DB("leaderboard")
	tests := []struct {
		name string
		// remove takes the doomed board away while the listener runs;
		// cut and heal are the proxy's, for an outage around it.
		remove func(t *testing.T, store *models.Store, session *r.Session, cut, heal func(), doomed string, players []string)
	}{
		{"deleted", func(t *testing.T, store *models.Store, _ *r.Session, _, _ func(), doomed string, _ []string) {
			require.NoError(t, store.Boards.Delete(context.Background(), doomed))
		}},
		{"being deleted", func(t *testing.T, store *models.Store, session *r.Session, _, _ func(), doomed string, players []string) {
			// Delete's first step alone, then a player change that marks
			// the board dirty.
			_, err := lb.Table("boards").Get(doomed).Update(map[string]any{"deleting": true}).RunWrite(session)
			require.NoError(t, err)
			_, err = lb.Table("players").Get(players[0]).Update(map[string]any{"score": 50}).RunWrite(session)
			require.NoError(t, err)
		}},
		{"deleted while the feed was down", func(t *testing.T, store *models.Store, _ *r.Session, cut, heal func(), doomed string, _ []string) {
			cut()
			require.NoError(t, store.Boards.Delete(context.Background(), doomed))
			heal()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := minirethink.RunT(t)
			direct := openStore(t, db.Addr())
			session, err := r.Connect(r.ConnectOpts{Address: db.Addr()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = session.Close() })
			doomed, doomedPlayers := board(t, direct, "Doomed", "Ann")
			sentinel, sentinelPlayers := board(t, direct, "Sentinel", "Zed")
			p := startProxy(t, db.Addr())
			rec := newRecorder()
			stop := run(t, openStore(t, p.Addr()), testConfig(rec, 10*time.Millisecond))
			rec.await(t, doomed, func(b event.BoardData) bool { return len(b.Players) == 1 })
			rec.await(t, sentinel, func(b event.BoardData) bool { return len(b.Players) == 1 })
			before := len(rec.of(doomed))

			tt.remove(t, direct, session, p.Cut, p.Heal, doomed, doomedPlayers)
			// A later write to another board is published once the
			// listener has dealt with everything before it.
			_, err = direct.Players.AddScore(context.Background(), sentinel, sentinelPlayers[0], 1)
			require.NoError(t, err)
			rec.await(t, sentinel, score("Zed", 1))
			stop()

			assert.Len(t, rec.of(doomed), before, "no event of the removed board")
			var seq uint64
			err = lb.Table("boards").Get(doomed).Field("seq").Default(0).ReadOne(&seq, session)
			if err != r.ErrEmptyResult {
				require.NoError(t, err)
			}
			assert.LessOrEqual(t, seq, uint64(1), "the board was not written after its first republish")
		})
	}
}

// A database that comes back empty gets its schema again from the listener
// alone, with its heartbeat, and boards created after are published.
func TestEmptiedDatabaseIsRecreated(t *testing.T) {
	db := minirethink.RunT(t)
	addr := db.Addr()
	store := openStore(t, addr)
	rec := newRecorder()
	cfg := testConfig(rec, 10*time.Millisecond)
	cfg.HeartbeatInterval = 20 * time.Millisecond
	run(t, store, cfg)
	b, _ := board(t, store, "Old", "Ann")
	rec.await(t, b, func(b event.BoardData) bool { return len(b.Players) == 1 })

	db.Close()
	db, err := minirethink.StartAddr(addr)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	direct := openStoreNoSchema(t, addr)
	require.Eventually(t, func() bool {
		problems, err := direct.CheckReady(context.Background())
		return err == nil && len(problems) == 0
	}, 10*time.Second, 10*time.Millisecond, "schema and heartbeat are back")

	b, ids := board(t, direct, "New", "Bob")
	_, err = direct.Players.AddScore(context.Background(), b, ids[0], 4)
	require.NoError(t, err)
	rec.await(t, b, score("Bob", 4))
}

// openStoreNoSchema connects without creating anything.
func openStoreNoSchema(t *testing.T, addr string) *models.Store {
	t.Helper()
	store, err := models.Open(context.Background(), models.ConnConfig{Address: addr, Database: "leaderboard", Username: "admin"}, models.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return store
}
