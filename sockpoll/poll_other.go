//go:build !linux

package sockpoll

import (
	"errors"
	"syscall"
)

// Poller is not available on this system: New fails, and callers keep a
// goroutine per connection.
type Poller struct{}

// Watch is one socket's registration.
type Watch struct{}

// ErrClosed is returned for registrations on a closed poller.
var ErrClosed = errors.New("sockpoll: poller closed")

// New returns errors.ErrUnsupported: epoll is Linux's.
func New() (*Poller, error) { return nil, errors.ErrUnsupported }

// Add is never reached without a Poller.
func (p *Poller) Add(syscall.RawConn, func()) (*Watch, error) { return nil, errors.ErrUnsupported }

// Rearm is never reached without a Poller.
func (w *Watch) Rearm() error { return errors.ErrUnsupported }

// Remove is never reached without a Poller.
func (w *Watch) Remove() {}

// Close does nothing.
func (p *Poller) Close() error { return nil }
