package wire

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

func TestResponses(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{ServerID: "f4aead34-8938-47a8-8845-c24a2d4af6be", ServerName: "vm_n1l"})
	c := dial(t, addr)
	for i, tc := range []struct {
		name, query, want string
	}{
		{"atom", `[1,{"a":"<b>&"}]`, `{"t":1,"r":[{"a":"<b>&"}]}`},
		{"atom with global opts", `[1,[10,[1]],{"db":[14,["wire"]]}]`, `{"t":1,"r":[[10,[1]]]}`},
		{"sequence", `[1,"seq:3"]`, `{"t":2,"r":[0,1,2],"n":[]}`},
		{"empty sequence", `[1,"seq:0"]`, `{"t":2,"r":[],"n":[]}`},
		{"runtime error", `[1,"fail"]`, `{"t":18,"e":4100000,"r":["Table ` + "`x.y`" + ` does not exist."],"b":[]}`},
		{"non-ReQL error", `[1,"boom"]`, `{"t":18,"e":1000000,"r":["boom"],"b":[]}`},
		{"engine panic", `[1,"panic"]`, `{"t":18,"e":1000000,"r":["Internal error in minirethink: engine bug"],"b":[]}`},
		{"server info", `[5]`, `{"t":5,"r":[{"id":"f4aead34-8938-47a8-8845-c24a2d4af6be","name":"vm_n1l","proxy":false}]}`},
		{"noreply wait with nothing pending", `[4]`, `{"t":4,"r":[]}`},
		{"noreply wait with db", `[4,{"db":[14,["wire"]]}]`, `{"t":4,"r":[]}`},
		{"continue unknown token", `[2]`, `{"t":16,"r":["Token %d not in stream cache."],"b":[]}`},
		{"stop unknown token, noreply", `[3,{"noreply":true}]`, `{"t":16,"r":["Token %d not in stream cache."],"b":[]}`},
		{"malformed JSON", `[1,[`, `{"t":16,"r":["Client is buggy (failed to deserialize query)."],"b":[]}`},
		{"empty payload", ``, `{"t":16,"r":["Client is buggy (failed to deserialize query)."],"b":[]}`},
		{"not an array", `{"a":1}`, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found OBJECT."],"b":[]}`},
		{"null", `null`, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found NULL."],"b":[]}`},
		{"empty array", `[]`, `{"t":16,"r":["Server could not parse query: Expected 1 to 3 elements in the top-level query, but found 0."],"b":[]}`},
		{"too many elements", `[1,2,{},4]`, `{"t":16,"r":["Server could not parse query: Expected 1 to 3 elements in the top-level query, but found 4."],"b":[]}`},
		{"type not a number", `["1"]`, `{"t":16,"r":["Server could not parse query: Expected a query type as a number, but found STRING."],"b":[]}`},
		{"unknown type", `[9]`, `{"t":16,"r":["Server could not parse query: Unrecognized QueryType: 9."],"b":[]}`},
		{"start without term", `[1]`, `{"t":16,"r":["Server could not parse query: Expected a term in the top-level START query."],"b":[]}`},
		{"opts not an object", `[1,1,[]]`, `{"t":16,"r":["Server could not parse query: Expected global optargs as an object, but found ARRAY."],"b":[]}`},
		{"still usable after errors", `[1,"ok"]`, `{"t":1,"r":["ok"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := int64(100 + i)
			want := tc.want
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, token)
			}
			assert.Equal(t, want, c.roundTrip(token, tc.query))
		})
	}
}

func TestLongSequenceIsBatched(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{})
	c := dial(t, addr)
	var got []int
	resp := c.roundTrip(1, fmt.Sprintf(`[1,"seq:%d"]`, 2*sequenceBatch+5))
	for {
		var r struct {
			T int   `json:"t"`
			R []int `json:"r"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp), &r))
		got = append(got, r.R...)
		if r.T == 2 {
			break
		}
		require.Equal(t, 3, r.T, resp)
		resp = c.roundTrip(1, `[2]`)
	}
	require.Len(t, got, 2*sequenceBatch+5)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	assert.Equal(t, `{"t":16,"r":["Token 1 not in stream cache."],"b":[]}`, c.roundTrip(1, `[2]`))
}

