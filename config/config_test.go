package config

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDefaults(t *testing.T) {
	for _, k := range []string{"PORT", "DATABASE_URL", "API_KEYS", "TOP_N", "PUBLISH_INTERVAL", "KEEPALIVE_INTERVAL",
		"HEARTBEAT_INTERVAL", "HEARTBEAT_STALE_AFTER"} {
		t.Setenv(k, "")
	}
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, 5000, c.Port)
	assert.Equal(t, 5, c.TopN)
	assert.Equal(t, 50*time.Millisecond, c.PublishInterval)
	assert.Equal(t, 20*time.Second, c.KeepAliveInterval)
	assert.Equal(t, 5*time.Second, c.HeartbeatInterval)
	assert.Equal(t, 15*time.Second, c.HeartbeatStaleAfter)
	assert.True(t, c.Embedded())
	assert.NoError(t, c.CheckWriteAuth(), "embedded mode may run with open writes")
}

func TestLoadRejectsBadValues(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"PORT", "0", "PORT must be 1-65535"},
		{"PORT", "http", "PORT"},
		{"TOP_N", "101", "TOP_N must be 1-100"},
		{"PUBLISH_INTERVAL", "0s", "PUBLISH_INTERVAL must be at least 1ms"},
		{"KEEPALIVE_INTERVAL", "10ms", "KEEPALIVE_INTERVAL must be at least 1s"},
		{"HEARTBEAT_INTERVAL", "1ms", "HEARTBEAT_INTERVAL must be at least 10ms"},
		{"HEARTBEAT_STALE_AFTER", "5s", "HEARTBEAT_STALE_AFTER must be longer than HEARTBEAT_INTERVAL (5s)"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"LOG_FORMAT", "xml", "LOG_FORMAT"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			_, err := Load()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAPIKeysAreTrimmed(t *testing.T) {
	t.Setenv("API_KEYS", " a , b,,")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, c.APIKeys)
}

func TestRealDatabaseNeedsKeysOrOpenWrites(t *testing.T) {
	t.Setenv("DATABASE_URL", "rethinkdb://db.example:28015/leaderboard")
	t.Setenv("API_KEYS", "")
	c, err := Load()
	require.NoError(t, err)
	err = c.CheckWriteAuth()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "API_KEYS")
	assert.Contains(t, err.Error(), "OPEN_WRITES=true")

	t.Setenv("OPEN_WRITES", "true")
	c, err = Load()
	require.NoError(t, err)
	assert.NoError(t, c.CheckWriteAuth())
}

// .env.example lists every variable with its default: loading it gives
// exactly Defaults(), and it names no variable Config does not read.
func TestEnvExampleMatchesDefaults(t *testing.T) {
	data, err := os.ReadFile("../.env.example")
	require.NoError(t, err)
	known := map[string]bool{}
	for _, name := range variables() {
		known[name] = true
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q", line)
		require.True(t, known[name], ".env.example sets %s, which Config does not read", name)
		listed[name] = true
		t.Setenv(name, value)
	}
	for name := range known {
		assert.True(t, listed[name], ".env.example does not list %s", name)
	}
	c, err := Load()
	require.NoError(t, err)
	want := Defaults()
	assert.Equal(t, want, c)
}

// Durations in the JSON logs read as durations, not nanoseconds.
func TestLoggerWritesReadableDurations(t *testing.T) {
	var buf bytes.Buffer
	c := Defaults()
	log := c.logger(&buf, "web")
	log.Info("started", "publish_interval", 50*time.Millisecond, "attempt", 2)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "50ms", line["publish_interval"])
	assert.Equal(t, 2.0, line["attempt"])
	assert.Equal(t, "web", line["process"])
}

// DATA_DIR is the embedded database's: with DATABASE_URL it would do
// nothing, which an operator would find out only after losing data.
func TestDataDirIsForTheEmbeddedDatabase(t *testing.T) {
	t.Setenv("DATA_DIR", "./data")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "./data", c.DataDir)
	assert.True(t, c.Embedded())

	t.Setenv("DATABASE_URL", "rethinkdb://db.example:28015/leaderboard")
	t.Setenv("API_KEYS", "k")
	_, err = Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATA_DIR keeps the embedded database's data")
}
