// Package realtime connects a web process's stream subscribers to the
// database: it follows the boards changefeed and pushes every republished
// board to the hub. Web processes scale out without knowing each other;
// the database is the bus.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/ssehub"
	"github.com/leaderboardhq/leaderboard/views"
)

// Relay follows the boards changefeed until ctx is done, publishing each
// changed board to its topic and ending the streams of deleted boards. After
// every (re)connect it re-reads the boards that have subscribers and
// publishes them: the hub drops what a subscriber already has (by seq), so
// only boards that moved while the feed was down reach anyone.
func Relay(ctx context.Context, store *models.Store, hub *ssehub.Hub, policy backoff.Policy, log *slog.Logger) {
	log = log.With("component", "relay")
	for attempt := 0; ; attempt++ {
		err := relayOnce(ctx, store, hub, log, func() { attempt = 0 })
		if ctx.Err() != nil {
			return
		}
		log.Warn("boards changefeed lost, reconnecting", "err", err, "attempt", attempt+1)
		if policy.Sleep(ctx, attempt) != nil {
			return
		}
	}
}

func relayOnce(ctx context.Context, store *models.Store, hub *ssehub.Hub, log *slog.Logger, healthy func()) error {
	feed, err := store.Boards.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	topics := hub.Topics()
	for _, topic := range topics {
		id, ok := strings.CutPrefix(topic, views.Topic(""))
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
			hub.Publish(topic, views.BoardEvent(board))
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
			hub.CloseTopic(views.Topic(change.ID))
			continue
		}
		hub.Publish(views.Topic(change.ID), views.BoardEvent(change.Board))
	}
}
