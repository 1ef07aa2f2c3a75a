package ssehub_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/ssehub"
)

// parseRecords parses wire bytes with the test's own EventSource-style parser.
func parseRecords(t *testing.T, b []byte) []record {
	t.Helper()
	s := &rawStream{records: make(chan record, 64), ended: make(chan error, 1), done: make(chan struct{})}
	s.read(bufio.NewReader(bytes.NewReader(b)))
	var out []record
	for r := range s.records {
		out = append(out, r)
	}
	return out
}

func TestFormatEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   ssehub.Event
		want string
	}{
		{"board", ssehub.Event{Seq: 7, Type: "update", Data: []byte(`{"top":[1,2]}`)},
			"id: 7\nevent: update\ndata: {\"top\":[1,2]}\n\n"},
		{"no type", ssehub.Event{Seq: 0, Data: []byte("x")}, "id: 0\ndata: x\n\n"},
		{"empty data still dispatches", ssehub.Event{Seq: 1, Type: "update"},
			"id: 1\nevent: update\ndata: \n\n"},
		{"LF splits", ssehub.Event{Seq: 2, Data: []byte("a\nb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"CRLF splits", ssehub.Event{Seq: 2, Data: []byte("a\r\nb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"CR splits", ssehub.Event{Seq: 2, Data: []byte("a\rb")}, "id: 2\ndata: a\ndata: b\n\n"},
		{"trailing LF kept", ssehub.Event{Seq: 3, Data: []byte("a\n")}, "id: 3\ndata: a\ndata: \n\n"},
		{"fields cannot be injected through data", ssehub.Event{Seq: 4, Data: []byte("x\n\nid: 99\nevent: evil")},
			"id: 4\ndata: x\ndata: \ndata: id: 99\ndata: event: evil\n\n"},
		{"line breaks dropped from type", ssehub.Event{Seq: 5, Type: "update\r\ndata: evil", Data: []byte("x")},
			"id: 5\nevent: updatedata: evil\ndata: x\n\n"},
		{"max seq", ssehub.Event{Seq: 1<<64 - 1, Data: []byte("x")}, "id: 18446744073709551615\ndata: x\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ssehub.FormatEvent(tt.ev)
			assert.Equal(t, tt.want, string(got))

			// Whatever the payload, a client reads back exactly one event with the
			// same id and the data with its line ends normalised to LF.
			recs := parseRecords(t, got)
			require.Len(t, recs, 1)
			assert.Equal(t, "event", recs[0].Kind)
			assert.True(t, recs[0].HasID)
			assert.Equal(t, tt.want[len("id: "):strings.IndexByte(tt.want, '\n')], recs[0].ID)
			wantData := strings.ReplaceAll(strings.ReplaceAll(string(tt.ev.Data), "\r\n", "\n"), "\r", "\n")
			assert.Equal(t, wantData, recs[0].Data)
		})
	}
}