func TestConcurrentQueriesOnOneConnection(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	_, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)

	c.send(1, `[1,"block"]`)
	blocked := <-eng.blocked
	// A blocked query holds nothing up: later ones are answered first.
	for tok := int64(2); tok <= 5; tok++ {
		assert.Equal(t, fmt.Sprintf(`{"t":1,"r":[%d]}`, tok), c.roundTrip(tok, fmt.Sprintf(`[1,%d]`, tok)))
	}
	// STOP on a running query cancels it; both answer an empty sequence.
	c.send(1, `[3,{"noreply":true}]`)
	got := c.recvN(2)
	assert.Equal(t, []string{`{"t":2,"r":[],"n":[]}`, `{"t":2,"r":[],"n":[]}`}, got[1])
	assert.ErrorIs(t, blocked.Err(), context.Canceled)
}

func TestDuplicateToken(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	_, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)
	c.send(7, `[1,"block"]`)
	<-eng.blocked
	assert.Equal(t, `{"t":16,"r":["ERROR: duplicate token 7"],"b":[]}`, c.roundTrip(7, `[1,1]`))
}

func TestNoreplyAndNoreplyWait(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	_, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)

	c.send(1, `[1,"block",{"noreply":true}]`)
	ctx := <-eng.blocked
	c.send(2, `[1,"ok",{"noreply":true}]`)
	c.send(3, `[4]`)
	// NOREPLY_WAIT must wait for the blocked noreply query; an ordinary query
	// overtakes it, which shows it is still waiting.
	assert.Equal(t, `{"t":1,"r":["x"]}`, c.roundTrip(4, `[1,"x"]`))
	c.send(1, `[3]`) // ends the blocked query
	got := c.recvN(2)
	assert.Equal(t, []string{`{"t":2,"r":[],"n":[]}`}, got[1], "STOP answers, the noreply START does not")
	assert.Equal(t, []string{`{"t":4,"r":[]}`}, got[3])
	assert.Error(t, ctx.Err())
}

func TestFeed(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	_, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)

	assert.Equal(t, `{"t":3,"r":[{"state":"ready"}],"n":[1,5]}`, c.roundTrip(24, `[1,"feed",{"include_states":true}]`))
	f := recvFeed(t, eng)

	c.send(24, `[2]`)
	f.push(map[string]any{"new_val": map[string]any{"id": "a"}, "old_val": nil})
	tok, resp := c.recv()
	assert.Equal(t, int64(24), tok)
	assert.Equal(t, `{"t":3,"r":[{"new_val":{"id":"a"},"old_val":null}],"n":[1,5]}`, resp)

	// STOP while a CONTINUE waits: both are answered, and the feed is closed.
	c.send(24, `[2]`)
	c.send(24, `[3,{"noreply":true}]`)
	got := c.recvN(2)
	assert.Equal(t, []string{`{"t":2,"r":[],"n":[]}`, `{"t":2,"r":[],"n":[]}`}, got[24])
	awaitClosed(t, f.closeC, "feed Close")
	assert.Equal(t, `{"t":16,"r":["Token 24 not in stream cache."],"b":[]}`, c.roundTrip(24, `[2]`))
}

func TestFeedAborted(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	_, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)

	c.roundTrip(29, `[1,"feed"]`)
	f := recvFeed(t, eng)
	c.send(29, `[2]`)
	abort := reql.ErrOpFailed("Changefeed aborted (unavailable).")
	abort.Backtrace = []any{0}
	f.end(abort)
	_, resp := c.recv()
	assert.Equal(t, `{"t":18,"e":4100000,"r":["Changefeed aborted (unavailable)."],"b":[0]}`, resp)
	awaitClosed(t, f.closeC, "feed Close")
	assert.Equal(t, `{"t":16,"r":["Token 29 not in stream cache."],"b":[]}`, c.roundTrip(29, `[3,{"noreply":true}]`))
}

