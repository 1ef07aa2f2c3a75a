// Package event is what the realtime path carries: a change that subscribers
// of a topic must see. The listener makes board events, the relay hands them
// to the SSE hub, GRIP sends their SSE form to the proxy, and views answers a
// stream's first request with one. It is a domain type, so none of them
// needs to import another's package to agree on it.
package event

import (
	"bytes"
	"log/slog"
	"strconv"
	"time"
)

// Event is one change on a topic. Events of one topic are ordered by Seq;
// each board event carries the whole board, so Seq alone decides whether a
// subscriber needs it: anything at or below the last Seq it was sent is
// stale.
type Event struct {
	Topic string // the board's (or channel's) stream: the hub topic and GRIP channel
	Seq   uint64 // the SSE "id:", what the client returns as Last-Event-ID
	Type  string // the SSE "event:"; empty means the client's default "message"
	Data  []byte // one line of JSON; line breaks are split into data lines
	// At is when the change was saved (the database's clock), zero if
	// unknown: the start of the delivery lag.
	At time.Time
}

// LogValue shows an event the same way in every log line, without its data.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("topic", e.Topic),
		slog.Uint64("seq", e.Seq),
		slog.String("type", e.Type),
		slog.Int("bytes", len(e.Data)),
	)
}

// SSE returns the exact bytes of e on an event stream: id, event and data
// lines, then the blank line that dispatches it.
//
// A line break inside Data would otherwise end the data field early and let
// the rest of the payload be read as other fields, so Data is split at every
// CR, LF or CRLF (the three line ends the SSE grammar knows) into data lines;
// an EventSource joins them back with "\n", which for JSON is the same
// document. Line breaks in Type are removed for the same reason. At least one
// data line is always written, because an event without one is never
// dispatched.
func (e Event) SSE() []byte {
	b := make([]byte, 0, len("id: \nevent: \ndata: \n\n")+20+len(e.Type)+len(e.Data))
	return e.AppendSSE(b)
}

// AppendSSE appends e's SSE form to b.
func (e Event) AppendSSE(b []byte) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, '\n')
	if e.Type != "" {
		b = append(b, "event: "...)
		for i := 0; i < len(e.Type); i++ {
			if c := e.Type[i]; c != '\r' && c != '\n' {
				b = append(b, c)
			}
		}
		b = append(b, '\n')
	}
	data := e.Data
	for {
		b = append(b, "data: "...)
		// Two IndexByte scans (vectorised) beat one IndexAny (byte by byte) on
		// boards of a few KiB, which almost never contain a line break.
		i := bytes.IndexByte(data, '\n')
		head := data
		if i >= 0 {
			head = data[:i]
		}
		if j := bytes.IndexByte(head, '\r'); j >= 0 {
			i = j
		}
		if i < 0 {
			b = append(b, data...)
			b = append(b, '\n')
			break
		}
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(b, '\n')
}
