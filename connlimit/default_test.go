package connlimit_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/leaderboardhq/leaderboard/connlimit"
)

func TestTotalForFileLimit(t *testing.T) {
	tests := []struct {
		nofile uint64
		want   int
	}{
		{256, 128},           // half: the reserve never takes more
		{1024, 768},          // the usual soft limit: 256 kept
		{4096, 3072},         // a quarter kept
		{20000, 15000},       // the incident's limit
		{65536, 49152},       //
		{1 << 20, 786432},    //
		{^uint64(0), 786432}, // RLIM_INFINITY: memory binds first
		{0, 768},             // unknown: as if 1024
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.nofile), func(t *testing.T) {
			got := connlimit.TotalFor(tt.nofile)
			assert.Equal(t, tt.want, got)
			if tt.nofile > 0 && tt.nofile <= 1<<20 {
				assert.GreaterOrEqual(t, int(tt.nofile)-got, min(256, int(tt.nofile)/2), "reserve")
			}
		})
	}
}
