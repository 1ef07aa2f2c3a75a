package ssehub

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Event is one Server-Sent Event. Each event carries a whole board, so Seq alone
// decides whether a subscriber needs it: anything at or below the last Seq it was
// sent is stale.
type Event struct {
	Seq  uint64 // sent as "id:"; what the client returns as Last-Event-ID
	Type string // sent as "event:"; empty means the client's default "message"
	Data []byte // one line of JSON; line breaks are split into data lines
}

// FormatEvent returns the exact bytes of ev on the wire: id, event and data lines,
// then the blank line that dispatches it.
//
// A line break inside Data would otherwise end the data field early and let the rest
// of the payload be read as other fields, so Data is split at every CR, LF or CRLF
// (the three line ends the SSE grammar knows) into data lines; an EventSource joins
// them back with "\n", which for JSON is the same document. Line breaks in Type are
// removed for the same reason. At least one data line is always written, because an
// event without one is never dispatched.
func FormatEvent(ev Event) []byte {
	b := make([]byte, 0, len("id: \nevent: \ndata: \n\n")+20+len(ev.Type)+len(ev.Data))
	return appendEvent(b, ev)
}

func appendEvent(b []byte, ev Event) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, '\n')
	if ev.Type != "" {
		b = append(b, "event: "...)
		for i := 0; i < len(ev.Type); i++ {
			if c := ev.Type[i]; c != '\r' && c != '\n' {
				b = append(b, c)
			}
		}
		b = append(b, '\n')
	}
	data := ev.Data
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

// Close events, formatted once: the last event of a stream that the hub ends on
// purpose. They carry no id, so a client that reconnects still sends the seq of
// its last board as Last-Event-ID.
var (
	topicClosedEvent = formatCloseEvent("board deleted")
	hubClosedEvent   = formatCloseEvent("server shutting down")
)

func formatCloseEvent(reason string) []byte {
	data, err := json.Marshal(struct {
		Reason string `json:"reason"`
	}{reason})
	if err != nil {
		panic(err) // a struct of one string always marshals
	}
	b := append([]byte("event: close\ndata: "), data...)
	return append(b, '\n', '\n')
}

// closeEvent is the close event for why the hub ended a stream (ErrClosed or
// ErrTopicClosed).
func closeEvent(cause error) []byte {
	if errors.Is(cause, ErrTopicClosed) {
		return topicClosedEvent
	}
	return hubClosedEvent
}
