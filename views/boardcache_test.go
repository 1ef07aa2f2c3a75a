package views_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cachedGet waits until GET of the board is answered from memory (it has an
// ETag) and returns that answer.
func cachedGet(t *testing.T, get func() (int, http.Header, []byte)) (http.Header, []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, h, body := get()
		require.Equal(t, http.StatusOK, status, "%s", body)
		if h.Get("ETag") != "" {
			return h, body
		}
		require.True(t, time.Now().Before(deadline), "GET of the board never came from the cache")
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGetBoardFromMemoryRevalidatesWithETag(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "Cached", "A", "B")
	res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/", nil, auth...)
	require.Equal(t, http.StatusOK, res.Status)
	get := func() (int, http.Header, []byte) {
		r := a.Do(t, "GET", "/boards/"+b+"/", nil)
		return r.Status, r.Header, r.Body
	}
	h, body := cachedGet(t, get)
	var got board
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, "A", got.Players[0].Name)
	assert.Equal(t, int64(1), got.Players[0].Score)

	etag := h.Get("ETag")
	res = a.Do(t, "GET", "/boards/"+b+"/", nil, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, res.Status)
	assert.Empty(t, res.Body)
	res = a.Do(t, "GET", "/boards/"+b+"/", nil, "If-None-Match", `"0-other"`)
	assert.Equal(t, http.StatusOK, res.Status)
	res = a.Do(t, "HEAD", "/boards/"+b+"/", nil)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Empty(t, res.Body)

	// Another limit reads the live index and has no ETag.
	res = a.Do(t, "GET", "/boards/"+b+"/?limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Empty(t, res.Header.Get("ETag"))

	// A change makes the old ETag stale.
	res = a.Do(t, "POST", "/boards/"+b+"/players/"+ids[1]+"/score-add/?amount=5", nil, auth...)
	require.Equal(t, http.StatusOK, res.Status)
	require.Eventually(t, func() bool {
		r := a.Do(t, "GET", "/boards/"+b+"/", nil, "If-None-Match", etag)
		return r.Status == http.StatusOK && r.Header.Get("ETag") != "" && r.Header.Get("ETag") != etag
	}, 10*time.Second, 5*time.Millisecond)
}

// A player's own GET of the board right after its score-add shows the add,
// also when the board is answered from memory: the process reads the board
// live until the materialized top shows its own writes.
func TestOwnScoreAddIsReadBackAtOnce(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "Mine", "A", "B", "C")
	get := func() (int, http.Header, []byte) {
		r := a.Do(t, "GET", "/boards/"+b+"/", nil)
		return r.Status, r.Header, r.Body
	}
	res := a.Do(t, "POST", "/boards/"+b+"/players/"+ids[2]+"/score-add/", nil, auth...)
	require.Equal(t, http.StatusOK, res.Status)
	cachedGet(t, get)
	for i := range 30 {
		p := ids[i%len(ids)]
		res := a.Do(t, "POST", fmt.Sprintf("/boards/%s/players/%s/score-add/?amount=%d", b, p, i+1), nil, auth...)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var added player
		res.JSON(t, &added)
		r := a.Do(t, "GET", "/boards/"+b+"/", nil)
		require.Equal(t, http.StatusOK, r.Status)
		var got board
		r.JSON(t, &got)
		found := false
		for _, gp := range got.Players {
			if gp.ID == p {
				found = true
				assert.Equal(t, added.Score, gp.Score, "add %d: GET of the board shows the player's own add", i)
			}
		}
		assert.True(t, found, "add %d: the player is on the board", i)
	}
	// And once the listener caught up, the board comes from memory again.
	cachedGet(t, get)
}

// Every write through this process that changes what GET of a board shows
// is read back at once, not only score-adds.
func TestOwnWritesAreReadBackAtOnce(t *testing.T) {
	a := start(t)
	b, ids := a.Board(t, "Writes", "A", "B", "C")
	get := func() (int, http.Header, []byte) {
		r := a.Do(t, "GET", "/boards/"+b+"/", nil)
		return r.Status, r.Header, r.Body
	}
	scoreOn := func(t *testing.T, id string) (int64, bool) {
		r := a.Do(t, "GET", "/boards/"+b+"/", nil)
		require.Equal(t, http.StatusOK, r.Status)
		var got board
		r.JSON(t, &got)
		for _, gp := range got.Players {
			if gp.ID == id {
				return gp.Score, true
			}
		}
		return 0, false
	}
	tests := []struct {
		name, path, body string
		player           string
		want             int64
	}{
		{"score-add", "/players/" + ids[0] + "/score-add/?amount=7", "", ids[0], 7},
		{"score", "/players/" + ids[1] + "/score", `{"score": 40}`, ids[1], 40},
		{"batch", "/scores", `[{"player": "` + ids[2] + `", "score": 90}]`, ids[2], 90},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cachedGet(t, get)
			res := a.Do(t, "POST", "/boards/"+b+tc.path, tc.body, auth...)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			got, found := scoreOn(t, tc.player)
			assert.True(t, found)
			assert.Equal(t, tc.want, got, "GET of the board right after the write shows it")
		})
	}
	t.Run("create player", func(t *testing.T) {
		cachedGet(t, get)
		res := a.Do(t, "POST", "/boards/"+b+"/players/", `{"name": "D", "score": 1000}`, auth...)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var p player
		res.JSON(t, &p)
		got, found := scoreOn(t, p.ID)
		assert.True(t, found)
		assert.Equal(t, int64(1000), got)
	})
	t.Run("delete player", func(t *testing.T) {
		cachedGet(t, get)
		res := a.Do(t, "DELETE", "/boards/"+b+"/players/"+ids[2]+"/", nil, auth...)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		_, found := scoreOn(t, ids[2])
		assert.False(t, found)
	})
	t.Run("delete board", func(t *testing.T) {
		cachedGet(t, get)
		res := a.Do(t, "DELETE", "/boards/"+b+"/", nil, auth...)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		assert.Equal(t, http.StatusNotFound, a.Do(t, "GET", "/boards/"+b+"/", nil).Status)
	})
}
