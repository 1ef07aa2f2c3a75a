package models

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Push is the push service's persistence: users and their tokens, channels
// and their members, and the events pushed to channels. Every web process
// follows the events table's changefeed, so an event written by anyone
// reaches every subscriber: the database is the bus.
type Push struct {
	Users    *Users
	Tokens   *Tokens
	Channels *Channels
	Members  *Members
	Events   *Events
}

// History bounds what each channel keeps of its past events; a zero field
// sets no bound.
type History struct {
	// Size is how many events a channel keeps at most.
	Size int
	// TTL is how long an event is kept.
	TTL time.Duration
}

// NewPush is the push service over st's database. Its tables must exist
// (EnsureSchema).
func NewPush(st *Store, h History) *Push {
	p := &Push{
		Users:    &Users{st: st, table: st.db.Table(usersTable)},
		Tokens:   &Tokens{st: st, table: st.db.Table(tokensTable)},
		Channels: &Channels{st: st, table: st.db.Table(channelsTable)},
		Members:  &Members{st: st, table: st.db.Table(membersTable)},
		Events:   &Events{st: st, table: st.db.Table(eventsTable), history: h},
	}
	p.Users.push, p.Tokens.push, p.Channels.push, p.Members.push, p.Events.push = p, p, p, p, p
	return p
}

// Channel types.
const (
	// Fanout: any valid token may subscribe.
	Fanout = "fanout"
	// Topic: only the channel's members may subscribe.
	Topic = "topic"
	// Direct: one user may subscribe; every user has one, private-<username>.
	Direct = "direct"
)

// Reserved channel name prefixes: names given to POST /channels cannot
// start with them.
const (
	// DirectPrefix starts every user's own direct channel.
	DirectPrefix = "private-"
	// BoardPrefix starts every board's channel, board-<board id>: its events
	// are the board's updates.
	BoardPrefix = "board-"
)

// MaxPushName is the longest user or channel name.
const MaxPushName = 64

// DirectChannel is the name of the user's own direct channel.
func DirectChannel(username string) string { return DirectPrefix + username }

// checkPushName: 1-64 of A-Z a-z 0-9 _ . : -, as user names and channel
// names must be.
func checkPushName(what, s string) error {
	if s == "" || len(s) > MaxPushName {
		return invalid("%s must be 1-%d characters of A-Z a-z 0-9 _ . : -", what, MaxPushName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == ':' || c == '-' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return invalid("%s must be 1-%d characters of A-Z a-z 0-9 _ . : -", what, MaxPushName)
		}
	}
	return nil
}

// validChannelName: a name a channel may have, board and direct channels
// included (private- and a user name is longer than MaxPushName).
func validChannelName(s string) bool {
	if rest, ok := cutPrefix(s, DirectPrefix); ok {
		return checkPushName("", rest) == nil
	}
	return checkPushName("", s) == nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// nameID is the primary key of the thing of kind named name. Keys derived
// from names make a name unique in RethinkDB, which has no unique secondary
// indexes: two processes creating the same name at once insert the same
// key, and one of them gets the conflict.
func nameID(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	return hex.EncodeToString(sum[:16])
}
