// Package connlimit caps long-lived connections (SSE streams now, WebSockets
// later): in total, so the process keeps file descriptors for health checks,
// score writes and its database connections, and per client address, so one
// client cannot take them all.
//
//	streams := connlimit.New(connlimit.DefaultTotal(), connlimit.DefaultPerClient)
//	...
//	release, err := streams.Acquire(clientIP)
//	if err != nil {
//		return err // ErrTooManyStreams or ErrTooManyFromClient: 503 with Retry-After
//	}
//	defer release()
//
// A Limiter counts; it does not wait and holds no connection itself.
package connlimit

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Why Acquire refused a connection. Both mean "try again later" (503 with
// Retry-After); ErrTooManyFromClient says the caller is the one holding many.
var (
	// ErrTooManyStreams: the process holds its total cap of connections.
	ErrTooManyStreams = errors.New("connlimit: too many streams")
	// ErrTooManyFromClient: this client address holds its cap of connections.
	ErrTooManyFromClient = errors.New("connlimit: too many streams from this client")
)

// DefaultPerClient is the recommended cap per client address: far above what one
// browser holds (a stream per open tab, six connections per host over HTTP/1.1),
// high enough for an office or a venue behind one NAT address watching boards,
// and low enough that filling the total takes dozens of addresses (about 60 at
// the total DefaultTotal gives for a file limit of 20,000).
const DefaultPerClient = 256

// Limiter counts connections in total and per client address. Its methods are
// safe for concurrent use. The zero value is not usable; call New.
type Limiter struct {
	total, perClient int

	mu       sync.Mutex
	open     int
	byClient map[string]int // only clients with at least one connection
}

// New returns a Limiter that allows total connections in all and perClient from
// any one client address; zero or less means no cap of that kind.
func New(total, perClient int) *Limiter {
	return &Limiter{total: total, perClient: perClient, byClient: make(map[string]int)}
}

// Acquire takes a slot for a connection from clientAddr, or returns
// ErrTooManyFromClient or ErrTooManyStreams (checked in that order) and takes
// nothing. release gives the slot back; call it when the connection ends.
// Calling it again does nothing.
//
// clientAddr is the client's IP address, with or without a port (a RemoteAddr
// will do, but behind a proxy pass the address the proxy reports, such as
// echo.Context.RealIP, or every client counts as the proxy). An IPv6 address
// counts for its whole /64, which one subscriber line is routinely given; an
// IPv4-mapped IPv6 address counts as the IPv4 address. Anything unparsable
// counts under its own text.
func (l *Limiter) Acquire(clientAddr string) (release func(), err error) {
	key := clientKey(clientAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perClient > 0 && l.byClient[key] >= l.perClient {
		return nil, ErrTooManyFromClient
	}
	if l.total > 0 && l.open >= l.total {
		return nil, ErrTooManyStreams
	}
	l.open++
	l.byClient[key]++
	var once sync.Once
	return func() { once.Do(func() { l.release(key) }) }, nil
}

func (l *Limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if n := l.byClient[key] - 1; n > 0 {
		l.byClient[key] = n
	} else {
		delete(l.byClient, key)
	}
}

// InUse reports how many slots are taken, for metrics and health output.
func (l *Limiter) InUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// clientKey is what a client address is counted under.
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			// A host name, or an address with a zone and a port.
			host, _, serr := net.SplitHostPort(addr)
			if serr != nil {
				return addr
			}
			if ip, err = netip.ParseAddr(host); err != nil {
				return host
			}
		} else {
			ip = ap.Addr()
		}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}
