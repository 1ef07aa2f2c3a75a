package event_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

// dispatched is what an EventSource hands to its listener.
type dispatched struct{ id, typ, data string }

// parse reads an event stream as the WHATWG EventSource algorithm does: lines
// end at CR, LF or CRLF; "field: value"; a blank line dispatches.
func parse(t *testing.T, b []byte) []dispatched {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, c := range data {
			switch c {
			case '\n':
				return i + 1, data[:i], nil
			case '\r':
				if i+1 < len(data) && data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				if i+1 < len(data) || atEOF {
					return i + 1, data[:i], nil
				}
				return 0, nil, nil
			}
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var (
		out  []dispatched
		cur  dispatched
		data []string
		has  bool
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if has {
				cur.data = strings.Join(data, "\n")
				out = append(out, cur)
			}
			cur, data, has = dispatched{}, nil, false
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			cur.id = value
		case "event":
			cur.typ = value
		case "data":
			data, has = append(data, value), true
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func TestSSE(t *testing.T) {
	tests := []struct {
		name string
		ev   event.Event
		want string
	}{
		{"board", event.Event{Seq: 7, Type: "update", Data: []byte(`{"top":[1,2]}`)},
			"id: 7\nevent: update\ndata: {\"top\":[1,2]}\n\n"},
		{"no type", event.Event{Seq: 0, Data: []byte("x")}, "id: 0\ndata: x\n\n"},
		{"empty data still dispatches", event.Event{Seq: 1, Type: "update"},
			"id: 1\nevent: update\ndata: \n\n"},
		{"LF splits", event.Event{Seq: 2, Data: []byte("a\nb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"CRLF splits", event.Event{Seq: 2, Data: []byte("a\r\nb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"CR splits", event.Event{Seq: 2, Data: []byte("a\rb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"trailing LF kept", event.Event{Seq: 3, Data: []byte("a\n")}, "id: 3\ndata: a\ndata: \n\n"},
		{"fields cannot be injected through data", event.Event{Seq: 4, Data: []byte("x\n\nid: 99\nevent: evil")},
			"id: 4\ndata: x\ndata: \ndata: id: 99\ndata: event: evil\n\n"},
		{"line breaks dropped from type", event.Event{Seq: 5, Type: "update\r\ndata: evil", Data: []byte("x")},
			"id: 5\nevent: updatedata: evil\ndata: x\n\n"},
		{"max seq", event.Event{Seq: 1<<64 - 1, Data: []byte("x")}, "id: 18446744073709551615\ndata: x\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ev.SSE()
			assert.Equal(t, tt.want, string(got))

			// Whatever the payload, a client reads back exactly one event with the
			// same id and the data with its line ends normalised to LF.
			evs := parse(t, got)
			require.Len(t, evs, 1)
			assert.Equal(t, tt.want[len("id: "):strings.IndexByte(tt.want, '\n')], evs[0].id)
			wantData := strings.ReplaceAll(strings.ReplaceAll(string(tt.ev.Data), "\r\n", "\n"), "\r", "\n")
			assert.Equal(t, wantData, evs[0].data)
		})
	}
}

func TestBoardEventIsTheBoardOnOneLine(t *testing.T) {
	b := &models.Board{ID: "b1", Name: "Cup\nFinal", Seq: 9, Top: []models.Player{
		{ID: "p1", Name: "Ann", Score: 10, Rank: 1, Board: "b1"},
		{ID: "p2", Name: "Bob", Score: 10, Rank: 1, Board: "b1"},
	}}
	ev := event.Board(b)
	assert.Equal(t, "board-b1", ev.Topic)
	assert.Equal(t, uint64(9), ev.Seq)
	assert.Equal(t, event.BoardUpdate, ev.Type)
	assert.Equal(t, `{"id":"b1","name":"Cup\nFinal","order":"desc","operator":"incr","players":[`+
		`{"id":"p1","name":"Ann","score":10,"rank":1},{"id":"p2","name":"Bob","score":10,"rank":1}]}`, string(ev.Data))
	assert.NotContains(t, string(ev.Data), "\n", "JSON escapes line breaks: one data line")

	empty := event.Board(&models.Board{ID: "b2", Name: "New"})
	assert.Equal(t, `{"id":"b2","name":"New","order":"desc","operator":"incr","players":[]}`, string(empty.Data), "no players is [], never null")
}
