package wire

import (
	"bufio"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// stubEngine answers by the query's term, a JSON string naming what to do:
//
//	"feed"   a stubFeed, registered in feeds
//	"block"  waits until its context ends, then returns ctx.Err()
//	"seq:N"  a Sequence of 0..N-1
//	"fail"   a runtime error of type OP_FAILED
//	"boom"   a plain Go error
//	"panic"  a panic
//	other    an Atom echoing the term
type stubEngine struct {
	feeds   chan *stubFeed
	blocked chan context.Context // a "block" query has started
}

func newStubEngine() *stubEngine {
	return &stubEngine{feeds: make(chan *stubFeed, 16), blocked: make(chan context.Context, 16)}
}

func (e *stubEngine) Run(ctx context.Context, q reql.Query) (reql.Result, error) {
	name, ok := q.Term.(string)
	if !ok {
		return reql.Result{Kind: reql.Atom, Atom: q.Term}, nil
	}
	switch {
	case name == "feed":
		f := newStubFeed()
		select {
		case e.feeds <- f:
		default: // nobody is watching (fuzzing)
		}
		return reql.Result{Kind: reql.Stream, Feed: f}, nil
	case name == "block":
		select {
		case e.blocked <- ctx:
		default:
		}
		<-ctx.Done()
		return reql.Result{}, ctx.Err()
	case strings.HasPrefix(name, "seq:"):
		var n int
		_, _ = fmt.Sscanf(name, "seq:%d", &n)
		n = max(0, min(n, 10*sequenceBatch)) // fuzzers find big numbers
		seq := make([]any, n)
		for i := range seq {
			seq[i] = i
		}
		return reql.Result{Kind: reql.Sequence, Seq: seq}, nil
	case name == "fail":
		return reql.Result{}, reql.ErrOpFailed("Table `x.y` does not exist.")
	case name == "boom":
		return reql.Result{}, errors.New("boom")
	case name == "panic":
		panic("engine bug")
	default:
		return reql.Result{Kind: reql.Atom, Atom: name}, nil
	}
}

// stubFeed is a changefeed the test drives: push values, end it with an
// error, and observe Close.
type stubFeed struct {
	mu     sync.Mutex
	buf    []any
	err    error
	closed bool
	wake   chan struct{} // closed and replaced whenever state changes
	closeC chan struct{} // closed by Close
}

func newStubFeed() *stubFeed {
	return &stubFeed{buf: []any{map[string]any{"state": "ready"}}, wake: make(chan struct{}), closeC: make(chan struct{})}
}

func (f *stubFeed) Notes() []ql2.Response_ResponseNote {
	return []ql2.Response_ResponseNote{ql2.Response_SEQUENCE_FEED, ql2.Response_INCLUDES_STATES}
}

func (f *stubFeed) changed() {
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *stubFeed) push(v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, v)
	f.changed()
}

func (f *stubFeed) end(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
	f.changed()
}

func (f *stubFeed) Next(ctx context.Context, wait bool) ([]any, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, reql.ErrFeedClosed
		}
		if len(f.buf) > 0 {
			out := f.buf
			f.buf = nil
			f.mu.Unlock()
			return out, nil
		}
		if f.err != nil || !wait {
			err := f.err
			f.mu.Unlock()
			return nil, err
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *stubFeed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.closeC)
		f.changed()
	}
}

// start runs a wire server for the test on a loopback port.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = newStubEngine()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		closeWithin(t, srv, 5*time.Second)
		require.ErrorIs(t, <-served, ErrServerClosed)
	})
	return srv, l.Addr().String()
}

// closeWithin fails the test if Close does not return in time: Close waits
// for every connection and query goroutine, so a hang is a leak.
func closeWithin(t *testing.T, srv *Server, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		t.Fatalf("Server.Close did not return within %v: goroutines:\n%s", d, buf[:runtime.Stack(buf, true)])
	}
}

// checkGoroutines fails the test if it ends with more goroutines than it
// started with, once its servers are closed (register it first).
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Goroutines finish just after signalling the WaitGroup Close waits
		// on; give them a moment to be gone.
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			runtime.Gosched()
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// client is a raw protocol client.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// dial connects and authenticates as admin with no password.
func dial(t *testing.T, addr string) *client {
	t.Helper()
	c := dialRaw(t, addr)
	_, err := c.handshake("admin", "")
	require.NoError(t, err)
	return c
}

