package models

import (
	"context"
	"errors"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Channel is where events are pushed. Type says who may subscribe (Fanout,
// Topic, Direct). User is a direct channel's one user, if it has one.
// Board channels (board-<board id>) are not stored: they are the boards.
type Channel struct {
	ID        string    `rethinkdb:"id"`
	Name      string    `rethinkdb:"name"`
	Type      string    `rethinkdb:"type"`
	User      string    `rethinkdb:"user,omitempty"`
	CreatedAt time.Time `rethinkdb:"created_at"`
	// Board is the board's id when this is a board's channel.
	Board string `rethinkdb:"-"`
}

// Channels is the channels table.
type Channels struct {
	st    *Store
	push  *Push
	table r.Term
}

func channelID(name string) string { return nameID("channel", name) }

// Create creates a channel; ErrConflict if the name is taken.
func (c *Channels) Create(ctx context.Context, name, typ string) (*Channel, error) {
	if err := checkPushName("channel name", name); err != nil {
		return nil, err
	}
	for _, prefix := range []string{DirectPrefix, BoardPrefix} {
		if strings.HasPrefix(name, prefix) {
			return nil, invalid("channel names starting with %q are reserved", prefix)
		}
	}
	if typ != Fanout && typ != Topic && typ != Direct {
		return nil, invalid(`channel type must be "fanout", "topic" or "direct"`)
	}
	ctx, cancel := c.st.queryContext(ctx)
	defer cancel()
	res, err := c.st.write(ctx, "create channel", c.table.Insert(map[string]any{
		"id": channelID(name), "name": name, "type": typ, "created_at": r.Now(),
	}, r.InsertOpts{ReturnChanges: true}))
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(res.FirstError, "Duplicate primary key") {
		return nil, conflict("channel name %q is taken", name)
	}
	if res.Errors > 0 || len(res.Changes) != 1 {
		return nil, classify("create channel", errors.New(res.FirstError))
	}
	var ch Channel
	if err := decode(res.Changes[0].NewValue, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Get returns the channel whose id or name is ref; a board's channel if ref
// is board-<id> of a board that exists.
func (c *Channels) Get(ctx context.Context, ref string) (*Channel, error) {
	if !validID(ref) {
		return nil, notFound("channel")
	}
	if id, ok := cutPrefix(ref, BoardPrefix); ok {
		board, err := c.st.Boards.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, notFound("channel")
		}
		if err != nil {
			return nil, err
		}
		return &Channel{ID: ref, Name: ref, Type: Fanout, CreatedAt: board.CreatedAt, Board: board.ID}, nil
	}
	ctx, cancel := c.st.queryContext(ctx)
	defer cancel()
	keys := []any{ref}
	if validChannelName(ref) {
		keys = append(keys, channelID(ref))
	}
	var chans []Channel
	if err := c.table.GetAll(keys...).ReadAll(&chans, c.st.session, r.RunOpts{Context: ctx}); err != nil {
		return nil, classify("get channel", err)
	}
	for _, ch := range chans {
		if ch.ID == ref {
			return &ch, nil
		}
	}
	if len(chans) == 0 {
		return nil, notFound("channel")
	}
	return &chans[0], nil
}

// List returns up to limit stored channels in id order after the id after
// ("" for the first page). Board channels are listed by GET /boards.
func (c *Channels) List(ctx context.Context, after string, limit int) ([]Channel, error) {
	ctx, cancel := c.st.queryContext(ctx)
	defer cancel()
	var chans []Channel
	err := pageByID(c.table, after, limit).ReadAll(&chans, c.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("list channels", err)
	}
	return chans, nil
}

// Delete removes the channel, its members and its events. Board channels
// go with their boards, users' own direct channels with their users.
func (c *Channels) Delete(ctx context.Context, ref string) error {
	ch, err := c.Get(ctx, ref)
	if err != nil {
		return err
	}
	if err := ch.refuseAdmin(); err != nil {
		return err
	}
	ctx, cancel := c.st.queryContext(ctx)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	if _, err := c.push.Members.table.GetAllByIndex(channelIndex, ch.ID).Delete().RunWrite(c.st.session, run); err != nil {
		return classify("delete channel's members", err)
	}
	if err := c.push.Events.deleteChannel(ctx, ch.Name); err != nil {
		return err
	}
	res, err := c.table.Get(ch.ID).Delete().RunWrite(c.st.session, run)
	if err != nil {
		return classify("delete channel", err)
	}
	if res.Deleted == 0 {
		return notFound("channel")
	}
	return nil
}

// refuseAdmin refuses changes through the channels API to channels that
// belong to a board or a user.
func (ch *Channel) refuseAdmin() error {
	switch {
	case ch.Board != "":
		return forbidden("channel %s is the board's: it changes with the board", ch.Name)
	case strings.HasPrefix(ch.Name, DirectPrefix):
		return forbidden("channel %s is its user's own: it changes with the user", ch.Name)
	}
	return nil
}

// ChannelChange is a write to the channels table that ends subscriptions:
// the channel was deleted, or a direct channel lost its user (LostUser).
type ChannelChange struct {
	Name     string
	Deleted  bool
	LostUser string
}

// Changes follows the channels table.
func (c *Channels) Changes(ctx context.Context) (*Feed[ChannelChange], error) {
	return openFeed(ctx, c.st, c.table.Changes(), func(doc changeDoc) (ChannelChange, error) {
		var old, cur Channel
		if doc.OldVal == nil {
			return ChannelChange{}, nil
		}
		if err := decode(doc.OldVal, &old); err != nil {
			return ChannelChange{}, err
		}
		if doc.NewVal == nil {
			return ChannelChange{Name: old.Name, Deleted: true}, nil
		}
		if err := decode(doc.NewVal, &cur); err != nil {
			return ChannelChange{}, err
		}
		if old.User != "" && old.User != cur.User {
			return ChannelChange{Name: old.Name, LostUser: old.User}, nil
		}
		return ChannelChange{}, nil
	})
}

// Member is a user's membership of a topic channel.
type Member struct {
	ID          string `rethinkdb:"id"`
	Channel     string `rethinkdb:"channel"`
	ChannelName string `rethinkdb:"channel_name"`
	User        string `rethinkdb:"user"`
}

// Members is the members table (topic channels) and the user slot of direct
// channels.
type Members struct {
	st    *Store
	push  *Push
	table r.Term
}

func memberID(channel, user string) string { return nameID("member", channel+"\x00"+user) }

// Add makes the user a member of a topic channel, or the one user of a
// direct channel (ErrConflict if it has another). Adding twice is fine.
func (m *Members) Add(ctx context.Context, channelRef, userRef string) error {
	ch, user, err := m.resolve(ctx, channelRef, userRef)
	if err != nil {
		return err
	}
	ctx, cancel := m.st.queryContext(ctx)
	defer cancel()
	switch ch.Type {
	case Fanout:
		return invalid("channel %s is a fanout channel: anyone may subscribe, it has no members", ch.Name)
	case Direct:
		const taken = "leaderboard: direct channel taken"
		res, err := m.st.write(ctx, "add direct user", m.push.Channels.table.Get(ch.ID).Update(func(row r.Term) any {
			return r.Branch(row.Field("user").Default(nil).Eq(nil).Or(row.Field("user").Eq(user.ID)),
				map[string]any{"user": user.ID}, r.Error(taken))
		}))
		switch {
		case err != nil:
			return err
		case strings.Contains(res.FirstError, taken):
			return conflict("direct channel %s already has its user", ch.Name)
		case res.Skipped > 0:
			return notFound("channel")
		case res.Errors > 0:
			return classify("add direct user", errors.New(res.FirstError))
		}
		return nil
	}
	res, err := m.st.write(ctx, "add member", m.table.Insert(map[string]any{
		"id": memberID(ch.ID, user.ID), "channel": ch.ID, "channel_name": ch.Name, "user": user.ID,
	}, r.InsertOpts{Conflict: "replace"}))
	if err != nil {
		return err
	}
	if res.Errors > 0 {
		return classify("add member", errors.New(res.FirstError))
	}
	return nil
}

// Remove ends the user's membership; ErrNotFound if it had none.
func (m *Members) Remove(ctx context.Context, channelRef, userRef string) error {
	ch, user, err := m.resolve(ctx, channelRef, userRef)
	if err != nil {
		return err
	}
	ctx, cancel := m.st.queryContext(ctx)
	defer cancel()
	if ch.Type == Direct {
		res, err := m.st.write(ctx, "remove direct user", m.push.Channels.table.Get(ch.ID).Update(func(row r.Term) any {
			return r.Branch(row.Field("user").Default(nil).Eq(user.ID), map[string]any{"user": nil}, map[string]any{})
		}))
		if err != nil {
			return err
		}
		if res.Replaced == 0 {
			return notFound("member")
		}
		return nil
	}
	res, err := m.table.Get(memberID(ch.ID, user.ID)).Delete().RunWrite(m.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("remove member", err)
	}
	if res.Deleted == 0 {
		return notFound("member")
	}
	return nil
}

func (m *Members) resolve(ctx context.Context, channelRef, userRef string) (*Channel, *User, error) {
	ch, err := m.push.Channels.Get(ctx, channelRef)
	if err != nil {
		return nil, nil, err
	}
	if err := ch.refuseAdmin(); err != nil {
		return nil, nil, err
	}
	user, err := m.push.Users.Get(ctx, userRef)
	if err != nil {
		return nil, nil, err
	}
	return ch, user, nil
}

// MaySubscribe says whether the user may subscribe to the channel: nil, or
// ErrForbidden with the reason.
func (m *Members) MaySubscribe(ctx context.Context, ch *Channel, user *User) error {
	switch ch.Type {
	case Fanout:
		return nil
	case Direct:
		if ch.User == user.ID {
			return nil
		}
		return forbidden("channel %s is another user's direct channel", ch.Name)
	}
	ctx, cancel := m.st.queryContext(ctx)
	defer cancel()
	var member bool
	err := m.table.Get(memberID(ch.ID, user.ID)).Ne(nil).ReadOne(&member, m.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("check membership", err)
	}
	if !member {
		return forbidden("not a member of channel %s", ch.Name)
	}
	return nil
}

// MemberChange is a membership ended (or a direct channel's user changed):
// User may no longer subscribe to Channel.
type MemberChange struct {
	Channel, User string
}

// Changes follows the members table; only ended memberships are reported.
func (m *Members) Changes(ctx context.Context) (*Feed[MemberChange], error) {
	return openFeed(ctx, m.st, m.table.Changes(), func(doc changeDoc) (MemberChange, error) {
		if doc.NewVal != nil {
			return MemberChange{}, nil
		}
		var old Member
		if err := decode(doc.OldVal, &old); err != nil {
			return MemberChange{}, err
		}
		return MemberChange{Channel: old.ChannelName, User: old.User}, nil
	})
}
