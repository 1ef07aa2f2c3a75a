package event_test

import (
	"strings"
	"testing"

	"github.com/leaderboardhq/leaderboard/event"
)

// BenchmarkSSE formats an event of about a top-10 board's size.
func BenchmarkSSE(b *testing.B) {
	ev := event.Event{Topic: "b", Seq: 123456, Type: "update", Data: []byte(`{"pad":"` + strings.Repeat("x", 1<<10) + `"}`)}
	b.ReportAllocs()
	b.SetBytes(int64(len(ev.SSE())))
	for b.Loop() {
		ev.SSE()
	}
}
