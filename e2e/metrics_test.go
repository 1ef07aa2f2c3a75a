package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// samples is one scrape: each series, as "name{labels}", to its value.
type samples map[string]float64

func scrape(t *testing.T, a *testapp.App, token string) samples {
	t.Helper()
	req, err := http.NewRequest("GET", a.URL+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := samples{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	require.NoError(t, sc.Err())
	return out
}

// A scripted session moves the counters by exactly what happened: creates,
// adds, a stream, a slow client dropped, a database outage that both feeds
// come back from. Route labels are templates, never raw paths.
func TestMetricsAfterAScriptedSession(t *testing.T) {
	const token = "metrics-token"
	a := testapp.Start(t, testapp.Options{TopN: 100, StreamBuffer: 4, Config: func(c *config.Config) {
		c.MetricsToken = token
		c.StreamWriteTimeout = time.Second
		c.StreamSendBuffer = 4096
	}})
	res := a.Do(t, "GET", "/metrics", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "METRICS_TOKEN protects the endpoint")

	before := scrape(t, a, token)
	const (
		created = `leaderboard_http_requests_total{method="POST",route="/boards",status="201"}`
		players = `leaderboard_http_requests_total{method="POST",route="/boards/:board/players",status="201"}`
		adds    = `leaderboard_http_requests_total{method="POST",route="/boards/:board/players/:player/score-add",status="200"}`
		missing = `leaderboard_http_requests_total{method="GET",route="/boards/:board",status="404"}`
		subs    = `leaderboard_subscribers{transport="sse"}`
		dropped = `leaderboard_subscribers_dropped_slow_total{transport="sse"}`
		deliv   = `leaderboard_events_delivered_total{transport="sse"}`
	)
	var board struct{ ID string }
	res = a.Do(t, "POST", "/boards/", `{"name": "Cup"}`)
	require.Equal(t, http.StatusCreated, res.Status)
	res.JSON(t, &board)
	names := make([]string, 40)
	ids := make([]string, len(names))
	for i := range names {
		// Long names make each event ~5 KiB: a client that stops reading
		// soon blocks the server's writes.
		names[i] = fmt.Sprintf("%02d-%s", i, strings.Repeat("x", 96))
		var p struct{ ID string }
		res = a.Do(t, "POST", "/boards/"+board.ID+"/players/", fmt.Sprintf(`{"name": %q}`, names[i]))
		require.Equal(t, http.StatusCreated, res.Status)
		res.JSON(t, &p)
		ids[i] = p.ID
	}
	require.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/no-such-board/", nil).Status)

	healthy := testapp.OpenStream(t, a.Client(), a.URL+"/boards/"+board.ID+"/")
	testapp.Until(t, healthy, testapp.HasPlayers(len(names)))
	stalled := a.StalledStream(t, board.ID)
	events := 1
	for i := range 12 {
		res = a.Do(t, "POST", "/boards/"+board.ID+"/players/"+ids[i]+"/score-add/?amount=1000", nil)
		require.Equal(t, http.StatusOK, res.Status)
		_, n := testapp.Until(t, healthy, testapp.ScoreIs(names[i], 1000, 1))
		events += n
		res = a.Do(t, "POST", "/boards/"+board.ID+"/players/"+ids[i]+"/score-add/?amount=-1000", nil)
		require.Equal(t, http.StatusOK, res.Status)
	}
	require.NoError(t, stalled.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, err := io.Copy(io.Discard, stalled)
	require.NoError(t, err, "the stalled client was dropped")

	mid := scrape(t, a, token)
	assert.Equal(t, 1.0, mid[created]-before[created])
	assert.Equal(t, float64(len(names)), mid[players]-before[players])
	assert.Equal(t, 24.0, mid[adds]-before[adds])
	assert.Equal(t, 1.0, mid[missing]-before[missing])
	assert.Equal(t, 1.0, mid[subs], "the healthy stream is live; the stalled one is gone")
	assert.Equal(t, 1.0, mid[dropped]-before[dropped])
	assert.GreaterOrEqual(t, mid[deliv]-before[deliv], float64(events), "at least what the healthy client read")
	for series := range mid {
		assert.NotContains(t, series, board.ID, "a raw path in a label")
		assert.NotContains(t, series, "no-such-board", "a raw path in a label")
	}
	assert.Contains(t, mid, `go_goroutines`, "the Go runtime collector")
	assert.Contains(t, mid, `process_open_fds`, "the process collector")

	// An outage: both changefeeds are lost once, and reopened once.
	require.NoError(t, a.DB.Restart())
	var after samples
	require.Eventually(t, func() bool {
		after = scrape(t, a, token)
		return after[`leaderboard_changefeed_reconnects_total{feed="boards"}`] == 1 &&
			after[`leaderboard_changefeed_reconnects_total{feed="players"}`] == 1
	}, 15*time.Second, 20*time.Millisecond, "both feeds reconnect")
	for _, feed := range []string{"boards", "players"} {
		assert.Equal(t, 1.0, after[`leaderboard_changefeed_lost_total{feed="`+feed+`"}`], feed)
		assert.Equal(t, 2.0, after[`leaderboard_changefeed_resyncs_total{feed="`+feed+`"}`], "%s: at start and after the outage", feed)
	}
	assert.Greater(t, after[`leaderboard_publish_lag_seconds_count`], 0.0)
	assert.Greater(t, after[`leaderboard_delivery_lag_seconds_count`], 0.0)
}
