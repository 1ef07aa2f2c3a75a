// Package ssehub streams board changes to spectators as Server-Sent Events.
//
// Every event carries a whole board and its seq, so the hub keeps no history:
// a subscriber gets the current board (unless its Last-Event-ID is exactly that
// board's seq; an id the server cannot place, ahead of the board or garbage,
// gets the board), then every newer one, and never one older than what it was
// last sent. Serve
// subscribes before it reads the snapshot, so an update that lands in between
// is neither lost nor sent twice.
//
// Publish never waits for a subscriber. Each one has a bounded queue of
// pre-formatted frames shared by all subscribers of the topic; when it is full,
// or when one write takes longer than WriteTimeout, that subscriber is dropped:
// its connection is cut (a pending write is interrupted with a past write
// deadline), and the client reconnects and resumes from Last-Event-ID, which
// costs it nothing because the next board it gets is whole. A topic exists only
// while it has subscribers. Close ends every stream, stalled ones included, so
// http.Server.Shutdown is not left waiting on streams that never go idle.
//
// # Why not github.com/r3labs/sse/v2
//
// The product card chose r3labs/sse/v2 (v2.10.0). Measured in this package's
// tests (go test -run R3labs -v ./ssehub/), it cannot meet the requirements,
// so it is not on the serving path; its client is still used in the tests as
// an independent SSE implementation.
//
//   - Fan-out blocks. One client that stops reading (small socket buffers,
//     16 KiB events published in lock step) stalled the stream after the
//     healthy client had 66 of 200 events: it got nothing more until the
//     stalled client hung up. TryPublish only starts dropping once the
//     stream's 1024-slot queue is full, and then drops for every subscriber.
//     Same measurement with ssehub: 200 of 200 (≈0.3 ms per event), the stalled
//     client dropped by the 7th event with Buffer 4.
//   - AutoReplay (the default) keeps every event for ever: 10,000 events of
//     1 KiB kept 12.8 MiB of heap, all replayed to the next client. It also
//     rewrites ids to log positions (published 1000, replayed as 0), answers a
//     non-integer Last-Event-ID with 400, and replays the event the client
//     already had. Without AutoReplay there is no resume at all.
//   - RemoveStream with 10 connected subscribers left 10 goroutines blocked for
//     ever in Subscriber.close, which rules it out for closing deleted boards.
//   - No keep-alive, no per-subscriber ordering, and the stream is chosen by a
//     ?stream= query parameter rather than by the route.
//
// Wrapping it would not help: the blocking send is inside its stream goroutine.
// What replaces it is small (a map of topics, a channel per subscriber, one
// write loop), and the whole protocol surface is FormatEvent.
package ssehub