func (c *client) write(b []byte) {
	c.t.Helper()
	_, err := c.nc.Write(b)
	require.NoError(c.t, err)
}

func (c *client) readMsg() (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := c.br.ReadString(0)
	if err != nil {
		return s, err
	}
	return strings.TrimSuffix(s, "\x00"), nil
}

// handshake runs the client side of V1_0 + SCRAM-SHA-256 and returns the
// server's messages; err is the server's refusal, if any.
func (c *client) handshake(user, password string) ([]string, error) {
	c.t.Helper()
	const clientNonce = "rOprNGfwEbeRWgbNEkqO"
	magic := binary.LittleEndian.AppendUint32(nil, uint32(ql2.VersionDummy_V1_0))
	c.write(append(magic, fmt.Sprintf(`{"protocol_version": 0,"authentication": "n,,n=%s,r=%s","authentication_method": "SCRAM-SHA-256"}`+"\x00", user, clientNonce)...))
	var msgs []string
	read := func() map[string]any {
		s, err := c.readMsg()
		require.NoError(c.t, err)
		msgs = append(msgs, s)
		var m map[string]any
		require.NoError(c.t, json.Unmarshal([]byte(s), &m), s)
		return m
	}
	if m := read(); m["success"] != true {
		return msgs, fmt.Errorf("%v", m["error"])
	}
	m := read()
	if m["success"] != true {
		return msgs, fmt.Errorf("%v", m["error"])
	}
	serverFirst := m["authentication"].(string)
	attrs, aerr := splitAttributes(serverFirst)
	require.Nil(c.t, aerr)
	salt, err := base64.StdEncoding.DecodeString(attrs['s'])
	require.NoError(c.t, err)
	var iter int
	_, _ = fmt.Sscanf(attrs['i'], "%d", &iter)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	require.NoError(c.t, err)
	withoutProof := "c=biws,r=" + attrs['r']
	authMessage := fmt.Sprintf("n=%s,r=%s,%s,%s", user, clientNonce, serverFirst, withoutProof)
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	sig := hmacSHA256(stored[:], authMessage)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	c.write([]byte(fmt.Sprintf(`{"authentication": "%s,p=%s"}`+"\x00", withoutProof, base64.StdEncoding.EncodeToString(clientKey))))
	m = read()
	if m["success"] != true {
		return msgs, fmt.Errorf("%v", m["error"])
	}
	serverKey := hmacSHA256(salted, "Server Key")
	require.Equal(c.t, "v="+base64.StdEncoding.EncodeToString(hmacSHA256(serverKey, authMessage)), m["authentication"])
	return msgs, nil
}

func frameBytes(token int64, payload string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(token))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

func (c *client) send(token int64, payload string) {
	c.t.Helper()
	c.write(frameBytes(token, payload))
}

// recv reads one response frame.
func (c *client) recv() (int64, string) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [headerLen]byte
	_, err := io.ReadFull(c.br, h[:])
	require.NoError(c.t, err)
	b := make([]byte, binary.LittleEndian.Uint32(h[8:]))
	_, err = io.ReadFull(c.br, b)
	require.NoError(c.t, err)
	return int64(binary.LittleEndian.Uint64(h[:8])), string(b)
}

// roundTrip sends one query and returns its response, which must be next.
func (c *client) roundTrip(token int64, payload string) string {
	c.t.Helper()
	c.send(token, payload)
	got, resp := c.recv()
	require.Equal(c.t, token, got, resp)
	return resp
}

// recvN reads n responses, keyed by token, each token's in order.
func (c *client) recvN(n int) map[int64][]string {
	c.t.Helper()
	out := map[int64][]string{}
	for range n {
		tok, resp := c.recv()
		out[tok] = append(out[tok], resp)
	}
	return out
}

// expectEOF waits for the server to close the connection.
func (c *client) expectEOF() []byte {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c.br)
	require.NoError(c.t, err, "server did not close the connection")
	return rest
}

// expectClosed waits for the connection to end, by EOF or by reset (the
// server may close with the client's last bytes unread).
func (c *client) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("server did not close the connection")
	}
}

func recvFeed(t *testing.T, e *stubEngine) *stubFeed {
	t.Helper()
	select {
	case f := <-e.feeds:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no feed opened")
		return nil
	}
}

func awaitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

const (
	millisecond = time.Millisecond
	second      = time.Second
)

func deadline() time.Time { return time.Now().Add(5 * time.Second) }
