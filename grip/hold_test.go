package grip_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
)

func TestSSEHoldSetHeaders(t *testing.T) {
	tests := []struct {
		name    string
		hold    grip.SSEHold
		want    map[string]string // header -> value; "" means absent
		wantErr string
	}{
		{
			name: "channel only",
			hold: grip.SSEHold{Channel: "board-42", KeepAlive: 20 * time.Second},
			want: map[string]string{
				"Grip-Hold":       "stream",
				"Grip-Channel":    "board-42",
				"Grip-Keep-Alive": `:\n\n; format=cstring; timeout=20`,
				"Content-Type":    "text/event-stream",
				"Grip-Link":       "",
			},
		},
		{
			name: "prev-id with next link",
			hold: grip.SSEHold{Channel: "board-42", PrevID: "7", NextLink: "/boards/42/stream?after=7", NextLinkTimeout: 300 * time.Second, KeepAlive: 1500 * time.Millisecond},
			want: map[string]string{
				"Grip-Channel":    "board-42; prev-id=7",
				"Grip-Link":       "</boards/42/stream?after=7>; rel=next; timeout=300",
				"Grip-Keep-Alive": `:\n\n; format=cstring; timeout=2`,
			},
		},
		{
			name: "next link without prev-id",
			hold: grip.SSEHold{Channel: "c", NextLink: "/s", KeepAlive: time.Second},
			want: map[string]string{"Grip-Channel": "c", "Grip-Link": "</s>; rel=next"},
		},
		{name: "prev-id without next link", hold: grip.SSEHold{Channel: "c", PrevID: "1"}, wantErr: "needs a NextLink"},
		{name: "empty channel", hold: grip.SSEHold{}, wantErr: "empty channel"},
		{name: "no keep-alive", hold: grip.SSEHold{Channel: "c"}, wantErr: "needs a KeepAlive"},
		{name: "channel with comma", hold: grip.SSEHold{Channel: "a,b"}, wantErr: "not allowed"},
		{name: "channel with semicolon", hold: grip.SSEHold{Channel: "a;b"}, wantErr: "not allowed"},
		{name: "channel with newline", hold: grip.SSEHold{Channel: "a\nGrip-Evil: 1"}, wantErr: "not allowed"},
		{name: "prev-id with space", hold: grip.SSEHold{Channel: "c", PrevID: "1 2", NextLink: "/s"}, wantErr: "not allowed"},
		{name: "next link with >", hold: grip.SSEHold{Channel: "c", NextLink: "/s>; rel=gone"}, wantErr: "must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			err := tt.hold.SetHeaders(h)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, h, "no header may be set when the hold is refused")
				return
			}
			require.NoError(t, err)
			for k, v := range tt.want {
				assert.Equal(t, v, h.Get(k), k)
			}
		})
	}
}
