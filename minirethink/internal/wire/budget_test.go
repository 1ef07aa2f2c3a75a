package wire

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// padded is a START of the stub engine's term name, padded with JSON
// whitespace to size bytes.
func padded(name string, size int) string {
	q := `[1,"` + name + `"`
	return q + strings.Repeat(" ", size-len(q)-1) + "]"
}

// awaitInUse waits until the server holds n bytes of queries.
func awaitInUse(t *testing.T, srv *Server, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return srv.QueryMemoryInUse() == n }, 5*time.Second, 5*time.Millisecond,
		"query memory in use: want %d, have %d", n, srv.QueryMemoryInUse())
}

func TestQueryMemoryBudgetMakesQueriesWait(t *testing.T) {
	checkGoroutines(t)
	e := newStubEngine()
	srv, addr := start(t, Config{Engine: e, QueryMemory: 1000})
	a, b := dial(t, addr), dial(t, addr)

	a.send(1, padded("block", 600))
	<-e.blocked
	awaitInUse(t, srv, 600)

	b.send(1, padded("ok", 600))
	_ = b.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := b.br.Peek(1)
	require.Error(t, err, "the second query waits: 600 + 600 bytes exceed the budget of 1000")

	a.send(1, `[3]`) // STOP: the first query ends and gives its bytes back
	tok, resp := a.recv()
	assert.Equal(t, int64(1), tok)
	assert.Equal(t, `{"t":2,"r":[],"n":[]}`, resp)
	tok, resp = b.recv()
	assert.Equal(t, int64(1), tok)
	assert.Equal(t, `{"t":1,"r":["ok"]}`, resp, "then it runs")
	awaitInUse(t, srv, 0)
}

func TestQueryMemoryBudgetRefusesAfterWaiting(t *testing.T) {
	checkGoroutines(t)
	e := newStubEngine()
	srv, addr := start(t, Config{Engine: e, QueryMemory: 1000, BudgetWait: 100 * millisecond})
	a, b := dial(t, addr), dial(t, addr)
	a.send(1, padded("block", 600))
	<-e.blocked

	b.send(7, padded("ok", 600))
	tok, resp := b.recv()
	assert.Equal(t, int64(7), tok)
	assert.Equal(t, fmt.Sprintf(`{"t":18,"e":%d,"r":["Query size (600) does not fit in the memory the server holds for queries now; `+
		`other queries are using it. Try again."],"b":[]}`, ql2.Response_RESOURCE_LIMIT), resp)
	assert.Equal(t, `{"t":1,"r":[1]}`, b.roundTrip(8, `[1,1]`), "the connection goes on: the refused frame was skipped")
	awaitInUse(t, srv, 600)

	a.send(1, `[3]`)
	a.recv()
	awaitInUse(t, srv, 0)
}

func TestQueryLargerThanTheBudget(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{QueryMemory: 1000})
	c := dial(t, addr)
	c.send(1, padded("ok", 1500))
	_, resp := c.recv()
	assert.Equal(t, `{"t":16,"r":["Query size (1500) greater than maximum (1000)."],"b":[]}`, resp)
	assert.Empty(t, c.expectEOF(), "refused at once, as a query over the size limit")
}

// TestQueryMemoryManyConnections: many connections sending at once never
// hold more than the budget.
func TestQueryMemoryManyConnections(t *testing.T) {
	checkGoroutines(t)
	srv, addr := start(t, Config{QueryMemory: 2000})
	clients := make([]*client, 8)
	for i := range clients {
		clients[i] = dial(t, addr)
	}
	for i, c := range clients {
		c.send(int64(i), padded(fmt.Sprint("q", i), 900))
	}
	for i, c := range clients {
		tok, resp := c.recv()
		assert.Equal(t, int64(i), tok)
		assert.Equal(t, fmt.Sprintf(`{"t":1,"r":["q%d"]}`, i), resp)
	}
	awaitInUse(t, srv, 0)
}