func TestOversizedFrameClosesConnection(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{MaxQuerySize: 1024})
	c := dial(t, addr)
	assert.Equal(t, `{"t":1,"r":["ok"]}`, c.roundTrip(1, `[1,"ok"]`))

	payload := `[1,"` + strings.Repeat("a", 2000) + `"]`
	c.send(2, payload)
	tok, resp := c.recv()
	assert.Equal(t, int64(2), tok)
	assert.Equal(t, fmt.Sprintf(`{"t":16,"r":["Query size (%d) greater than maximum (1024)."],"b":[]}`, len(payload)), resp)
	assert.Empty(t, c.expectEOF())
}

func TestOversizedHeaderWithoutBody(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{})
	c := dial(t, addr)
	// 4 GiB announced: refused from the header alone, nothing allocated.
	h := binary.LittleEndian.AppendUint64(nil, 3)
	c.write(binary.LittleEndian.AppendUint32(h, 0xffffffff))
	_, resp := c.recv()
	assert.Equal(t, `{"t":16,"r":["Query size (4294967295) greater than maximum (67108864)."],"b":[]}`, resp)
	_ = c.nc.Close()
}

func TestHalfFrames(t *testing.T) {
	checkGoroutines(t)
	srv, addr := start(t, Config{FrameTimeout: 100 * millisecond})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"half a header", []byte{1, 0, 0, 0, 0}},
		{"header, half a payload", frameBytes(1, `[1,"abcdef"]`)[:16]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.write(tc.data)
			assert.Empty(t, c.expectEOF(), "the server gives up on a frame that stops arriving")
		})
	}
	// An idle connection between frames is left alone (no IdleTimeout).
	c := dial(t, addr)
	assert.Equal(t, `{"t":1,"r":[1]}`, c.roundTrip(1, `[1,1]`))
	assert.Positive(t, srv.NumConns())
}

func TestIdleTimeout(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{IdleTimeout: 100 * millisecond})
	c := dial(t, addr)
	assert.Equal(t, `{"t":1,"r":[1]}`, c.roundTrip(1, `[1,1]`))
	assert.Empty(t, c.expectEOF())
}

func TestGarbageAfterHandshake(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{MaxQuerySize: 1 << 16})
	c := dial(t, addr)
	garbage := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.write(garbage)
	// "GET / HT" is the token, "TP/1" a length of 0x312f5054: too large.
	_, resp := c.recv()
	assert.Contains(t, resp, `greater than maximum (65536)`)
	c.expectClosed()
}

func TestClientVanishesMidFeed(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	srv, addr := start(t, Config{Engine: eng})

	c := dial(t, addr)
	c.roundTrip(1, `[1,"feed"]`)
	f := recvFeed(t, eng)
	c.send(1, `[2]`)         // a CONTINUE waiting in Feed.Next
	c.send(2, `[1,"block"]`) // a query running in the engine
	blocked := <-eng.blocked
	require.NoError(t, c.nc.Close())

	awaitClosed(t, f.closeC, "feed Close after the client left")
	awaitClosed(t, blocked.Done(), "running query's context cancelled after the client left")
	closeWithin(t, srv, 5*second)
}

func TestServerCloseDropsConnections(t *testing.T) {
	checkGoroutines(t)
	eng := newStubEngine()
	srv, addr := start(t, Config{Engine: eng})
	c := dial(t, addr)
	c.roundTrip(1, `[1,"feed"]`)
	f := recvFeed(t, eng)
	c.send(1, `[2]`)
	closeWithin(t, srv, 5*second)
	awaitClosed(t, f.closeC, "feed Close")
	c.expectClosed()
}
