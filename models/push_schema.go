package models

import (
	"context"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// The push service's tables.
const (
	usersTable    = "users"
	tokensTable   = "tokens"
	channelsTable = "channels"
	membersTable  = "members"
	eventsTable   = "events"
)

// The push service's secondary indexes.
const (
	// userIndex: tokens and members by user id; channels by their direct
	// user.
	userIndex = "user"
	// channelIndex: members by channel id.
	channelIndex = "channel"
	// expiresIndex: tokens by expiry, for the janitor.
	expiresIndex = "expires_at"
	// channelSeqIndex orders a channel's stamped events: [channel, seq].
	// Events inserted raw, without seq, are not in it.
	channelSeqIndex = "channel_seq"
	// pendingIndex holds only events inserted raw, without seq (key true).
	pendingIndex = "pending"
	// rawIndex finds the stamped copy of a raw event by the raw event's id,
	// so stamping is idempotent.
	rawIndex = "raw"
	// eventsCreatedIndex: events by insertion time, for pruning by age.
	eventsCreatedIndex = "created_at"
)

// pushIndexes are the secondary indexes of the push tables: a field name
// or an index function.
var pushIndexes = map[string]map[string]any{
	usersTable:    {},
	tokensTable:   {userIndex: "user", expiresIndex: "expires_at"},
	channelsTable: {userIndex: "user"},
	membersTable:  {userIndex: "user", channelIndex: "channel"},
	eventsTable: {
		channelSeqIndex:    func(e r.Term) any { return []any{e.Field("channel"), e.Field("seq")} },
		pendingIndex:       func(e r.Term) any { return r.Branch(e.HasFields("seq"), nil, true) },
		rawIndex:           "raw",
		eventsCreatedIndex: "created_at",
	},
}

// EnsurePushSchema creates the push service's tables and indexes that are
// missing and waits for the indexes, like EnsureSchema (which must run
// first: it creates the database). It is idempotent; a racing creator's
// "already exists" is success.
func (st *Store) EnsurePushSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	var tables []string
	if err := st.db.TableList().ReadAll(&tables, st.session, run); err != nil {
		return classify("list tables", err)
	}
	for _, name := range []string{usersTable, tokensTable, channelsTable, membersTable, eventsTable} {
		if containsString(tables, name) {
			continue
		}
		if _, err := st.db.TableCreate(name).RunWrite(st.session, run); err != nil && !alreadyExists(err) {
			return classify("create table "+name, err)
		}
	}
	for table, want := range pushIndexes {
		t := st.db.Table(table)
		var indexes []string
		if err := t.IndexList().ReadAll(&indexes, st.session, run); err != nil {
			return classify("list indexes of "+table, err)
		}
		for name, fn := range want {
			if containsString(indexes, name) {
				continue
			}
			var err error
			if field, ok := fn.(string); ok {
				_, err = t.IndexCreate(field).RunWrite(st.session, run)
			} else {
				_, err = t.IndexCreateFunc(name, fn).RunWrite(st.session, run)
			}
			if err != nil && !alreadyExists(err) {
				return classify("create index "+table+"."+name, err)
			}
		}
		if err := t.IndexWait().Exec(st.session, r.ExecOpts{Context: ctx}); err != nil {
			return classify("wait for indexes of "+table, err)
		}
	}
	return nil
}
