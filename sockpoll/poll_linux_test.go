package sockpoll_test

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/sockpoll"
)

// pair is a connected TCP pair: the server side (watched) and the client.
func pair(t *testing.T) (server *net.TCPConn, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	c, err := l.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn), client
}

func rawOf(t *testing.T, c *net.TCPConn) syscall.RawConn {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	return raw
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no ready call: %s", what)
	}
}

func quiet(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("unexpected ready call: %s", what)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestReadyOncePerArming(t *testing.T) {
	p, err := sockpoll.New()
	require.NoError(t, err)
	defer p.Close()
	srv, client := pair(t)
	ready := make(chan struct{}, 10)
	w, err := p.Add(rawOf(t, srv), func() { ready <- struct{}{} })
	require.NoError(t, err)

	quiet(t, ready, "nothing was sent")
	_, err = client.Write([]byte("a"))
	require.NoError(t, err)
	await(t, ready, "a byte arrived")
	_, err = client.Write([]byte("b"))
	require.NoError(t, err)
	quiet(t, ready, "one-shot: not rearmed yet")

	require.NoError(t, w.Rearm())
	await(t, ready, "rearmed with bytes waiting")
	buf := make([]byte, 8)
	n, err := srv.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(buf[:n]))
	require.NoError(t, w.Rearm())
	quiet(t, ready, "everything was read")

	require.NoError(t, client.Close())
	await(t, ready, "the peer hung up")
	w.Remove()
}

func TestRemovedAndClosed(t *testing.T) {
	p, err := sockpoll.New()
	require.NoError(t, err)
	srv, client := pair(t)
	ready := make(chan struct{}, 10)
	w, err := p.Add(rawOf(t, srv), func() { ready <- struct{}{} })
	require.NoError(t, err)
	w.Remove()
	_, err = client.Write([]byte("a"))
	require.NoError(t, err)
	quiet(t, ready, "removed")

	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "twice")
	_, err = p.Add(rawOf(t, srv), func() {})
	assert.ErrorIs(t, err, sockpoll.ErrClosed)
	assert.ErrorIs(t, w.Rearm(), sockpoll.ErrClosed)

	srv.Close()
	p2, err := sockpoll.New()
	require.NoError(t, err)
	defer p2.Close()
	_, err = p2.Add(rawOf(t, srv), func() {})
	assert.Error(t, err, "a closed socket cannot be watched")
}
