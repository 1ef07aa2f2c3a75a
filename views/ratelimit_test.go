package views_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// sendAs makes one request from client and returns its status, after checking
// that a 429 says why and when to come back.
func sendAs(t *testing.T, client *http.Client, method, url string, headers ...string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		assert.Equal(t, "1", res.Header.Get("Retry-After"))
		var body struct{ Error string }
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		assert.Contains(t, body.Error, "too many")
	}
	return res.StatusCode
}

// Writes are limited per client address and per API key: the N+1st in the
// window is a 429, other keys and addresses go on, and health checks and
// reads are never limited.
func TestWriteRateLimits(t *testing.T) {
	a := testapp.Start(t, testapp.Options{APIKeys: []string{"k1", "k2"}, Config: func(c *config.Config) {
		c.RateLimitWrites = 3
	}})
	b, ids := a.Board(t, "Cup", "Ann")
	add := a.URL + "/boards/" + b + "/players/" + ids[0] + "/score-add/"
	one, two, three := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	k1, k2 := []string{"Authorization", "Bearer k1"}, []string{"Authorization", "Bearer k2"}

	for i := range 3 {
		require.Equal(t, http.StatusOK, sendAs(t, one, "POST", add, k1...), "write %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, sendAs(t, one, "POST", add, k1...), "the 4th from one address")
	assert.Equal(t, http.StatusTooManyRequests, sendAs(t, one, "POST", add, k2...), "the address is over, whatever the key")
	assert.Equal(t, http.StatusOK, sendAs(t, two, "POST", add, k2...), "another address and key go on")
	assert.Equal(t, http.StatusTooManyRequests, sendAs(t, three, "POST", add, k1...), "the key is over, from any address")

	for range 20 {
		require.Equal(t, http.StatusOK, sendAs(t, one, "GET", a.URL+"/healthz"))
		require.Equal(t, http.StatusOK, sendAs(t, one, "GET", a.URL+"/readyz"))
		require.Equal(t, http.StatusOK, sendAs(t, one, "GET", a.URL+"/boards/"+b+"/"))
	}
	assert.Equal(t, int64(4), scoreOf(t, a, b, ids[0]), "only the allowed writes were written")
}

// Stream opens are limited per client address; plain reads of the same
// board are not.
func TestStreamOpenRateLimit(t *testing.T) {
	a := testapp.Start(t, testapp.Options{Config: func(c *config.Config) { c.RateLimitStreams = 2 }})
	b, _ := a.Board(t, "Cup", "Ann")
	url := a.URL + "/boards/" + b + "/"
	one := clientFrom(t, "127.0.0.1")
	testapp.OpenStream(t, one, url)
	testapp.OpenStream(t, one, url)
	assert.Equal(t, http.StatusTooManyRequests, sendAs(t, one, "GET", url, "Accept", "text/event-stream"))
	assert.Equal(t, http.StatusTooManyRequests, sendAs(t, one, "GET", url+"?stream=1"))
	assert.Equal(t, http.StatusOK, sendAs(t, one, "GET", url), "a plain read is not a stream")
	testapp.OpenStream(t, clientFrom(t, "127.0.0.2"), url)
}

// X-Forwarded-For names the client only when it comes from a trusted
// proxy; otherwise anyone could spread themselves over many addresses.
func TestForwardedForNeedsATrustedProxy(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		t.Run(map[bool]string{false: "untrusted", true: "trusted"}[trusted], func(t *testing.T) {
			a := testapp.Start(t, testapp.Options{Config: func(c *config.Config) {
				c.RateLimitWrites = 1
				if trusted {
					c.TrustedProxies = []string{"127.0.0.1"}
				}
			}})
			b, ids := a.Board(t, "Cup", "Ann")
			add := a.URL + "/boards/" + b + "/players/" + ids[0] + "/score-add/"
			proxy := clientFrom(t, "127.0.0.1")
			require.Equal(t, http.StatusOK, sendAs(t, proxy, "POST", add, "X-Forwarded-For", "203.0.113.1"))
			got := sendAs(t, proxy, "POST", add, "X-Forwarded-For", "203.0.113.2")
			if trusted {
				assert.Equal(t, http.StatusOK, got, "another client behind the proxy")
			} else {
				assert.Equal(t, http.StatusTooManyRequests, got, "the header is ignored: one address")
			}
		})
	}
}
