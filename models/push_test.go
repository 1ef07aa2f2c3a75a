package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

func openPush(t *testing.T, h models.History) (*models.Store, *models.Push, *r.Session) {
	t.Helper()
	srv := minirethink.RunT(t)
	ctx := context.Background()
	conn := models.ConnConfig{Address: srv.Addr(), Database: "leaderboard", Username: "admin"}
	st, err := models.Open(ctx, conn, models.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.EnsureSchema(ctx))
	require.NoError(t, st.EnsureSchema(ctx), "idempotent")
	session, err := r.Connect(r.ConnectOpts{Address: srv.Addr(), Database: "leaderboard"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	return st, models.NewPush(st, h), session
}

func TestUsersAndTokens(t *testing.T) {
	_, p, _ := openPush(t, models.History{Size: 100, TTL: time.Hour})
	ctx := context.Background()
	u, err := p.Users.Register(ctx, "alice")
	require.NoError(t, err)
	again, err := p.Users.Register(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, u.ID, again.ID, "registering twice is the same user")

	tok1, exp, err := p.Tokens.Issue(ctx, u, time.Hour)
	require.NoError(t, err)
	assert.InDelta(t, time.Now().Add(time.Hour).Unix(), exp, 2)
	assert.GreaterOrEqual(t, len(tok1), 43, "at least 256 bits, base64")
	tok2, _, err := p.Tokens.Issue(ctx, u, time.Hour)
	require.NoError(t, err)
	for _, tok := range []string{tok1, tok2} {
		s, err := p.Tokens.Check(ctx, tok)
		require.NoError(t, err)
		assert.Equal(t, "alice", s.User.Username)
	}
	_, err = p.Tokens.Check(ctx, "nope")
	assert.ErrorIs(t, err, models.ErrUnauthorized)

	byName, err := p.Users.Get(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, u.ID, byName.ID)
	chans, err := p.Users.Channels(ctx, *u)
	require.NoError(t, err)
	assert.Equal(t, []string{"private-alice"}, chans[u.ID])

	require.NoError(t, p.Users.Delete(ctx, "alice"))
	_, err = p.Tokens.Check(ctx, tok1)
	assert.ErrorIs(t, err, models.ErrUnauthorized)
	_, err = p.Users.Get(ctx, u.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = p.Channels.Get(ctx, "private-alice")
	assert.ErrorIs(t, err, models.ErrNotFound)
}

func TestChannelsAndMembers(t *testing.T) {
	_, p, _ := openPush(t, models.History{Size: 100, TTL: time.Hour})
	ctx := context.Background()
	a, _ := p.Users.Register(ctx, "a")
	b, _ := p.Users.Register(ctx, "b")
	topic, err := p.Channels.Create(ctx, "team", models.Topic)
	require.NoError(t, err)
	_, err = p.Channels.Create(ctx, "team", models.Fanout)
	assert.ErrorIs(t, err, models.ErrConflict)
	_, err = p.Channels.Create(ctx, "private-x", models.Fanout)
	assert.ErrorIs(t, err, models.ErrInvalid)
	require.NoError(t, p.Members.Add(ctx, "team", "a"))
	require.NoError(t, p.Members.Add(ctx, topic.ID, a.ID), "twice is fine")
	assert.NoError(t, p.Members.MaySubscribe(ctx, topic, a))
	assert.ErrorIs(t, p.Members.MaySubscribe(ctx, topic, b), models.ErrForbidden)

	d, err := p.Channels.Create(ctx, "dm", models.Direct)
	require.NoError(t, err)
	require.NoError(t, p.Members.Add(ctx, "dm", "b"))
	assert.ErrorIs(t, p.Members.Add(ctx, "dm", "a"), models.ErrConflict)
	d, _ = p.Channels.Get(ctx, d.ID)
	assert.NoError(t, p.Members.MaySubscribe(ctx, d, b))
	assert.ErrorIs(t, p.Members.MaySubscribe(ctx, d, a), models.ErrForbidden)
	chans, err := p.Users.Channels(ctx, *a, *b)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"private-a", "team"}, chans[a.ID])
	assert.ElementsMatch(t, []string{"private-b", "dm"}, chans[b.ID])

	require.NoError(t, p.Members.Remove(ctx, "team", "a"))
	assert.ErrorIs(t, p.Members.Remove(ctx, "team", "a"), models.ErrNotFound)
	require.NoError(t, p.Channels.Delete(ctx, "team"))
	_, err = p.Channels.Get(ctx, "team")
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.ErrorIs(t, p.Channels.Delete(ctx, "private-a"), models.ErrForbidden)
}

func TestEventsAreGaplessUnderConcurrentWriters(t *testing.T) {
	_, p, _ := openPush(t, models.History{Size: 1000, TTL: time.Hour})
	ctx := context.Background()
	_, err := p.Channels.Create(ctx, "news", models.Fanout)
	require.NoError(t, err)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, _, err := p.Events.Post(ctx, "news", map[string]any{"w": w, "i": i})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	evs, err := p.Events.After(ctx, "news", 0, 1000)
	require.NoError(t, err)
	require.Len(t, evs, writers*each)
	for i, ev := range evs {
		assert.Equal(t, uint64(i+1), ev.Seq)
	}
	last, err := p.Events.LastSeq(ctx, "news")
	require.NoError(t, err)
	assert.Equal(t, uint64(writers*each), last)
}

func TestHistoryIsBounded(t *testing.T) {
	_, p, _ := openPush(t, models.History{Size: 5, TTL: time.Hour})
	ctx := context.Background()
	_, err := p.Channels.Create(ctx, "news", models.Fanout)
	require.NoError(t, err)
	for i := range 12 {
		_, _, err := p.Events.Post(ctx, "news", i)
		require.NoError(t, err)
	}
	evs, err := p.Events.After(ctx, "news", 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	assert.Equal(t, uint64(8), evs[0].Seq)
}

func TestStampRawEvents(t *testing.T) {
	_, p, session := openPush(t, models.History{Size: 100, TTL: time.Hour})
	ctx := context.Background()
	_, err := p.Channels.Create(ctx, "news", models.Fanout)
	require.NoError(t, err)
	_, _, err = p.Events.Post(ctx, "news", "first")
	require.NoError(t, err)
	_, err = r.Table("events").Insert([]any{
		map[string]any{"channel": "news", "data": map[string]any{"hello": "world"}},
		map[string]any{"channel": "nope", "data": 1},
	}).RunWrite(session)
	require.NoError(t, err)
	ids, err := p.Events.Pending(ctx, 10)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	var refused int
	for _, id := range ids {
		if err := p.Events.Stamp(ctx, id); err != nil {
			assert.ErrorIs(t, err, models.ErrNotFound)
			refused++
		}
		require.NoError(t, p.Events.Stamp(ctx, id), "idempotent")
	}
	assert.Equal(t, 1, refused)
	ids, err = p.Events.Pending(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, ids)
	evs, err := p.Events.After(ctx, "news", 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, uint64(2), evs[1].Seq)
	assert.Equal(t, map[string]any{"hello": "world"}, evs[1].Data)
}

func TestExpiredHistoryKeepsTheLastSeq(t *testing.T) {
	_, p, _ := openPush(t, models.History{Size: 100, TTL: 50 * time.Millisecond})
	ctx := context.Background()
	_, err := p.Channels.Create(ctx, "news", models.Fanout)
	require.NoError(t, err)
	for i := range 3 {
		_, _, err := p.Events.Post(ctx, "news", i)
		require.NoError(t, err)
	}
	time.Sleep(100 * time.Millisecond)
	evs, err := p.Events.After(ctx, "news", 0, 100)
	require.NoError(t, err)
	assert.Empty(t, evs, "expired events are not retained")
	_, n, err := p.Events.PruneExpired(ctx, time.Time{}, 100)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	last, err := p.Events.LastSeq(ctx, "news")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), last, "the last event stays: it holds the seq")
	seq, _, err := p.Events.Post(ctx, "news", "next")
	require.NoError(t, err)
	assert.Equal(t, uint64(4), seq)

	u, _ := p.Users.Register(ctx, "a")
	_, _, err = p.Tokens.Issue(ctx, u, time.Second)
	require.NoError(t, err)
	deleted, err := p.Tokens.DeleteExpired(ctx, time.Now().Add(2*time.Second), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, deleted)
}
