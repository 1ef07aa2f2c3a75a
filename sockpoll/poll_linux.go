package sockpoll

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// Poller waits for readability of many sockets on one goroutine.
type Poller struct {
	epfd int
	// wake is a pipe whose read end is in the interest list: a byte written
	// to it ends the wait when the poller closes.
	wake [2]int

	// mu guards the registrations and the descriptors: epoll_ctl runs under
	// the read lock, so Close cannot close epfd under it (a closed number
	// may be reused by another file).
	mu     sync.RWMutex
	regs   map[uint64]*Watch
	next   uint64
	closed bool
	done   chan struct{}
}

// Watch is one socket's registration.
type Watch struct {
	p     *Poller
	id    uint64
	raw   syscall.RawConn
	ready func()
}

// wakeID is the pipe's registration; sockets' ids start above it.
const wakeID = 0

// New starts a poller.
func New() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("sockpoll: epoll_create1: %w", err)
	}
	p := &Poller{epfd: epfd, regs: map[uint64]*Watch{}, next: wakeID + 1, done: make(chan struct{})}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("sockpoll: pipe2: %w", err)
	}
	ev := event(wakeID, syscall.EPOLLIN)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.closeFDs()
		return nil, fmt.Errorf("sockpoll: epoll_ctl: %w", err)
	}
	go p.loop()
	return p, nil
}

// interest is what a socket is watched for; EPOLLRDHUP reports a peer
// that closed its side even when no byte comes with it.
const interest = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// event is an epoll event carrying id in its 64 bits of user data, which
// every Linux port of package syscall spells as Fd and Pad.
func event(id uint64, events uint32) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

func eventID(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// ErrClosed is returned for registrations on a closed poller.
var ErrClosed = errors.New("sockpoll: poller closed")

// Add watches the socket of raw and arms the watch: ready is called, on
// the poller's goroutine, once the socket is readable or its peer hung up.
// ready must not block: it hands the socket to a goroutine that reads it
// and then calls Rearm.
func (p *Poller) Add(raw syscall.RawConn, ready func()) (*Watch, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	w := &Watch{p: p, id: p.next, raw: raw, ready: ready}
	p.next++
	p.regs[w.id] = w
	p.mu.Unlock()
	if err := w.ctl(syscall.EPOLL_CTL_ADD); err != nil {
		p.mu.Lock()
		delete(p.regs, w.id)
		p.mu.Unlock()
		return nil, err
	}
	return w, nil
}

// Rearm watches the socket again after ready was called.
func (w *Watch) Rearm() error { return w.ctl(syscall.EPOLL_CTL_MOD) }

// Remove stops watching the socket; call it before closing the socket. A
// ready call already under way may still come.
func (w *Watch) Remove() {
	_ = w.ctl(syscall.EPOLL_CTL_DEL)
	w.p.mu.Lock()
	delete(w.p.regs, w.id)
	w.p.mu.Unlock()
}

func (w *Watch) ctl(op int) error {
	w.p.mu.RLock()
	defer w.p.mu.RUnlock()
	if w.p.closed {
		return ErrClosed
	}
	var err error
	ev := event(w.id, interest)
	// Control keeps the descriptor open for the call: a socket closed
	// meanwhile fails here instead of a reused number being registered.
	cerr := w.raw.Control(func(fd uintptr) {
		err = syscall.EpollCtl(w.p.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return fmt.Errorf("sockpoll: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("sockpoll: epoll_ctl: %w", err)
	}
	return nil
}

func (p *Poller) loop() {
	defer close(p.done)
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			// Only a bad descriptor fails here, and the poller owns it.
			panic(fmt.Sprintf("sockpoll: epoll_wait: %v", err))
		}
		for i := range n {
			id := eventID(&events[i])
			if id == wakeID {
				return
			}
			p.mu.RLock()
			w := p.regs[id]
			p.mu.RUnlock()
			if w != nil {
				w.ready()
			}
		}
	}
}

// Close stops the poller; its watches are forgotten (the sockets are not
// closed). Ready is not called after Close returns.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	_, _ = syscall.Write(p.wake[1], []byte{0})
	<-p.done
	p.mu.Lock()
	p.regs = nil
	p.closeFDs()
	p.mu.Unlock()
	return nil
}

func (p *Poller) closeFDs() {
	_ = syscall.Close(p.epfd)
	_ = syscall.Close(p.wake[0])
	_ = syscall.Close(p.wake[1])
}
