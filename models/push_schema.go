package models

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
