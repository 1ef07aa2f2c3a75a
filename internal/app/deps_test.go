package app_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the binaries link: the worker knows nothing of HTTP routing, and
// neither binary carries the testing package (minirethink's RunT takes a
// Tester instead of *testing.T).
func TestBinaryDependencies(t *testing.T) {
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/leaderboardhq/leaderboard/cmd/dblistener", []string{"github.com/labstack/echo/v4", "testing"}},
		{"github.com/leaderboardhq/leaderboard/cmd/web", []string{"testing"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tt.pkg).Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			for _, f := range tt.forbidden {
				assert.NotContains(t, deps, f)
			}
		})
	}
}
