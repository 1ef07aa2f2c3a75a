// Package sockpoll tells when sockets become readable without a goroutine
// per socket: one goroutine waits in epoll_wait for all of them and calls
// each socket's ready function once it has bytes to read or its peer hung
// up.
//
// Go's own netpoller tells readiness only to a goroutine blocked in Read,
// so a connection that must cost nothing while idle (a parked WebSocket)
// registers here as well. The same descriptor in two epoll instances is
// allowed: each has its own interest list, and the runtime's registration
// (edge-triggered, for Read and Write with deadlines) is left as it is.
//
// A registration is one-shot (EPOLLONESHOT): after ready is called the
// socket is not watched until Rearm, so a socket is handled by at most one
// goroutine at a time, and rearming a socket that has bytes waiting calls
// ready again at once (level-triggered).
//
// Only Linux has it; elsewhere New returns errors.ErrUnsupported and
// callers keep a goroutine per connection.
package sockpoll
