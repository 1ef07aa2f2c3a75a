package models

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// PushEvent is an event pushed to a channel. Seq orders a channel's events:
// 1, 2, 3, ... with no gaps, in commit order, so a subscriber that has seq n
// needs exactly the events after n.
//
// How: a writer reads the channel's highest seq through the [channel, seq]
// index and inserts seq+1 with the primary key <channel>/<seq+1>. Two
// writers racing for the same seq insert the same key; one gets the
// conflict and tries again with the next. So seq n+1 is only ever written
// after n is committed, and the changefeed, which carries writes in commit
// order, carries a channel's events in seq order.
//
// Events that other programs insert raw ({channel, data}, any key, no seq)
// are stamped by one writer (Stamp, run by the worker): it appends a copy
// with a seq and deletes the raw one. Subscribers only ever see stamped
// events.
type PushEvent struct {
	ID        string    `rethinkdb:"id"`
	Channel   string    `rethinkdb:"channel"`
	Seq       uint64    `rethinkdb:"seq"`
	Data      any       `rethinkdb:"data"`
	CreatedAt time.Time `rethinkdb:"created_at"`
}

// Events is the events table.
type Events struct {
	st      *Store
	push    *Push
	table   r.Term
	history History
}

// MaxEventData is the largest event data, as JSON.
const MaxEventData = 64 << 10

// appendAttempts bounds the retries of a writer that keeps losing the race
// for the next seq.
const appendAttempts = 100

func eventID(channel string, seq uint64) string {
	return channel + "/" + strconv.FormatUint(seq, 10)
}

// Post appends data to the channel named (or with the id) ref, checking it
// is a channel events may be posted to, and returns the event's seq and the
// channel's name.
func (e *Events) Post(ctx context.Context, ref string, data any) (uint64, string, error) {
	name, err := e.target(ctx, ref, data)
	if err != nil {
		return 0, "", err
	}
	seq, err := e.append(ctx, name, data, "")
	return seq, name, err
}

// target is the name of the channel ref if events with data may be posted
// to it.
func (e *Events) target(ctx context.Context, ref string, data any) (string, error) {
	ch, err := e.push.Channels.Get(ctx, ref)
	if err != nil {
		return "", err
	}
	if ch.Board != "" {
		return "", forbidden("channel %s carries the board's updates: events cannot be posted to it", ch.Name)
	}
	if err := CheckEventData(data); err != nil {
		return "", err
	}
	return ch.Name, nil
}

