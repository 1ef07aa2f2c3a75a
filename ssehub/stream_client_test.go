package ssehub_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// record is one thing read off an event stream, parsed from the raw bytes the way
// the EventSource spec does it: an event (it had data), a retry hint, or a comment.
type record struct {
	Kind    string // "event", "retry" or "comment"
	ID      string
	HasID   bool
	Type    string
	Data    string
	Retry   string
	Comment string
}

// rawStream reads one SSE response as bytes; it shares no code with ssehub.
type rawStream struct {
	Resp    *http.Response
	records chan record
	ended   chan error // the read error that ended the stream (io.EOF for a clean end)
	cancel  context.CancelFunc
	done    chan struct{} // closed by Close, so the reader never blocks on an abandoned stream
	once    sync.Once
	// closeConn hangs up a stream read off a raw connection (openStreamAfter).
	closeConn func() error
}

const waitFor = 5 * time.Second

func openStream(t testing.TB, url string, header http.Header) *rawStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	s := &rawStream{Resp: resp, records: make(chan record, 1024), ended: make(chan error, 1), cancel: cancel, done: make(chan struct{})}
	go s.read(bufio.NewReader(resp.Body))
	t.Cleanup(s.Close)
	return s
}

// Close hangs up, as a browser tab closing would.
func (s *rawStream) Close() {
	s.once.Do(func() {
		close(s.done)
		s.cancel()
		if s.closeConn != nil {
			_ = s.closeConn()
		} else {
			_ = s.Resp.Body.Close()
		}
	})
}

func (s *rawStream) emit(r record) {
	select {
	case s.records <- r:
	case <-s.done:
	}
}

func (s *rawStream) read(br *bufio.Reader) {
	var cur record
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			close(s.records)
			s.ended <- err
			return
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case line == "":
			switch {
			case data != nil:
				cur.Kind, cur.Data = "event", strings.Join(data, "\n")
				s.emit(cur)
			case cur.Retry != "":
				cur.Kind = "retry"
				s.emit(cur)
			}
			cur, data = record{}, nil
		case strings.HasPrefix(line, ":"):
			s.emit(record{Kind: "comment", Comment: strings.TrimPrefix(line[1:], " ")})
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				cur.ID, cur.HasID = value, true
			case "event":
				cur.Type = value
			case "data":
				data = append(data, value)
			case "retry":
				cur.Retry = value
			}
		}
	}
}

// next returns the next record, failing the test if none comes within waitFor.
func (s *rawStream) next(t testing.TB) record {
	t.Helper()
	select {
	case r, ok := <-s.records:
		if !ok {
			require.FailNow(t, "stream ended", "%v", s.endErr())
		}
		return r
	case <-time.After(waitFor):
		require.FailNow(t, "no record within "+waitFor.String())
		return record{}
	}
}

// nextEvent skips comments and retry hints.
func (s *rawStream) nextEvent(t testing.TB) record {
	t.Helper()
	for {
		if r := s.next(t); r.Kind == "event" {
			return r
		}
	}
}

// tryNextEvent is nextEvent without failing: ok is false if nothing came within d.
func (s *rawStream) tryNextEvent(d time.Duration) (record, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-s.records:
			if !ok {
				return record{}, false
			}
			if r.Kind == "event" {
				return r, true
			}
		case <-timer.C:
			return record{}, false
		}
	}
}

// waitEnd drains the stream until the server ends it and returns the final read
// error (io.EOF for a clean end, io.ErrUnexpectedEOF when the connection was cut).
func (s *rawStream) waitEnd(t testing.TB) error {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case _, ok := <-s.records:
			if !ok {
				return s.endErr()
			}
		case <-deadline:
			require.FailNow(t, "stream did not end within "+waitFor.String())
		}
	}
}

func (s *rawStream) endErr() error {
	select {
	case err := <-s.ended:
		s.ended <- err
		return err
	case <-time.After(waitFor):
		return io.ErrNoProgress
	}
}

// chunkedStream is one SSE response read straight off a TCP connection, with
// the chunked transfer coding parsed by hand, so a test can tell a response
// that net/http finished (the zero-length chunk) from a connection that was cut.
type chunkedStream struct {
	Status int
	Header http.Header
	conn   net.Conn
	br     *bufio.Reader
	body   strings.Builder // the chunks' data read so far
}

