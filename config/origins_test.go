package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCORSOrigins(t *testing.T) {
	t.Setenv("CORS_ORIGINS", " https://game.example , http://localhost:8080/,*,,")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"https://game.example", "http://localhost:8080/", "*"}, c.CORSOrigins)

	for _, bad := range []string{"game.example", "https://game.example/play", "null", "https://"} {
		t.Run(bad, func(t *testing.T) {
			t.Setenv("CORS_ORIGINS", "https://ok.example,"+bad)
			_, err := Load()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "CORS_ORIGINS")
			assert.Contains(t, err.Error(), bad)
		})
	}
}
