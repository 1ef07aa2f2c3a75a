package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// syncBuffer is stderr for a server running in another goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMain runs the command as main does, on a random loopback port, until
// the test ends; it returns the address and what it wrote to stderr.
func startMain(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	addrC := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), stderr, func(a string) { addrC <- a })
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	select {
	case addr := <-addrC:
		return addr, stderr
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not start")
	}
	return "", nil
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"-addr", "not an address"},
		{"-query-memory", "0"},
		{"-handshake-timeout", "-1s"},
		{"stray"},
	} {
		assert.Error(t, run(context.Background(), args, io.Discard, nil), "%v", args)
	}
}

func TestWarnsLoudlyWithoutPassword(t *testing.T) {
	t.Setenv("MINIRETHINK_PASSWORD", "")
	addr, stderr := startMain(t)
	assert.Contains(t, stderr.String(), "WARNING: minirethink is running WITHOUT A PASSWORD.")
	assert.Contains(t, stderr.String(), "any process on this machine")
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err, "admin without a password gets in")
	_ = s.Close()
}

func TestPassword(t *testing.T) {
	for name, args := range map[string][]string{
		"flag":        {"-password", "s3cret"},
		"environment": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MINIRETHINK_PASSWORD", "s3cret")
			addr, stderr := startMain(t, args...)
			assert.NotContains(t, stderr.String(), "WARNING")
			_, err := r.Connect(r.ConnectOpts{Address: addr})
			require.Error(t, err, "no password, no entry")
			s, err := r.Connect(r.ConnectOpts{Address: addr, Password: "s3cret"})
			require.NoError(t, err)
			_ = s.Close()
		})
	}
}

// TestClosesUnauthenticatedConnections: a connection that does not finish
// the handshake in time is closed, whether it sends nothing or stalls
// halfway.
func TestClosesUnauthenticatedConnections(t *testing.T) {
	addr, _ := startMain(t, "-handshake-timeout", "300ms")
	for name, send := range map[string][]byte{
		"silent":            nil,
		"magic number only": {0xc3, 0xbd, 0xc2, 0x34},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer nc.Close()
			if send != nil {
				_, err = nc.Write(send)
				require.NoError(t, err)
			}
			start := time.Now()
			_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadAll(nc)
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server left the connection open")
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err, "a client that authenticates in time is served")
	_ = s.Close()
}

// TestQueryMemoryFlag: the server-wide budget applies (a query larger than
// the whole budget is refused before it is read), and smaller ones work.
func TestQueryMemoryFlag(t *testing.T) {
	addr, _ := startMain(t, "-query-memory", "4096")
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err)
	defer s.Close()
	var got string
	require.NoError(t, r.Expr("small").ReadOne(&got, s))
	_, err = r.Expr(strings.Repeat("x", 10000)).Run(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "greater than maximum (4096).")
}

// TestUnserializedCreatesFlag: with the flag, two creations of one table
// both succeed and the name is ambiguous, as on a real RethinkDB 2.4.
func TestUnserializedCreatesFlag(t *testing.T) {
	addr, _ := startMain(t, "-unserialized-creates")
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err)
	defer s.Close()
	for range 2 {
		_, err := r.DB("test").TableCreate("players").RunWrite(s)
		require.NoError(t, err)
	}
	_, err = r.DB("test").Table("players").Count().Run(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Table `test.players` is ambiguous; there are multiple tables with that name.")
}

// -data keeps the data across runs; a second run on the same directory at
// the same time is refused, saying why.
func TestDataFlag(t *testing.T) {
	dir := t.TempDir()
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		addrC := make(chan string, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-password", "pw", "-data", dir}, io.Discard,
				func(a string) { addrC <- a })
		}()
		addr := <-addrC
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", dir}, io.Discard, nil)
		require.Error(t, err, "a second server on the same directory")
		assert.Contains(t, err.Error(), "is in use by another process")
		s, err := r.Connect(r.ConnectOpts{Address: addr, Password: "pw"})
		require.NoError(t, err)
		_, err = r.DB("test").TableCreate("kept").RunWrite(s)
		require.NoError(t, err)
		s.Close()
		cancel()
		require.NoError(t, <-done)
	}()
	addr, _ := startMain(t, "-data", dir)
	s, err := r.Connect(r.ConnectOpts{Address: addr})
	require.NoError(t, err)
	defer s.Close()
	var tables []string
	require.NoError(t, r.DB("test").TableList().ReadAll(&tables, s))
	assert.Equal(t, []string{"kept"}, tables, "the users are not kept: the password is the flag's each time")
}