func openChunked(t *testing.T, srvURL, path string) *chunkedStream {
	t.Helper()
	host := strings.TrimPrefix(srvURL, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, host)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitFor)))
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	require.NoError(t, err)
	proto, code, ok := strings.Cut(status, " ")
	require.True(t, ok, "status line %q", status)
	require.Equal(t, "HTTP/1.1", proto)
	mh, err := tp.ReadMIMEHeader()
	require.NoError(t, err)
	require.Equal(t, "chunked", mh.Get("Transfer-Encoding"))
	n, err := strconv.Atoi(code[:3])
	require.NoError(t, err)
	return &chunkedStream{Status: n, Header: http.Header(mh), conn: conn, br: br}
}

// readChunk reads one chunk and adds its data to the body; last is true for the
// zero-length chunk that ends the response.
func (c *chunkedStream) readChunk(t *testing.T) (last bool, err error) {
	t.Helper()
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(waitFor)))
	line, err := c.br.ReadString('\n')
	if err != nil {
		return false, err
	}
	size, err := strconv.ParseUint(strings.TrimSuffix(line, "\r\n"), 16, 32)
	require.NoError(t, err, "chunk size line %q", line)
	data := make([]byte, size+2)
	if _, err := io.ReadFull(c.br, data); err != nil {
		return false, err
	}
	require.Equal(t, "\r\n", string(data[size:]), "chunk not followed by CRLF")
	c.body.Write(data[:size])
	return size == 0, nil
}

// readUntil reads chunks until the body holds s.
func (c *chunkedStream) readUntil(t *testing.T, s string) {
	t.Helper()
	for !strings.Contains(c.body.String(), s) {
		last, err := c.readChunk(t)
		require.NoError(t, err, "body so far: %q", c.body.String())
		require.False(t, last, "response ended without %q: %q", s, c.body.String())
	}
}

// readToEnd reads chunks until the zero-length chunk that ends the response and
// returns the whole body. terminated is false when the connection ended first
// (err says how), which is what a client sees of a stream cut mid-response.
func (c *chunkedStream) readToEnd(t *testing.T) (body string, terminated bool, err error) {
	t.Helper()
	for {
		last, err := c.readChunk(t)
		if err != nil || last {
			return c.body.String(), last, err
		}
	}
}

// closeReason skips to the stream's close event and returns its data.
func (s *rawStream) closeReason(t *testing.T) string {
	t.Helper()
	for {
		if r := s.nextEvent(t); r.Type == "close" {
			assert.False(t, r.HasID, "close event with an id")
			return r.Data
		}
	}
}

// openStreamAfter sends the request for path at once, but reads nothing of the
// response for pause: a client busy for a moment.
func openStreamAfter(t *testing.T, srvURL, path string, pause time.Duration) *rawStream {
	t.Helper()
	host := strings.TrimPrefix(srvURL, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, host)
	require.NoError(t, err)
	s := &rawStream{records: make(chan record, 1024), ended: make(chan error, 1), cancel: func() {}, done: make(chan struct{})}
	s.closeConn = conn.Close
	t.Cleanup(s.Close)
	go func() {
		select {
		case <-time.After(pause):
		case <-s.done:
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			close(s.records)
			s.ended <- err
			return
		}
		s.read(bufio.NewReader(resp.Body))
	}()
	return s
}

// seqCollector keeps the ids of every event a stream delivers, reading as fast as
// they come so the client never falls behind.
type seqCollector struct {
	mu      sync.Mutex
	seqs    []uint64
	updated chan struct{} // signalled after each event
}

func collectSeqs(t testing.TB, s *rawStream) *seqCollector {
	t.Helper()
	c := &seqCollector{updated: make(chan struct{}, 1)}
	go func() {
		for r := range s.records {
			if r.Kind != "event" {
				continue
			}
			n, err := strconv.ParseUint(r.ID, 10, 64)
			if err != nil {
				continue
			}
			c.mu.Lock()
			c.seqs = append(c.seqs, n)
			c.mu.Unlock()
			select {
			case c.updated <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// waitFor returns the ids received so far once the last one is seq.
func (c *seqCollector) waitFor(t testing.TB, seq uint64) []uint64 {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		c.mu.Lock()
		got := slices.Clone(c.seqs)
		c.mu.Unlock()
		if len(got) > 0 && got[len(got)-1] >= seq {
			return got
		}
		select {
		case <-c.updated:
		case <-deadline:
			require.FailNow(t, fmt.Sprintf("no event %d within %v; got %v", seq, waitFor, got))
		}
	}
}
