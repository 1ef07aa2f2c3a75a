package views_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/rankcache"
)

// While the rank cache warms up, ranks, pages and around-me are answered
// by counting in the database, and are the same as once it is warm.
func TestRanksWhileTheCacheWarmsUp(t *testing.T) {
	hold := make(chan struct{})
	cache := rankcache.New()
	cache.BeforeReady = func(ctx context.Context) {
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}
	a := testapp.Start(t, testapp.Options{APIKeys: []string{key}, Ranks: cache})
	b := createBoard(t, a, `{"name": "Warm", "order": "asc"}`)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i, score := range []int64{5, 3, 3, 3, 9, 1, 7, 3} {
		a.DB.SetTime(at.Add(time.Duration(i%2) * time.Second))
		ids = append(ids, createPlayer(t, a, b, fmt.Sprintf("P%d", i), score))
	}
	a.DB.SetTime(time.Time{})
	answers := func() []string {
		t.Helper()
		var out []string
		for _, id := range ids {
			res := a.Do(t, "GET", "/boards/"+b+"/players/"+id+"/", nil)
			require.Equal(t, http.StatusOK, res.Status)
			var p ranked
			res.JSON(t, &p)
			out = append(out, fmt.Sprintf("%s:%d", p.Name, p.Rank))
			out = append(out, names(getPage(t, a, "/boards/"+b+"/players/"+id+"/around/?n=2").Players))
		}
		for offset := range 9 {
			out = append(out, names(getPage(t, a, fmt.Sprintf("/boards/%s/players/?offset=%d&limit=3", b, offset)).Players))
		}
		return out
	}
	cold := answers()
	ready, _ := cache.Ready()
	require.False(t, ready, "still warming: every answer above was counted")
	assert.Equal(t, "P5:1", cold[10], "asc: the lowest score first")
	close(hold)
	// Ready, then the writes made while it was held back are applied.
	require.Eventually(t, func() bool { ready, n := cache.Ready(); return ready && n == len(ids) }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, cold, answers(), "the warm cache answers exactly what counting did")
}
