package views_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// clientFrom is an HTTP client whose connections come from a loopback
// address of its own (127.0.0.2, ...), as distinct clients would.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// Live streams are capped in total and per client address; over a cap a new
// stream gets 503 with Retry-After before anything is streamed, while health
// checks, reads and writes go on working, and a closed stream frees its slot.
func TestStreamsAreCapped(t *testing.T) {
	a := testapp.Start(t, testapp.Options{Config: func(c *config.Config) {
		c.MaxStreams = 3
		c.MaxStreamsPerClient = 2
	}})
	b, ids := a.Board(t, "Cup", "Ann")
	url := a.URL + "/boards/" + b + "/"

	refused := func(client *http.Client, why string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "text/event-stream")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := client.Do(req.WithContext(ctx))
		require.NoError(t, err)
		defer res.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, why)
		assert.Equal(t, "5", res.Header.Get("Retry-After"), why)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type")[:len("application/json")], why)
	}

	one := clientFrom(t, "127.0.0.1")
	s1 := testapp.OpenStream(t, one, url)
	testapp.OpenStream(t, one, url)
	refused(one, "a third stream from one address is over the per-client cap")

	two := clientFrom(t, "127.0.0.2")
	testapp.OpenStream(t, two, url)
	refused(clientFrom(t, "127.0.0.3"), "a fourth stream in all is over the total cap")

	// At the cap the rest of the API works.
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/healthz", nil).Status)
	assert.Equal(t, http.StatusOK, a.Do(t, "GET", "/boards/"+b+"/", nil).Status)
	assert.Equal(t, http.StatusOK, a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil).Status)

	// A stream that ends gives its slot back.
	s1.Close()
	require.Eventually(t, func() bool { return a.Streams.InUse() == 2 }, 10*time.Second, 10*time.Millisecond)
	testapp.OpenStream(t, clientFrom(t, "127.0.0.3"), url)
}
