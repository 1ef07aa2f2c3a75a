package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/page"
)

// leaderboard.js against a scripted server: the failures a real server
// rarely shows on cue (a 502 from Pushpin under a burst, a stream cut, the
// close events of a shutdown and of a deleted board).

// clientPage uses leaderboard.js with a short backoff and records what it
// is told.
const clientPage = `<!DOCTYPE html>
<meta charset="utf-8">
<title>client</title>
<link rel="icon" href="data:,">
<script src="/static/leaderboard.js"></script>
<script>
  window.statuses = [];
  window.updates = [];
  window.closes = [];
  window.lb = new Leaderboard("", "b1", {
    backoff: {base: 100, max: 400},
    onUpdate: (b, meta) => updates.push(b.players[0].score + "@" + meta.id),
    onStatus: (s) => statuses.push(s),
    onClose: (reason) => closes.push(reason),
  });
</script>
`

// streamRequest is one request for the board's stream, as the server saw it.
type streamRequest struct {
	lastEventID string
	at          time.Time
}

func boardEvent(id, score int) string {
	return fmt.Sprintf("id: %d\nevent: update\ndata: {\"id\":\"b1\",\"name\":\"Cup\",\"players\":[{\"id\":\"p1\",\"name\":\"Ann\",\"score\":%d,\"rank\":1}]}\n\n", id, score)
}

func TestClientReopensTheStreamItself(t *testing.T) {
	b := newBrowser(t)
	var mu sync.Mutex
	var requests []streamRequest
	// What the server answers to the stream's first, second, ... request.
	script := []func(w http.ResponseWriter){
		// Pushpin under a burst: EventSource gives up after a 502.
		func(w http.ResponseWriter) { http.Error(w, "bad gateway", http.StatusBadGateway) },
		// A board, then the stream is cut.
		func(w http.ResponseWriter) { sse(w, "retry: 5000\n\n"+boardEvent(7, 1)) },
		// The next board, then the server shuts down.
		func(w http.ResponseWriter) {
			sse(w, boardEvent(8, 2)+"event: close\ndata: {\"reason\":\"server shutting down\"}\n\n")
		},
		// The board is deleted: the client stops.
		func(w http.ResponseWriter) {
			sse(w, boardEvent(9, 3)+"event: close\ndata: {\"reason\":\"board deleted\"}\n\n")
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", page.New())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, clientPage)
	})
	mux.HandleFunc("/boards/b1/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("stream") != "1" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		n := len(requests)
		requests = append(requests, streamRequest{lastEventID: r.URL.Query().Get("lastEventId"), at: time.Now()})
		mu.Unlock()
		if n >= len(script) {
			http.Error(w, "no more", http.StatusGone)
			return
		}
		script[n](w)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tb := b.open(srv.URL + "/")
	tb.await("the client to stop after the board was deleted", `lb.status === "closed"`, wait)

	assert.Equal(t, []string{"1@7", "2@8", "3@9"}, eval[[]string](tb, `updates`), "every board once, with its id")
	assert.Equal(t, []string{"server shutting down", "board deleted"}, eval[[]string](tb, `closes`))
	assert.Equal(t, []string{
		"reconnecting", "live", // after the 502
		"reconnecting", "live", // after the cut
		"reconnecting", "live", // after the shutdown
		"closed", // the board was deleted
	}, eval[[]string](tb, `statuses`))
	assert.True(t, eval[bool](tb, `lb._timer === null && lb._source === null`), "nothing left to retry")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, requests, 4)
	var ids []string
	for i, r := range requests {
		ids = append(ids, r.lastEventID)
		if i > 0 {
			// Equal jitter: at least half the base delay (100ms) between tries.
			assert.GreaterOrEqual(t, r.at.Sub(requests[i-1].at), 50*time.Millisecond, "request %d came too soon", i+1)
		}
	}
	assert.Equal(t, []string{"", "", "7", "8"}, ids, "each new stream resumes from the last id seen")
	tb.noConsoleErrors(true) // the 502 is a network error the client handles
}

// sse answers a stream with body and ends it.
func sse(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = io.WriteString(w, body)
}
