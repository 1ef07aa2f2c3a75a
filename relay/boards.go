// Package relay hands what the database's changefeeds carry to a web
// process's own stream subscribers: it follows the boards changefeed and
// gives every changed board to the SSE hub. Web processes scale out without
// knowing each other; the database is the bus.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/boardcache"
	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/ssehub"
)

// Boards follows the boards changefeed until ctx is done, handing each
// changed board to the hub and ending the streams of deleted boards. After
// every (re)connect it re-reads the boards that have subscribers and hands
// them over again: the hub drops what a subscriber already has (by seq), so
// only boards that moved while the feed was down reach anyone. When the
// database comes back without the schema (it restarted empty), it creates
// it again; the resync then ends the streams of boards that are gone.
//
// cache, if not nil, gets every board the feed carries, and is emptied while
// the feed is down, so that GET of a board answers from it only while it is
// current.
func Boards(ctx context.Context, store *models.Store, hub *ssehub.Hub, cache *boardcache.Cache, policy backoff.Policy, log *slog.Logger, m *metrics.Metrics) {
	log = log.With("component", "relay")
	f := models.Follower{Name: "boards", Store: store, Backoff: policy, Logger: log, Metrics: m}
	f.Run(ctx, func(ctx context.Context, healthy func()) error {
		return relayOnce(ctx, store, hub, cache, log, healthy)
	})
}

func relayOnce(ctx context.Context, store *models.Store, hub *ssehub.Hub, cache *boardcache.Cache, log *slog.Logger, healthy func()) error {
	feed, err := store.Boards.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	if cache != nil {
		// Whatever the cache held may have changed while no feed was open,
		// and will once this one is lost.
		cache.Reset()
		cache.Following()
		defer cache.Reset()
	}
	topics := hub.Topics()
	for _, topic := range topics {
		id, ok := strings.CutPrefix(topic, event.BoardTopic(""))
		if !ok {
			continue
		}
		board, err := store.Boards.Get(ctx, id)
		switch {
		case errors.Is(err, models.ErrNotFound):
			hub.CloseTopic(topic)
		case err != nil:
			return err
		default:
			ev := event.Board(board)
			if cache != nil {
				cache.Put(board, ev)
			}
			hub.Broadcast(ev)
		}
	}
	log.Info("following boards changefeed", "topics_resynced", len(topics))
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.Board == nil {
			if cache != nil {
				cache.Delete(change.ID)
			}
			hub.CloseTopic(event.BoardTopic(change.ID))
			continue
		}
		ev := event.Board(change.Board)
		if cache != nil {
			cache.Put(change.Board, ev)
		}
		hub.Broadcast(ev)
	}
}
