package ssehub

import (
	"encoding/json"
	"errors"
)

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