// CheckEventData refuses data RethinkDB would take for something else: an
// object with a $reql_type$ field is a pseudo-type (a time, binary data).
func CheckEventData(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "$reql_type$" {
				return invalid("event data must not have a field named $reql_type$")
			}
			if err := CheckEventData(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := CheckEventData(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// append inserts the channel's next event (see PushEvent) and prunes the
// channel's history beyond its size. raw is the id of the raw event it
// stamps, if any.
func (e *Events) append(ctx context.Context, channel string, data any, raw string) (uint64, error) {
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	for attempt := 0; attempt < appendAttempts; attempt++ {
		last, err := e.lastSeq(ctx, channel)
		if err != nil {
			return 0, err
		}
		seq := last + 1
		doc := map[string]any{
			"id": eventID(channel, seq), "channel": channel, "seq": seq, "data": data, "created_at": r.Now(),
		}
		if raw != "" {
			doc["raw"] = raw
		}
		res, err := e.st.write(ctx, "append event", e.table.Insert(doc))
		if err != nil {
			return 0, err
		}
		if strings.HasPrefix(res.FirstError, "Duplicate primary key") {
			// Another writer took seq: read the new last one and retry,
			// after a moment if this keeps happening.
			if attempt > 2 {
				time.Sleep(time.Duration(rand.IntN(1000*attempt)) * time.Microsecond)
			}
			continue
		}
		if res.Errors > 0 {
			return 0, classify("append event", errors.New(res.FirstError))
		}
		e.pruneSize(ctx, channel, seq)
		return seq, nil
	}
	return 0, fmt.Errorf("append event: %w: %d writers in a row took the next seq of %s",
		ErrUnavailable, appendAttempts, channel)
}

// channelRange is the channel's events in the [channel, seq] index from
// seq from (inclusive) on.
func (e *Events) channelRange(channel string, from any) r.Term {
	return e.table.Between([]any{channel, from}, []any{channel, r.MaxVal}, r.BetweenOpts{Index: channelSeqIndex})
}

// LastSeq is the seq of the channel's last event; 0 if it has none.
func (e *Events) LastSeq(ctx context.Context, channel string) (uint64, error) {
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	return e.lastSeq(ctx, channel)
}

func (e *Events) lastSeq(ctx context.Context, channel string) (uint64, error) {
	var seqs []uint64
	err := e.channelRange(channel, r.MinVal).
		OrderBy(r.OrderByOpts{Index: r.Desc(channelSeqIndex)}).
		Limit(1).Field("seq").
		ReadAll(&seqs, e.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return 0, classify("last event of channel", err)
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	return seqs[0], nil
}

// After returns up to limit of the channel's retained events with seq
// after after, in seq order. Events older than the history's TTL are not
// retained, even while they are still stored.
func (e *Events) After(ctx context.Context, channel string, after uint64, limit int) ([]PushEvent, error) {
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	var evs []PushEvent
	err := e.channelRange(channel, after+1).
		OrderBy(r.OrderByOpts{Index: channelSeqIndex}).
		Limit(limit).
		ReadAll(&evs, e.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("events of channel", err)
	}
	if e.history.TTL <= 0 {
		return evs, nil // no age limit
	}
	cutoff := time.Now().Add(-e.history.TTL)
	i := 0
	for i < len(evs) && evs[i].CreatedAt.Before(cutoff) {
		i++
	}
	return evs[i:], nil
}

// pruneSize deletes the channel's events that fell out of its history now
// that seq is its last: at most a few per append, so never unbounded work.
// Best effort: what it leaves, the next append deletes.
func (e *Events) pruneSize(ctx context.Context, channel string, seq uint64) {
	if e.history.Size <= 0 || seq <= uint64(e.history.Size) {
		return
	}
	_, _ = e.table.Between([]any{channel, r.MinVal}, []any{channel, seq - uint64(e.history.Size)},
		r.BetweenOpts{Index: channelSeqIndex, RightBound: "closed"}).
		Delete().RunWrite(e.st.session, r.RunOpts{Context: ctx})
}

// PruneExpired looks at up to limit events older than the history's TTL,
// oldest first from the time from on, and deletes them, except each
// channel's last event, which holds the channel's seq (a channel whose
// events were all deleted would start again at 1). It returns the time to
// go on from and how many events it looked at: fewer than limit means it
// reached the end. Kept last events are looked at again only when the caller
// starts over from the zero time.
func (e *Events) PruneExpired(ctx context.Context, from time.Time, limit int) (time.Time, int, error) {
	if e.history.TTL <= 0 {
		return from, 0, nil // no age limit
	}
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	cutoff := r.Now().Sub(e.history.TTL.Seconds())
	var lower any = r.MinVal
	if !from.IsZero() {
		lower = from
	}
	var old []PushEvent
	err := e.table.Between(lower, cutoff, r.BetweenOpts{Index: eventsCreatedIndex}).
		OrderBy(r.OrderByOpts{Index: eventsCreatedIndex}).
		Limit(limit).Pluck("id", "channel", "seq", "created_at").
		ReadAll(&old, e.st.session, run)
	if err != nil {
		return from, 0, classify("expired events", err)
	}
	last := map[string]uint64{}
	var ids []any
	for _, ev := range old {
		from = ev.CreatedAt
		if ev.Seq == 0 {
			continue // a raw event: Stamp's
		}
		l, ok := last[ev.Channel]
		if !ok {
			if l, err = e.lastSeq(ctx, ev.Channel); err != nil {
				return from, 0, err
			}
			last[ev.Channel] = l
		}
		if ev.Seq < l {
			ids = append(ids, ev.ID)
		}
	}
	if len(ids) > 0 {
		if _, err := e.table.GetAll(ids...).Delete().RunWrite(e.st.session, run); err != nil {
			return from, 0, classify("prune events", err)
		}
	}
	return from, len(old), nil
}

// deleteChannel deletes every event of the channel.
func (e *Events) deleteChannel(ctx context.Context, channel string) error {
	_, err := e.channelRange(channel, r.MinVal).Delete().RunWrite(e.st.session, r.RunOpts{Context: ctx})
	return classify("delete channel's events", err)
}

// rawEvent is an event as another program may insert it.
type rawEvent struct {
	ID      any    `rethinkdb:"id"`
	Channel any    `rethinkdb:"channel"`
	Data    any    `rethinkdb:"data"`
	Seq     *int64 `rethinkdb:"seq"`
}

// Pending returns up to limit ids of events inserted raw and not stamped
// yet.
func (e *Events) Pending(ctx context.Context, limit int) ([]any, error) {
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	var ids []any
	err := e.table.GetAllByIndex(pendingIndex, true).Limit(limit).Field("id").
		ReadAll(&ids, e.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("pending events", err)
	}
	return ids, nil
}

// Stamp gives the raw event with id its place in its channel: it appends a
// copy with the next seq and deletes the raw one. It is idempotent (a
// copy already made is found by the raw event's id), and must run in one
// process at a time, or two could both copy the same raw event. A raw event
// that names no channel events may be posted to is deleted, and reported as
// ErrInvalid.
func (e *Events) Stamp(ctx context.Context, id any) error {
	ctx, cancel := e.st.queryContext(ctx)
	defer cancel()
	var raw rawEvent
	err := e.table.Get(id).ReadOne(&raw, e.st.session, r.RunOpts{Context: ctx})
	if errors.Is(err, r.ErrEmptyResult) {
		return nil
	}
	if err != nil {
		return classify("read raw event", err)
	}
	if raw.Seq != nil {
		return nil
	}
	key := fmt.Sprint(id)
	var stamped int
	err = e.table.GetAllByIndex(rawIndex, key).Count().ReadOne(&stamped, e.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("find stamped event", err)
	}
	var refused error
	if stamped == 0 {
		ref, _ := raw.Channel.(string)
		var name string
		name, refused = e.target(ctx, ref, raw.Data)
		switch {
		case refused == nil:
			if _, err := e.append(ctx, name, raw.Data, key); err != nil {
				return err
			}
		case !errors.Is(refused, ErrNotFound) && !errors.Is(refused, ErrForbidden) && !errors.Is(refused, ErrInvalid):
			return refused
		}
	}
	_, err = e.table.Get(id).Delete().RunWrite(e.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("delete raw event", err)
	}
	if refused != nil {
		return fmt.Errorf("raw event %v refused: %w", id, refused)
	}
	return nil
}

// EventChange is a write to the events table: a stamped event inserted
// (Event), or a raw one to stamp (RawID); neither for other writes
// (pruning, deletions).
type EventChange struct {
	Event *PushEvent
	RawID any
}

// Changes follows the events table.
func (e *Events) Changes(ctx context.Context) (*Feed[EventChange], error) {
	return openFeed(ctx, e.st, e.table.Changes(), func(doc changeDoc) (EventChange, error) {
		m, ok := doc.NewVal.(map[string]any)
		if !ok || doc.OldVal != nil {
			return EventChange{}, nil
		}
		if _, stamped := m["seq"]; !stamped {
			return EventChange{RawID: m["id"]}, nil
		}
		var ev PushEvent
		if err := decode(m, &ev); err != nil || ev.Seq == 0 || ev.ID != eventID(ev.Channel, ev.Seq) {
			// A seq the protocol did not give (see PushEvent): not ours to
			// deliver.
			return EventChange{}, nil
		}
		return EventChange{Event: &ev}, nil
	})
}
