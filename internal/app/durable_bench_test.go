package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
)

// BenchmarkScoreAdd: score-adds of one player through the whole service
// (HTTP, Echo, the driver, the embedded database, the in-process listener),
// 16 clients at once: in memory, with DATA_DIR (every add on disk before
// its 200, fsyncs shared by group commit), and with DATA_DIR and the
// players table set to durability "soft".
//
//	go test -run '^$' -bench ScoreAdd -benchtime 5s -count 6 ./internal/app/
func BenchmarkScoreAdd(b *testing.B) {
	for _, mode := range []string{"memory", "data-dir-hard", "data-dir-soft"} {
		b.Run(mode, func(b *testing.B) {
			cfg := config.Defaults()
			if mode != "memory" {
				cfg.DataDir = b.TempDir()
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			a, err := app.Start(context.Background(), cfg, app.Options{Listener: l,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = a.Close() })
			if mode == "data-dir-soft" {
				s, err := r.Connect(r.ConnectOpts{Address: a.Conn.Address, Username: a.Conn.Username, Password: a.Conn.Password})
				if err != nil {
					b.Fatal(err)
				}
				_, err = r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"name": "players"}).
					Update(map[string]any{"durability": "soft"}).RunWrite(s)
				s.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			url := a.URL + "/boards/" + a.Demo.ID + "/players/"
			var list struct{ Players []struct{ ID string } }
			res, err := http.Get(a.URL + "/boards/" + a.Demo.ID + "/")
			if err != nil {
				b.Fatal(err)
			}
			if err := decodeJSON(res, &list); err != nil {
				b.Fatal(err)
			}
			url += list.Players[0].ID + "/score-add/"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var n atomic.Int64
			b.SetParallelism(8) // 16 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Post(url, "", nil)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
					n.Add(1)
				}
			})
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "adds/s")
		})
	}
}
