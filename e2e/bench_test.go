package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// BenchmarkScoreAdd: POST score-add over real HTTP to the API, which writes
// to the embedded database over TCP. ns/op is one request; run with -cpu to
// vary client concurrency.
func BenchmarkScoreAdd(b *testing.B) {
	a := testapp.Start(b, testapp.Options{})
	board, ids := a.Board(b, "Bench", "P1", "P2", "P3", "P4")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			url := a.URL + "/boards/" + board + "/players/" + ids[i%len(ids)] + "/score-add/"
			i++
			res, err := client.Post(url, "application/json", bytes.NewBufferString(`{"amount": 1}`))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

// BenchmarkWriteToSubscriber: the realtime path's latency, from sending a
// score-add to the SSE event carrying it arriving at subscribers, through
// the players changefeed, the listener, the boards changefeed and the hub.
// ns/op is that latency (one write at a time); the publish interval is 1ms
// so coalescing does not dominate.
func BenchmarkWriteToSubscriber(b *testing.B) {
	for _, subscribers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) {
			a := testapp.Start(b, testapp.Options{PublishInterval: time.Millisecond})
			board, ids := a.Board(b, "Bench", "P1")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: subscribers}}
			streams := make([]*testapp.Stream, subscribers)
			for i := range streams {
				streams[i] = testapp.OpenStream(b, client, a.URL+"/boards/"+board+"/")
				streams[i].Next(b, 10*time.Second)
			}
			add := a.URL + "/boards/" + board + "/players/" + ids[0] + "/score-add/"
			b.ResetTimer()
			for range b.N {
				res, err := client.Post(add, "application/json", nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				// Every subscriber gets the event: the last one to get it
				// bounds the latency.
				for _, s := range streams {
					s.Next(b, 10*time.Second)
				}
			}
		})
	}
}
