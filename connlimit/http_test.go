package connlimit_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/connlimit"
)

// streamServer is a real HTTP server whose one route holds a stream open until
// the client hangs up, behind a Limiter, answering refusals the way the HTTP
// layer should: 503 with Retry-After. released receives one value per stream
// that ended and gave its slot back.
func streamServer(t *testing.T, l *connlimit.Limiter) (srv *httptest.Server, released chan struct{}) {
	t.Helper()
	released = make(chan struct{}, 64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := l.Acquire(r.RemoteAddr)
		if err != nil {
			w.Header().Set("Retry-After", "5")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer func() {
			release()
			released <- struct{}{}
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, released
}

// openFrom opens a stream from local address ip (any of 127.0.0.0/8 on
// loopback), each on a connection of its own. The stream is closed when the
// test ends, before the server.
func openFrom(t *testing.T, srvURL, ip string) *http.Response {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srvURL, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err, "dial from %s", ip)
	}
	t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		tr.CloseIdleConnections()
	})
	return resp
}

func refusal(t *testing.T, resp *http.Response) string {
	t.Helper()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func TestCapsStreamsOverHTTP(t *testing.T) {
	l := connlimit.New(3, 2)
	srv, released := streamServer(t, l)

	a1 := openFrom(t, srv.URL, "127.0.0.2")
	require.Equal(t, http.StatusOK, a1.StatusCode)
	require.Equal(t, http.StatusOK, openFrom(t, srv.URL, "127.0.0.2").StatusCode)
	assert.Contains(t, refusal(t, openFrom(t, srv.URL, "127.0.0.2")), connlimit.ErrTooManyFromClient.Error(),
		"the third from one address")

	assert.Equal(t, http.StatusOK, openFrom(t, srv.URL, "127.0.0.3").StatusCode, "another address is unaffected")
	assert.Contains(t, refusal(t, openFrom(t, srv.URL, "127.0.0.4")), connlimit.ErrTooManyStreams.Error(),
		"the fourth in all, from a new address")
	assert.Equal(t, 3, l.InUse())

	// One stream ends: its slot serves the next client.
	_ = a1.Body.Close()
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the server did not end the stream the client hung up")
	}
	assert.Equal(t, http.StatusOK, openFrom(t, srv.URL, "127.0.0.4").StatusCode)
	assert.Equal(t, 3, l.InUse())
}
