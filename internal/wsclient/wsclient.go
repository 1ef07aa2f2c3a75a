// Package wsclient is a WebSocket client that writes frames by hand, for
// tests of what a server does with what real clients would not send
// (unmasked frames, bad close codes, a frame cut short) and of clients that
// stop reading. It is independent of the server's framing library: the
// frames are built and parsed here, a few lines of RFC 6455.
package wsclient

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Opcodes.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xa
)

// Conn is a client connection after the handshake.
type Conn struct {
	net.Conn
	// Header is the handshake answer's header.
	Header http.Header
	br     *bufio.Reader
}

// Options change how Dial connects.
type Options struct {
	// RecvBuffer, if set, is the socket's receive buffer (SO_RCVBUF), set
	// before connecting: a small one makes a client that does not read fill
	// the server's socket soon.
	RecvBuffer int
	// Early is sent in the same write as the request, before the answer.
	Early []byte
	// Header is added to the request.
	Header http.Header
}

// Dial opens rawURL (http://host/path?query) as a WebSocket and fails the
// test unless the server switches protocols.
func Dial(t testing.TB, rawURL string, o Options) *Conn {
	t.Helper()
	c, err := TryDial(rawURL, o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TryDial is Dial returning the error.
func TryDial(rawURL string, o Options) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	if o.RecvBuffer > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = setRecvBuffer(fd, o.RecvBuffer)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	nonce := base64.StdEncoding.EncodeToString(key)
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + nonce + "\r\n"
	for k, vs := range o.Header {
		for _, v := range vs {
			req += k + ": " + v + "\r\n"
		}
	}
	req += "\r\n"
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(append([]byte(req), o.Early...)); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("wsclient: reading the answer: %w", err)
	}
	if !bytes.Contains([]byte(status), []byte(" 101 ")) {
		conn.Close()
		return nil, fmt.Errorf("wsclient: status %q", status)
	}
	header, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("wsclient: reading the answer's header: %w", err)
	}
	sum := sha1.Sum([]byte(nonce + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, errors.New("wsclient: no or wrong Sec-WebSocket-Accept")
	}
	_ = conn.SetDeadline(time.Time{})
	return &Conn{Conn: conn, Header: http.Header(header), br: br}, nil
}

// Frame is one frame as the client writes or reads it.
type Frame struct {
	Op      byte
	Payload []byte
	// More: not the last frame of its message (FIN clear).
	More bool
	// Rsv are the RSV1-3 bits (0-7).
	Rsv byte
	// Unmasked: sent without a mask, which only servers may do.
	Unmasked bool
}

// Bytes is f on the wire (masked unless Unmasked).
func (f Frame) Bytes() []byte {
	b0 := f.Op | f.Rsv<<4
	if !f.More {
		b0 |= 0x80
	}
	out := []byte{b0}
	var maskBit byte = 0x80
	if f.Unmasked {
		maskBit = 0
	}
	n := len(f.Payload)
	switch {
	case n < 126:
		out = append(out, maskBit|byte(n))
	case n <= 0xffff:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if f.Unmasked {
		return append(out, f.Payload...)
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	out = append(out, mask[:]...)
	for i, c := range f.Payload {
		out = append(out, c^mask[i%4])
	}
	return out
}

// Send writes frames, each masked unless it says otherwise.
func (c *Conn) Send(t testing.TB, frames ...Frame) {
	t.Helper()
	var b []byte
	for _, f := range frames {
		b = append(b, f.Bytes()...)
	}
	c.SendRaw(t, b)
}

// SendRaw writes bytes as they are.
func (c *Conn) SendRaw(t testing.TB, b []byte) {
	t.Helper()
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Write(b)
	require.NoError(t, err)
}

// Text sends one masked text message.
func (c *Conn) Text(t testing.TB, s string) {
	t.Helper()
	c.Send(t, Frame{Op: OpText, Payload: []byte(s)})
}

// Next reads the next frame within wait. Servers do not mask: a masked
// frame is an error.
func (c *Conn) Next(wait time.Duration) (Frame, error) {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Op: h[0] & 0x0f, More: h[0]&0x80 == 0, Rsv: h[0] >> 4 & 7}
	if h[1]&0x80 != 0 {
		return f, errors.New("wsclient: a masked frame from the server")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 16<<20 {
		return f, fmt.Errorf("wsclient: a frame of %d bytes", n)
	}
	f.Payload = make([]byte, n)
	_, err := io.ReadFull(c.br, f.Payload)
	return f, err
}

// NextOf reads frames until one of op comes (skipping others) within
// wait.
func (c *Conn) NextOf(t testing.TB, op byte, wait time.Duration) Frame {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		f, err := c.Next(time.Until(deadline))
		require.NoError(t, err, "waiting for a frame of opcode %#x", op)
		if f.Op == op {
			return f
		}
	}
}

// Closed reads until the server's close frame and returns its code (0 for
// none) and reason; it fails the test if none comes within wait.
func (c *Conn) Closed(t testing.TB, wait time.Duration) (int, string) {
	t.Helper()
	f := c.NextOf(t, OpClose, wait)
	if len(f.Payload) < 2 {
		return 0, ""
	}
	return int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
}

// CloseFrame is a close frame's payload of code and reason.
func CloseFrame(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// HungUp reports whether the server closed the connection (EOF) within
// wait, discarding what comes before.
func (c *Conn) HungUp(wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c.br)
	return err == nil // io.Copy reports EOF as nil
}
