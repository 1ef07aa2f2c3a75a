package wspark

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readers are the buffers frames are read through, shared: a parked
// connection holds one only while it reads.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// readFrames reads and handles the client's frames. Parked, it returns nil
// once the socket has no more bytes at a frame boundary; otherwise it
// reads until an error. Once the connection is closing, frames are read
// only to see the client's close frame.
func (c *Conn) readFrames(ctx context.Context, parked bool) error {
	if c.drain {
		return c.discard(parked)
	}
	in := &input{c: c, parked: parked}
	br := readers.Get().(*bufio.Reader)
	br.Reset(in)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	var hbuf [ws.MaxHeaderSize - 2]byte
	for {
		if br.Buffered() == 0 {
			in.inFrame = false
			// No deadline between frames; parked, a passed one would also
			// fail the reads that do not wait.
			if in.deadline {
				_ = c.conn.SetReadDeadline(time.Time{})
				in.deadline = false
			}
			if _, err := br.Peek(1); err != nil {
				if errors.Is(err, errWouldBlock) {
					return nil
				}
				return err
			}
		}
		// A frame has begun: the rest must come within ReadTimeout.
		in.inFrame, in.deadline = true, true
		_ = c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.ReadTimeout))
		h, err := ws.ReadHeaderBuffer(br, hbuf[:])
		if err != nil {
			return c.readError(err)
		}
		if err := c.handleFrame(ctx, br, h); err != nil {
			return err
		}
	}
}

// discard reads and drops what the client sends, until it hangs up (an
// error) or, parked, until the socket has nothing more for now.
func (c *Conn) discard(parked bool) error {
	c.early = nil
	// The linger after the close frame bounds this, not a frame's deadline.
	_ = c.conn.SetReadDeadline(time.Time{})
	var buf [512]byte
	for {
		var err error
		if parked {
			_, err = readNow(c.raw, buf[:])
		} else {
			_, err = c.conn.Read(buf[:])
		}
		if errors.Is(err, errWouldBlock) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readError turns a failed read inside a frame into why the connection
// ends.
func (c *Conn) readError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &closeError{StatusPolicyViolation, fmt.Sprintf("frame not completed within %v", c.s.cfg.ReadTimeout), false}
	case errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		return &closeError{StatusProtocolError, err.Error(), false}
	case errors.Is(err, io.EOF):
		return io.ErrUnexpectedEOF // hung up mid-frame
	}
	return err
}

// handleFrame reads the payload of the frame h heads and handles it.
func (c *Conn) handleFrame(ctx context.Context, br *bufio.Reader, h ws.Header) error {
	state := ws.StateServerSide
	if c.msgOp != 0 {
		state = state.Set(ws.StateFragmented)
	}
	// Every violation the checker knows (reserved opcode, RSV bits without
	// an extension, an unmasked frame, a long or fragmented control frame,
	// a continuation out of place) is a protocol error.
	if err := ws.CheckHeader(h, state); err != nil {
		return &closeError{StatusProtocolError, err.Error(), false}
	}
	closing := c.closing()
	if h.OpCode.IsData() && !closing && int64(len(c.msg))+h.Length > c.limit {
		return &closeError{StatusMessageTooBig, fmt.Sprintf("message over %d bytes", c.limit), false}
	}
	if closing && h.OpCode != ws.OpClose {
		// Only the client's close frame matters now.
		if _, err := br.Discard(int(h.Length)); err != nil {
			return c.readError(err)
		}
		c.heardFrom()
		return nil
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(br, payload); err != nil {
		return c.readError(err)
	}
	ws.Cipher(payload, h.Mask, 0)
	c.heardFrom()

	switch h.OpCode {
	case ws.OpPing:
		c.control(frame(ws.OpPong, payload))
		return nil
	case ws.OpPong:
		return nil // a sign of life, recorded above
	case ws.OpClose:
		return c.peerClose(payload)
	}

	// Data: text, binary or continuation.
	if h.OpCode != ws.OpContinuation {
		c.msgOp = Binary
		if h.OpCode == ws.OpText {
			c.msgOp = Text
		}
	}
	data := payload
	if !h.Fin || c.msg != nil {
		c.msg = append(c.msg, payload...)
		data = c.msg
	}
	if !h.Fin {
		return nil
	}
	typ := c.msgOp
	c.msg, c.msgOp = nil, 0
	if typ == Text && !utf8.Valid(data) {
		return &closeError{StatusInvalidPayload, "text message is not valid UTF-8", true}
	}
	c.h.Message(ctx, typ, data)
	return nil
}

// peerClose answers the client's close frame with the same code, or ends
// the connection if it answers ours.
func (c *Conn) peerClose(payload []byte) error {
	code, bad := closeCode(payload)
	c.mu.Lock()
	answered := c.closeSent
	// A bad close frame is a protocol error like any other: the socket
	// stays open for the client's answer to ours.
	if bad == nil || answered {
		c.peerClosed = true
	}
	c.mu.Unlock()
	if answered {
		c.end(nil)
		return errPeerClosed
	}
	if bad != nil {
		return bad
	}
	if code == StatusNoStatusReceived {
		c.closeWith(emptyClose, false)
	} else {
		c.Close(code, "")
	}
	return errPeerClosed
}

// closeCode is the code of a client's close frame (1005 for none), or why
// the frame is bad.
func closeCode(payload []byte) (StatusCode, error) {
	switch len(payload) {
	case 0:
		return StatusNoStatusReceived, nil
	case 1:
		return 0, &closeError{StatusProtocolError, "close frame of one byte", true}
	}
	code, reason := ws.ParseCloseFrameData(payload)
	err := ws.CheckCloseFrameData(code, reason)
	if err == nil && code > 4999 {
		err = errors.New("close code above 4999")
	}
	if errors.Is(err, ws.ErrProtocolInvalidUTF8) {
		return 0, &closeError{StatusInvalidPayload, "close reason is not valid UTF-8", true}
	}
	if err != nil {
		return 0, &closeError{StatusProtocolError, err.Error(), true}
	}
	return StatusCode(code), nil
}
