// Package wspark serves WebSockets that cost nothing while idle: after the
// handshake a connection holds no goroutine and no buffers, only its socket
// and a small record, the way ssehub parks SSE streams.
//
//   - Reading: the server's poller (package sockpoll, Linux epoll) says when
//     a parked socket has bytes; a goroutine then reads and handles the
//     client's frames until none is left, and the socket is parked again.
//     A frame that has begun must be complete within ReadTimeout, so a
//     client that stalls mid-frame cannot hold that goroutine: it is closed
//     with 1008.
//   - Writing: the Handler queues messages elsewhere and calls Wake; a few
//     shared writers take everything queued for a socket (Handler.Outbox,
//     frames made once per message by the caller) and write it in one
//     write. A write that the socket does not take at once moves to a
//     goroutine of its own, bounded by WriteTimeout, so one stalled client
//     never delays the others; one that stays stalled is cut.
//   - Keep-alive: a shared sweeper, once a second, pings sockets from which
//     nothing was heard for KeepAlive, and tells the Handler (Unresponsive)
//     of those that showed no sign of life within KeepAlive of the ping.
//   - Closing: Close queues a close frame after what is being written; the
//     socket is then half-closed and closed once the client answers or
//     hangs up, or after a second. Server.Close sends 1001 to every
//     connection and waits for them.
//
// Connections that cannot be parked (no poller: not Linux; no file
// descriptor: TLS) get a reading goroutine and a writing goroutine of their
// own, running the same frame code, so behaviour is the same.
//
// The protocol is RFC 6455 without extensions (permessage-deflate is never
// negotiated), framed with github.com/gobwas/ws: client frames must be
// masked and must not set RSV bits (1002), control frames are at most 125
// bytes and never fragmented (1002), messages may be fragmented and are
// limited to SetReadLimit bytes (1009), text must be valid UTF-8 (1007), a
// ping is answered with a pong carrying its payload, and a close frame with
// a close frame.
package wspark
