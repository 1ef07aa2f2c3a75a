package grip_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/leaderboardhq/leaderboard/grip"
)

func TestLastIDs(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   map[string]string
	}{
		{name: "none", want: map[string]string{}},
		{name: "as pushpin sends it", values: []string{"board-1; last-id=2"}, want: map[string]string{"board-1": "2"}},
		{name: "several channels in one header", values: []string{"a; last-id=1, b; last-id=9"}, want: map[string]string{"a": "1", "b": "9"}},
		{name: "several headers", values: []string{"a; last-id=1", "b;last-id=\"9\""}, want: map[string]string{"a": "1", "b": "9"}},
		{name: "channel without last-id", values: []string{"a", "b; other=1"}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Grip-Last", v)
			}
			assert.Equal(t, tt.want, grip.LastIDs(h))
		})
	}
}
