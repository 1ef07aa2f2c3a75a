package ssehub

import (
	"context"
	"net"
	"net/http"
)

type connKey struct{}

// ConnContext is an http.Server.ConnContext hook that records each connection in
// its context, so that Serve can shrink the kernel send buffer of the connections
// that carry streams (Config.SendBuffer). Install it on the server that serves
// streams:
//
//	srv := &http.Server{Handler: h, ConnContext: ssehub.ConnContext}
//
// or call it from a ConnContext hook of your own. Without it Serve cannot reach
// the connection, and a client that stops reading is noticed only once the
// kernel's autotuned send buffer (up to tcp_wmem's maximum, commonly 4 MiB) fills.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// writeBufferSetter is what *net.TCPConn and *net.UnixConn have in common.
type writeBufferSetter interface {
	SetWriteBuffer(bytes int) error
}

// setSendBuffer sets SO_SNDBUF on r's connection, if ConnContext recorded it. It
// reports whether it found the connection. HTTP/2 requests are left alone: their
// connection carries other streams and requests too.
//
// The buffer stays small for later requests on the same keep-alive connection;
// they still work, with a throughput bound of the buffer per round trip.
func setSendBuffer(r *http.Request, size int) bool {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if c == nil {
		return false
	}
	if r.ProtoMajor != 1 {
		return true
	}
	for c != nil {
		if s, ok := c.(writeBufferSetter); ok {
			// Linux doubles the value for its bookkeeping and stops autotuning it.
			_ = s.SetWriteBuffer(size)
			return true
		}
		// *tls.Conn, and wrappers that expose what they wrap the same way.
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return true
		}
		c = u.NetConn()
	}
	return true
}
