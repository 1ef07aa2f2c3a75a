package page_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/page"
)

func serve(t *testing.T, h http.Handler, method, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestFilesHaveTheirTypeAndAreRevalidated(t *testing.T) {
	h := page.New()
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html; charset=utf-8", "<table"},
		{"/static/leaderboard.js", "text/javascript; charset=utf-8", "Leaderboard"},
		{"/static/page.js", "text/javascript; charset=utf-8", "new Leaderboard("},
		{"/static/page.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/static/favicon.svg", "image/svg+xml", "<svg"},
		{"/favicon.ico", "image/svg+xml", "<svg"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := serve(t, h, "GET", tc.path)
			require.Equal(t, http.StatusOK, res.Code)
			assert.Equal(t, tc.contentType, res.Header().Get("Content-Type"))
			assert.Equal(t, "no-cache", res.Header().Get("Cache-Control"))
			assert.Equal(t, "nosniff", res.Header().Get("X-Content-Type-Options"))
			assert.Contains(t, res.Body.String(), tc.contains)
			etag := res.Header().Get("ETag")
			require.NotEmpty(t, etag)

			again := serve(t, h, "GET", tc.path, "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, again.Code, "the same ETag is a 304")
			assert.Empty(t, again.Body.String())

			head := serve(t, h, "HEAD", tc.path)
			assert.Equal(t, http.StatusOK, head.Code)
			assert.Equal(t, tc.contentType, head.Header().Get("Content-Type"))
			assert.Equal(t, res.Header().Get("Content-Length"), head.Header().Get("Content-Length"))
			assert.Empty(t, head.Body.String(), "HEAD has no body")
		})
	}
}

// The page runs only its own scripts and styles: a board or player name
// cannot bring code in, and nothing is loaded from another site (the page
// works offline).
func TestPageIsSelfContained(t *testing.T) {
	h := page.New()
	res := serve(t, h, "GET", "/")
	csp := res.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	body := res.Body.String()
	for _, external := range []string{"http://", "https://", "//cdn"} {
		assert.NotContains(t, body, external, "no external resource")
	}
	assert.NotContains(t, body, "<script>", "no inline script")
	assert.NotContains(t, body, "style=", "no inline style")
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := page.New()
	assert.Equal(t, http.StatusNotFound, serve(t, h, "GET", "/static/nope.js").Code)
	assert.Equal(t, http.StatusNotFound, serve(t, h, "GET", "/static/../page.go").Code)
	res := serve(t, h, "POST", "/")
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, "GET, HEAD", res.Header().Get("Allow"))
}

func TestPathsAreWhatItServes(t *testing.T) {
	h := page.New()
	paths := h.Paths()
	assert.Contains(t, paths, "/")
	assert.Contains(t, paths, "/favicon.ico")
	assert.Contains(t, paths, "/static/leaderboard.js")
	for _, p := range paths {
		assert.True(t, p == "/" || p == "/favicon.ico" || strings.HasPrefix(p, "/static/"), p)
		assert.Equal(t, http.StatusOK, serve(t, h, "GET", p).Code, p)
	}
}
