package models

import (
	"context"
	"errors"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// User is an app's user, known to the push service by the app's own id for
// it (Username). ID is derived from Username, so registering a name twice,
// even from two processes at once, is the same user.
type User struct {
	ID        string    `rethinkdb:"id"`
	Username  string    `rethinkdb:"username"`
	CreatedAt time.Time `rethinkdb:"created_at"`
}

// Users is the users table.
type Users struct {
	st    *Store
	push  *Push
	table r.Term
}

func userID(username string) string { return nameID("user", username) }

// Register returns the user called username, creating it (and its direct
// channel) if there is none.
func (u *Users) Register(ctx context.Context, username string) (*User, error) {
	if err := checkPushName("user name", username); err != nil {
		return nil, err
	}
	ctx, cancel := u.st.queryContext(ctx)
	defer cancel()
	keepOld := func(_, old, _ r.Term) any { return old }
	res, err := u.st.write(ctx, "register user", u.table.Insert(map[string]any{
		"id": userID(username), "username": username, "created_at": r.Now(),
	}, r.InsertOpts{Conflict: keepOld, ReturnChanges: "always"}))
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 || len(res.Changes) != 1 {
		return nil, classify("register user", errors.New(res.FirstError))
	}
	var user User
	if err := decode(res.Changes[0].NewValue, &user); err != nil {
		return nil, err
	}
	// The direct channel after the user: a failure here is repaired by the
	// next registration.
	direct := DirectChannel(username)
	res, err = u.st.write(ctx, "create direct channel", u.push.Channels.table.Insert(map[string]any{
		"id": channelID(direct), "name": direct, "type": Direct, "user": user.ID, "created_at": r.Now(),
	}, r.InsertOpts{Conflict: keepOld}))
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 {
		return nil, classify("create direct channel", errors.New(res.FirstError))
	}
	return &user, nil
}

// Get returns the user whose id or user name is ref.
func (u *Users) Get(ctx context.Context, ref string) (*User, error) {
	if !validID(ref) {
		return nil, notFound("user")
	}
	ctx, cancel := u.st.queryContext(ctx)
	defer cancel()
	keys := []any{ref}
	if checkPushName("", ref) == nil {
		keys = append(keys, userID(ref))
	}
	var users []User
	if err := u.table.GetAll(keys...).ReadAll(&users, u.st.session, r.RunOpts{Context: ctx}); err != nil {
		return nil, classify("get user", err)
	}
	for _, user := range users {
		if user.ID == ref { // an id wins over a name
			return &user, nil
		}
	}
	if len(users) == 0 {
		return nil, notFound("user")
	}
	return &users[0], nil
}

// List returns up to limit users in id order after the id after ("" for
// the first page).
func (u *Users) List(ctx context.Context, after string, limit int) ([]User, error) {
	ctx, cancel := u.st.queryContext(ctx)
	defer cancel()
	var users []User
	err := pageByID(u.table, after, limit).ReadAll(&users, u.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("list users", err)
	}
	return users, nil
}

// pageByID is keyset pagination on the primary key.
func pageByID(table r.Term, after string, limit int) r.Term {
	var lower any = r.MinVal
	bound := "closed"
	if after != "" {
		lower, bound = after, "open"
	}
	return table.Between(lower, r.MaxVal, r.BetweenOpts{LeftBound: bound}).
		OrderBy(r.OrderByOpts{Index: "id"}).
		Limit(limit)
}

// Channels returns the names of the channels each user may subscribe to
// because of who it is: its direct channel, the direct channels given to
// it, and the topics it is a member of (fanout channels are open to all).
func (u *Users) Channels(ctx context.Context, users ...User) (map[string][]string, error) {
	out := make(map[string][]string, len(users))
	if len(users) == 0 {
		return out, nil
	}
	ids := make([]any, len(users))
	for i, user := range users {
		ids[i] = user.ID
		out[user.ID] = []string{DirectChannel(user.Username)}
	}
	ctx, cancel := u.st.queryContext(ctx)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	var direct []Channel
	if err := u.push.Channels.table.GetAll(ids...).OptArgs(r.GetAllOpts{Index: userIndex}).
		ReadAll(&direct, u.st.session, run); err != nil {
		return nil, classify("channels of users", err)
	}
	for _, c := range direct {
		if _, own := cutPrefix(c.Name, DirectPrefix); !own {
			out[c.User] = append(out[c.User], c.Name)
		}
	}
	var members []Member
	if err := u.push.Members.table.GetAll(ids...).OptArgs(r.GetAllOpts{Index: userIndex}).
		ReadAll(&members, u.st.session, run); err != nil {
		return nil, classify("memberships of users", err)
	}
	for _, m := range members {
		out[m.User] = append(out[m.User], m.ChannelName)
	}
	return out, nil
}

// Delete removes the user: first every token (its open connections close),
// then its memberships, its direct channels and their events, then the
// user.
func (u *Users) Delete(ctx context.Context, ref string) error {
	user, err := u.Get(ctx, ref)
	if err != nil {
		return err
	}
	ctx, cancel := u.st.queryContext(ctx)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	if _, err := u.push.Tokens.table.GetAllByIndex(userIndex, user.ID).Delete().RunWrite(u.st.session, run); err != nil {
		return classify("revoke tokens", err)
	}
	if _, err := u.push.Members.table.GetAllByIndex(userIndex, user.ID).Delete().RunWrite(u.st.session, run); err != nil {
		return classify("delete memberships", err)
	}
	direct := DirectChannel(user.Username)
	if err := u.push.Events.deleteChannel(ctx, direct); err != nil {
		return err
	}
	if _, err := u.push.Channels.table.Get(channelID(direct)).Delete().RunWrite(u.st.session, run); err != nil {
		return classify("delete direct channel", err)
	}
	// Direct channels given to the user become free again.
	if _, err := u.push.Channels.table.GetAllByIndex(userIndex, user.ID).
		Update(map[string]any{"user": nil}).RunWrite(u.st.session, run); err != nil {
		return classify("free direct channels", err)
	}
	if _, err := u.table.Get(user.ID).Delete().RunWrite(u.st.session, run); err != nil {
		return classify("delete user", err)
	}
	return nil
}
