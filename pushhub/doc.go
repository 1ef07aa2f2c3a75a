// Package pushhub delivers the events of push channels to a web process's
// own client connections, WebSocket or SSE alike: it keeps each
// connection's subscriptions, queues what each must receive, and catches a
// subscription up from the channel's history when it starts (from a client's
// "since") or when it sees a gap.
//
// Channels come in two kinds (Mode). A Log channel's events carry seq 1, 2,
// 3, ... with no gaps and arrive in that order (the events table guarantees
// it), so a subscription that has seq n needs exactly n+1 next: a later one
// means something was missed (a changefeed reconnect, a subscription still
// starting) and the subscription reads what it lacks from history before it
// takes live events again. Nothing is sent twice, nothing silently skipped:
// when history no longer holds what was missed, the client is told. A State
// channel's events each carry the whole state (a board): only a newer seq
// matters, and a subscription starts with the current state.
//
// Publish never waits for a client: a connection whose queue is full is
// closed (ErrSlow), and its client reconnects and resumes with since.
// History reads happen on a goroutine of the connection's own, started
// when a subscription has history to read and ended when none has, never
// under the hub's lock: an idle connection holds no goroutine. A transport
// either waits in Next (or selects on Ready and Takes), or sets Notify and
// Drains the queue when told.
package pushhub
