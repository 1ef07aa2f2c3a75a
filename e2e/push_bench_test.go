package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// BenchmarkWebSocketFanout: the push path's latency, from a write to the
// last of n WebSocket subscribers receiving it, one write at a time (ns/op
// is that latency). "board" is BenchmarkWriteToSubscriber's path (a
// score-add, the listener, the boards changefeed) ending at WebSocket
// subscribers of board-<id> instead of SSE streams; "event" is POST /events
// to a fanout channel (the events changefeed, no listener).
func BenchmarkWebSocketFanout(b *testing.B) {
	for _, path := range []string{"board", "event"} {
		for _, subscribers := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("path=%s/subscribers=%d", path, subscribers), func(b *testing.B) {
				a := testapp.Start(b, testapp.Options{PublishInterval: time.Millisecond, Config: func(c *config.Config) {
					// Every subscriber comes from this one address.
					c.MaxStreamsPerClient = subscribers + 1
				}})
				board, ids := a.Board(b, "Bench", "P1")
				channel := "board-" + board
				post := func() {}
				client := &http.Client{}
				switch path {
				case "board":
					add := a.URL + "/boards/" + board + "/players/" + ids[0] + "/score-add/"
					post = func() { benchPost(b, client, add, "") }
				case "event":
					channel = "bench"
					res := a.Do(b, "POST", "/channels", `{"name":"bench","type":"fanout"}`)
					if res.Status != http.StatusCreated {
						b.Fatalf("create channel: %d %s", res.Status, res.Body)
					}
					post = func() { benchPost(b, client, a.URL+"/events", `{"channel":"bench","data":{"n":1}}`) }
				}
				sockets := make([]*testapp.Socket, subscribers)
				for i := range sockets {
					u := testapp.RegisterUser(b, a.URL, "", fmt.Sprintf("u%d", i), 0)
					sockets[i] = testapp.DialSocket(b, a.URL, u.Token)
					sockets[i].Next(b, 10*time.Second) // its direct channel
					if m := sockets[i].Subscribe(b, channel, nil); m.Type != "subscribed" {
						b.Fatalf("subscribe: %+v", m)
					}
					if path == "board" {
						sockets[i].Next(b, 10*time.Second) // the board now
					}
				}
				b.ResetTimer()
				for range b.N {
					post()
					for _, s := range sockets {
						s.Next(b, 10*time.Second)
					}
				}
			})
		}
	}
}

func benchPost(b *testing.B, client *http.Client, url, body string) {
	res, err := client.Post(url, "application/json", bytes.NewBufferString(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("status %d", res.StatusCode)
	}
}
