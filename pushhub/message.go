package pushhub

import (
	"encoding/json"
	"sync"
)

// Message types sent to clients.
const (
	TypeSubscribed = "subscribed"
	TypeEvent      = "event"
	TypeError      = "error"
	TypePong       = "pong"
)

// Message is one message to a client. Event messages are shared by every
// subscriber of the channel, so their JSON is encoded once.
type Message struct {
	Type    string
	Channel string
	// Seq is an event's id.
	Seq  uint64
	Data []byte
	// Error is the sentence of an error message.
	Error string
	// Reset marks the error that says events were missed (history no
	// longer holds them): SSE sends it as "event: reset".
	Reset bool

	once sync.Once
	json []byte
	// frame is json as a transport frames it (Frame).
	frameOnce sync.Once
	frame     []byte
}

type wireEvent struct {
	Type    string          `json:"type"`
	Channel string          `json:"channel"`
	ID      uint64          `json:"id"`
	Data    json.RawMessage `json:"data"`
}

type wireNotice struct {
	Type    string `json:"type"`
	Channel string `json:"channel,omitempty"`
	Error   string `json:"error,omitempty"`
	Reset   bool   `json:"reset,omitempty"`
}

// JSON is the message as a WebSocket client receives it:
// {"type":"event","channel","id","data"}, {"type":"subscribed","channel"},
// {"type":"error","channel"?,"error","reset"?} or {"type":"pong"}.
func (m *Message) JSON() []byte {
	m.once.Do(func() {
		var v any = wireNotice{Type: m.Type, Channel: m.Channel, Error: m.Error, Reset: m.Reset}
		if m.Type == TypeEvent {
			data := json.RawMessage(m.Data)
			if len(data) == 0 {
				data = json.RawMessage("null")
			}
			v = wireEvent{Type: m.Type, Channel: m.Channel, ID: m.Seq, Data: data}
		}
		b, err := json.Marshal(v)
		if err != nil {
			// Only invalid Data can fail: never send it as such.
			b, _ = json.Marshal(wireNotice{Type: TypeError, Channel: m.Channel, Error: "an event could not be encoded"})
		}
		m.json = b
	})
	return m.json
}

// Frame is the message's JSON as encode frames it for the wire (a
// WebSocket text frame), made on first use and shared, like JSON, by every
// connection the message goes to: an event is framed once however many
// subscribers get it. Every caller must pass the same encode.
func (m *Message) Frame(encode func(json []byte) []byte) []byte {
	m.frameOnce.Do(func() { m.frame = encode(m.JSON()) })
	return m.frame
}

// Notice is an error message about channel ("" for the connection).
func Notice(channel, sentence string) *Message {
	return &Message{Type: TypeError, Channel: channel, Error: sentence}
}
