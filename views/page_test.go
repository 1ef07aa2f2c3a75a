package views_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// The live page and its files are served by web itself, next to the API.
func TestPageRoutes(t *testing.T) {
	a := testapp.Start(t, testapp.Options{})
	for _, tc := range []struct{ method, path, contentType string }{
		{"GET", "/", "text/html; charset=utf-8"},
		{"HEAD", "/", "text/html; charset=utf-8"},
		{"GET", "/?board=abc", "text/html; charset=utf-8"},
		{"GET", "/static/leaderboard.js", "text/javascript; charset=utf-8"},
		{"HEAD", "/static/leaderboard.js", "text/javascript; charset=utf-8"},
		{"GET", "/static/page.css/", "text/css; charset=utf-8"},
		{"GET", "/favicon.ico", "image/svg+xml"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := a.Do(t, tc.method, tc.path, nil)
			require.Equal(t, http.StatusOK, res.Status)
			assert.Equal(t, tc.contentType, res.Header.Get("Content-Type"))
			assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
			assert.NotEmpty(t, res.Header.Get("ETag"))
		})
	}
	res := a.Do(t, "GET", "/static/nope.js", nil)
	assert.Equal(t, http.StatusNotFound, res.Status)
	assert.JSONEq(t, `{"error":"not found"}`, string(res.Body), "like any unknown path")
}
