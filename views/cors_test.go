package views_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// Other sites' pages may read and follow boards (every site by default,
// the listed ones with CORS_ORIGINS), and write only from an origin listed
// explicitly.
func TestCORS(t *testing.T) {
	open := testapp.Start(t, testapp.Options{})
	listed := testapp.Start(t, testapp.Options{Config: func(c *config.Config) {
		c.CORSOrigins = []string{"https://game.example", "*"}
	}})
	only := testapp.Start(t, testapp.Options{Config: func(c *config.Config) {
		c.CORSOrigins = []string{"https://game.example"}
	}})
	tests := []struct {
		name      string
		app       *testapp.App
		method    string
		path      string
		headers   []string
		wantAllow string // Access-Control-Allow-Origin; "" for none
		wantVary  bool
		check     func(t *testing.T, h http.Header)
	}{
		{name: "read, default", app: open, method: "GET", path: "/boards/",
			headers: []string{"Origin", "https://any.example"}, wantAllow: "*"},
		{name: "stream, default", app: open, method: "GET", path: "/boards/BOARD/?stream=1",
			headers: []string{"Origin", "https://any.example"}, wantAllow: "*"},
		{name: "write preflight, default: refused", app: open, method: "OPTIONS", path: "/boards/",
			headers: []string{"Origin", "https://any.example", "Access-Control-Request-Method", "POST"}},
		{name: "write preflight with * listed: refused", app: listed, method: "OPTIONS", path: "/boards/",
			headers: []string{"Origin", "https://any.example", "Access-Control-Request-Method", "POST"}},
		{name: "write preflight, listed origin", app: listed, method: "OPTIONS", path: "/boards/BOARD/players/",
			headers: []string{"Origin", "https://game.example", "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "content-type, idempotency-key"},
			wantAllow: "https://game.example", wantVary: true,
			check: func(t *testing.T, h http.Header) {
				assert.Contains(t, h.Get("Access-Control-Allow-Methods"), "POST")
				for _, want := range []string{"Authorization", "Content-Type", "Last-Event-ID", "Idempotency-Key"} {
					assert.Contains(t, h.Get("Access-Control-Allow-Headers"), want)
				}
			}},
		{name: "read preflight, listed origins only", app: only, method: "OPTIONS", path: "/boards/",
			headers: []string{"Origin", "https://game.example", "Access-Control-Request-Method", "GET",
				"Access-Control-Request-Headers", "last-event-id"},
			wantAllow: "https://game.example", wantVary: true},
		{name: "read from an unlisted origin", app: only, method: "GET", path: "/boards/",
			headers: []string{"Origin", "https://other.example"}, wantVary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := tt.app.Board(t, "Cup", "Ann")
			req, err := http.NewRequest(tt.method, tt.app.URL+strings.Replace(tt.path, "BOARD", b, 1), nil)
			require.NoError(t, err)
			for i := 0; i+1 < len(tt.headers); i += 2 {
				req.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			res, err := tt.app.Client().Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Less(t, res.StatusCode, 300, "status")
			assert.Equal(t, tt.wantAllow, res.Header.Get("Access-Control-Allow-Origin"))
			if tt.wantVary {
				assert.Contains(t, res.Header.Values("Vary"), "Origin")
			}
			if tt.check != nil {
				tt.check(t, res.Header)
			}
		})
	}
}
