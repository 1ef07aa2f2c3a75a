package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
)

func startDurable(t *testing.T, dataDir string, keys ...string) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = dataDir
	cfg.APIKeys = keys
	cfg.ShutdownTimeout = 5 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a, err := app.Start(context.Background(), cfg, app.Options{Listener: l,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func boardNames(t *testing.T, a *app.App) []string {
	t.Helper()
	res, err := http.Get(a.URL + "/boards/")
	require.NoError(t, err)
	defer res.Body.Close()
	var list struct{ Boards []struct{ Name string } }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	var names []string
	for _, b := range list.Boards {
		names = append(names, b.Name)
	}
	return names
}

// GET /admin/backup is a consistent snapshot of the embedded database, for
// a key from API_KEYS; a DATA_DIR holding it as snapshot.mrdb starts with
// the same boards, and no second demo board.
func TestBackupEndpointRestores(t *testing.T) {
	a := startDurable(t, t.TempDir(), "secret")
	require.Equal(t, []string{"Demo"}, boardNames(t, a))

	get := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/admin/backup", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return res
	}
	for _, key := range []string{"", "wrong"} {
		res := get(key)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "key %q", key)
	}
	res := get("secret")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Disposition"), ".mrdb")
	backup, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.NoError(t, a.Close())

	restored := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(restored, "snapshot.mrdb"), backup, 0o600))
	b := startDurable(t, restored)
	assert.Equal(t, []string{"Demo"}, boardNames(t, b), "the backup's boards, and no second demo")
	assert.Nil(t, b.Demo)

	res, err = http.Get(b.URL + "/admin/backup")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no API_KEYS, no backups")
}

func decodeJSON(res *http.Response, v any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}
