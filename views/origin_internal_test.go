package views

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://game.example", "https://game.example"},
		{" https://Game.Example/ ", "https://game.example"},
		{"HTTPS://game.example:443", "https://game.example"},
		{"http://game.example:80", "http://game.example"},
		{"https://game.example:80", "https://game.example:80"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://[::1]:80", "http://[::1]"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"capacitor://localhost", "capacitor://localhost"},
		{"game.example", ""},
		{"https://", ""},
		{"https://game.example/path", ""},
		{"https://game.example?q", ""},
		{"https://user@game.example", ""},
		{"null", ""},
		{"*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeOrigin(tt.in)
			if tt.want == "" {
				assert.Error(t, err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
