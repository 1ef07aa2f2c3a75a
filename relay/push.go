package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/leaderboardhq/leaderboard/backoff"
	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/metrics"
	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushhub"
)

// PushSource is where push subscriptions catch up from: channels' history
// in the events table, boards' current state.
type PushSource struct {
	Store *models.Store
	Push  *models.Push
}

var _ pushhub.Source = PushSource{}

// After implements pushhub.Source.
func (s PushSource) After(ctx context.Context, channel string, seq uint64, limit int) ([]event.Event, error) {
	evs, err := s.Push.Events.After(ctx, channel, seq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]event.Event, len(evs))
	for i := range evs {
		out[i] = PushEvent(&evs[i])
	}
	return out, nil
}

// LastSeq implements pushhub.Source.
func (s PushSource) LastSeq(ctx context.Context, channel string) (uint64, error) {
	return s.Push.Events.LastSeq(ctx, channel)
}

// State implements pushhub.Source: a board channel's board.
func (s PushSource) State(ctx context.Context, channel string) (event.Event, error) {
	id, ok := strings.CutPrefix(channel, models.BoardPrefix)
	if !ok {
		return event.Event{}, fmt.Errorf("channel %s has no state", channel)
	}
	board, err := s.Store.Boards.Get(ctx, id)
	if err != nil {
		return event.Event{}, err
	}
	return event.Board(board), nil
}

// PushEvent is a stored push event as the hub takes it; its data as JSON.
func PushEvent(ev *models.PushEvent) event.Event {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		// Data came from JSON or from ReQL, whose values all marshal.
		data = []byte("null")
	}
	return event.Event{Topic: ev.Channel, Seq: ev.Seq, Data: data}
}

// Push follows, until ctx is done, every changefeed the push hub needs:
// events (delivered), boards (delivered to board-<id> subscribers), tokens
// (deletions revoke connections), channels and members (deletions end
// subscriptions). After every reconnect each resyncs from the database,
// since a changefeed drops what happens while it is down.
func Push(ctx context.Context, src PushSource, hub *pushhub.Hub, policy backoff.Policy, log *slog.Logger, m *metrics.Metrics) {
	log = log.With("component", "push-relay")
	var wg sync.WaitGroup
	for name, once := range map[string]func(context.Context, func()) error{
		"events":   func(ctx context.Context, ok func()) error { return relayEvents(ctx, src, hub, ok) },
		"boards":   func(ctx context.Context, ok func()) error { return relayBoardsToPush(ctx, src, hub, ok) },
		"tokens":   func(ctx context.Context, ok func()) error { return relayTokens(ctx, src, hub, ok) },
		"channels": func(ctx context.Context, ok func()) error { return relayChannels(ctx, src, hub, ok) },
		"members":  func(ctx context.Context, ok func()) error { return relayMembers(ctx, src, hub, ok) },
	} {
		f := models.Follower{Name: "push-" + name, Store: src.Store, Backoff: policy, Logger: log, Metrics: m}
		wg.Go(func() { f.Run(ctx, once) })
	}
	wg.Wait()
}

func relayEvents(ctx context.Context, src PushSource, hub *pushhub.Hub, healthy func()) error {
	feed, err := src.Push.Events.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	// The feed is open: whatever the resync misses, it brings.
	channels := hub.Channels(pushhub.Log)
	for _, ch := range channels {
		last, err := src.Push.Events.LastSeq(ctx, ch)
		if err != nil {
			return err
		}
		hub.Observe(ch, last)
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.Event != nil {
			hub.Publish(PushEvent(change.Event))
		}
	}
}

func relayBoardsToPush(ctx context.Context, src PushSource, hub *pushhub.Hub, healthy func()) error {
	feed, err := src.Store.Boards.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	for _, ch := range hub.Channels(pushhub.State) {
		ev, err := src.State(ctx, ch)
		switch {
		case errors.Is(err, models.ErrNotFound):
			hub.CloseChannel(ch, "channel "+ch+" was deleted")
		case err != nil:
			return err
		default:
			hub.Publish(ev)
		}
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.Board == nil {
			ch := event.BoardTopic(change.ID)
			hub.CloseChannel(ch, "channel "+ch+" was deleted")
			continue
		}
		hub.Publish(event.Board(change.Board))
	}
}

func relayTokens(ctx context.Context, src PushSource, hub *pushhub.Hub, healthy func()) error {
	feed, err := src.Push.Tokens.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	held := hub.Tokens()
	exist, err := src.Push.Tokens.Exist(ctx, held)
	if err != nil {
		return err
	}
	for _, hash := range held {
		if !exist[hash] {
			hub.RevokeToken(hash)
		}
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.Deleted {
			hub.RevokeToken(change.Hash)
		}
	}
}

func relayChannels(ctx context.Context, src PushSource, hub *pushhub.Hub, healthy func()) error {
	feed, err := src.Push.Channels.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	for _, ch := range hub.Channels(pushhub.Log) {
		_, err := src.Push.Channels.Get(ctx, ch)
		switch {
		case errors.Is(err, models.ErrNotFound):
			hub.CloseChannel(ch, "channel "+ch+" was deleted")
		case err != nil:
			return err
		}
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		switch {
		case change.Deleted:
			hub.CloseChannel(change.Name, "channel "+change.Name+" was deleted")
		case change.LostUser != "":
			hub.Revoke(change.Name, change.LostUser, "no longer the user of channel "+change.Name)
		}
	}
}

func relayMembers(ctx context.Context, src PushSource, hub *pushhub.Hub, healthy func()) error {
	feed, err := src.Push.Members.Changes(ctx)
	if err != nil {
		return err
	}
	defer feed.Close()
	// Memberships (and direct channels' users) that ended while no feed
	// was open end their subscriptions now.
	for _, sub := range hub.Subscriptions() {
		ch, err := src.Push.Channels.Get(ctx, sub.Channel)
		if errors.Is(err, models.ErrNotFound) {
			continue // the channels feed's
		}
		if err != nil {
			return err
		}
		err = src.Push.Members.MaySubscribe(ctx, ch, &models.User{ID: sub.User})
		switch {
		case errors.Is(err, models.ErrForbidden):
			hub.Revoke(sub.Channel, sub.User, err.Error())
		case err != nil:
			return err
		}
	}
	healthy()
	for {
		change, err := feed.Next()
		if err != nil {
			return err
		}
		if change.Channel != "" {
			hub.Revoke(change.Channel, change.User, "no longer a member of channel "+change.Channel)
		}
	}
}
