package wspark

import (
	"bytes"

	"github.com/gobwas/ws"
)

// TextFrame is p as one unfragmented text frame from the server: made once
// for a message however many connections send it.
func TextFrame(p []byte) []byte { return frame(ws.OpText, p) }

// frame is one unmasked (server) frame of op carrying p, in one slice.
func frame(op ws.OpCode, p []byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	b := bytes.NewBuffer(make([]byte, 0, ws.HeaderSize(h)+len(p)))
	_ = ws.WriteHeader(b, h) // a bytes.Buffer does not fail
	b.Write(p)
	return b.Bytes()
}

// pingFrame is the keep-alive ping, shared by every connection.
var pingFrame = ws.CompiledPing

// closeFrame is a close frame with code and reason (cut to fit 125 bytes).
func closeFrame(code StatusCode, reason string) []byte {
	return frame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

// emptyClose answers a close frame that carried no code.
var emptyClose = ws.CompiledClose
