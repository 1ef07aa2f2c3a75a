package testapp

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BoardData is a board event's data (and GET of a board) as a client decodes
// it: the tests' own type, so the server's cannot make them agree by
// accident.
type BoardData struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Players []struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Score int64  `json:"score"`
		Rank  int    `json:"rank"`
	} `json:"players"`
}

// DecodeBoard checks ev is a board update of one line and decodes it.
func DecodeBoard(t testing.TB, ev Event) BoardData {
	t.Helper()
	assert.Equal(t, "update", ev.Type)
	assert.NotContains(t, ev.Data, "\n", "the board is one line of JSON")
	var b BoardData
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &b), "data: %s", ev.Data)
	return b
}

// SeqOf is the event's id as a board seq.
func SeqOf(t testing.TB, ev Event) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(ev.ID, 10, 64)
	require.NoError(t, err, "event id %q", ev.ID)
	return n
}

// Until reads events until one satisfies ok, checking on the way that ids
// never go backwards. It returns the matching event and how many it read.
func Until(t testing.TB, s *Stream, ok func(BoardData) bool) (Event, int) {
	t.Helper()
	var last uint64
	for n := 1; ; n++ {
		ev := s.Next(t, 10*time.Second)
		seq := SeqOf(t, ev)
		require.GreaterOrEqual(t, seq, last, "a subscriber never sees an older board")
		last = seq
		if ok(DecodeBoard(t, ev)) {
			return ev, n
		}
	}
}

// AwaitBoard is Until for goroutines other than the test's: it returns an
// error instead of failing the test.
func AwaitBoard(s *Stream, ok func(BoardData) bool) error {
	for {
		ev, err := s.NextEvent(20 * time.Second)
		if err != nil {
			return err
		}
		var b BoardData
		if err := json.Unmarshal([]byte(ev.Data), &b); err != nil {
			return fmt.Errorf("event data %q: %w", ev.Data, err)
		}
		if ok(b) {
			return nil
		}
	}
}

// ScoreIs matches a board where the named player has score and rank.
func ScoreIs(name string, score int64, rank int) func(BoardData) bool {
	return func(b BoardData) bool {
		for _, p := range b.Players {
			if p.Name == name {
				return p.Score == score && p.Rank == rank
			}
		}
		return false
	}
}

// HasPlayers matches a board showing n players.
func HasPlayers(n int) func(BoardData) bool {
	return func(b BoardData) bool { return len(b.Players) == n }
}

// StalledStream opens a board's stream on a raw TCP connection with a tiny
// receive buffer and never reads from it: a client that stopped reading.
func (a *App) StalledStream(t testing.TB, board string) *net.TCPConn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	require.NoError(t, err)
	tcp := conn.(*net.TCPConn)
	require.NoError(t, tcp.SetReadBuffer(4096))
	t.Cleanup(func() { tcp.Close() })
	_, err = fmt.Fprintf(tcp, "GET /boards/%s/ HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", board)
	require.NoError(t, err)
	return tcp
}
