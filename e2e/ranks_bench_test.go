package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/internal/app"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/models"
)

// bigBoard is a running web process with one board of BIG_BOARD players
// (default 1,000,000), set up once per mode and kept for every run of the
// benchmarks (-count 6 reuses it).
type bigBoard struct {
	app    *app.App
	board  string
	n      int
	top    string // the player at rank 1
	bottom string // the player at rank n
	middle string
	client *http.Client
	// warm is how long a fresh web process took to load the rank cache
	// from a database holding the board, and cacheBytes the heap that
	// load added to it (two-process mode only: there the database is
	// another process).
	warm       time.Duration
	cacheBytes uint64
}

var (
	bigBoards   = map[string]*bigBoard{}
	bigBoardsMu sync.Mutex
)

func bigBoardSize() int {
	if v := os.Getenv("BIG_BOARD"); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil && n > 10 {
			return n
		}
	}
	return 1_000_000
}

// setupBig loads a board of n players, scores 0..n-1 (all distinct), into
// the database of mode: "embedded" (web runs its own database) or
// "two-process" (a minirethink process of its own, as a real deployment
// has its database apart).
func setupBig(b *testing.B, mode string) *bigBoard {
	bigBoardsMu.Lock()
	defer bigBoardsMu.Unlock()
	if bb := bigBoards[mode]; bb != nil {
		return bb
	}
	n := bigBoardSize()
	ctx := context.Background()
	cfg := testapp.Config(testapp.Options{})
	cfg.QueryTimeout = time.Minute
	if mode == "two-process" {
		cfg.DatabaseURL, cfg.OpenWrites = startMinirethinkProcess(b), true
	}
	start := func() *app.App {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		a, err := app.Start(ctx, cfg, app.Options{Logger: slog.New(slog.DiscardHandler), Listener: l, NoDemo: true, Backoff: testapp.Fast})
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	a := start()
	board := &models.Board{Name: "Big"}
	if err := a.Store.Boards.Save(ctx, board); err != nil {
		b.Fatal(err)
	}
	session, err := r.Connect(r.ConnectOpts{Address: a.Conn.Address, Username: a.Conn.Username, Password: a.Conn.Password})
	if err != nil {
		b.Fatal(err)
	}
	defer session.Close()
	loadStart := time.Now()
	const batch = 10_000
	for i := 0; i < n; i += batch {
		docs := make([]any, 0, batch)
		for j := i; j < i+batch && j < n; j++ {
			docs = append(docs, map[string]any{
				"board": board.ID, "name": fmt.Sprintf("Player %d", j), "score": j,
				"reached_at": r.Now().ToEpochTime(),
			})
		}
		if err := r.DB(a.Conn.Database).Table("players").Insert(docs).Exec(session, r.ExecOpts{}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: loaded %d players in %s", mode, n, time.Since(loadStart).Round(time.Millisecond))
	bb := &bigBoard{app: a, board: board.ID, n: n, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	if mode == "two-process" {
		// A fresh web process on the loaded database: how long until its
		// rank cache answers, and what it holds.
		_ = a.Close()
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		a = start()
		bb.app = a
		waitWarm(b, a, n)
		bb.warm = time.Since(t0)
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		bb.cacheBytes = after.HeapAlloc - before.HeapAlloc
		b.Logf("%s: a fresh web process answered ranks from memory after %s; its heap grew by %d bytes (%.0f per player)",
			mode, bb.warm.Round(time.Millisecond), bb.cacheBytes, float64(bb.cacheBytes)/float64(n))
	} else {
		waitWarm(b, a, n)
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		b.Logf("%s: heap with the database and the rank cache holding %d players: %d bytes (%.0f per player)",
			mode, n, m.HeapAlloc, float64(m.HeapAlloc)/float64(n))
	}
	bb.top = bb.playerAt(b, 0)
	bb.bottom = bb.playerAt(b, n-1)
	bb.middle = bb.playerAt(b, n/2)
	// What the rank of the last player costs without the cache: the count
	// over the rank index that the models fall back to.
	counting, err := models.Open(ctx, a.Conn, models.Options{QueryTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	p, err := counting.Players.Get(ctx, board.ID, bb.bottom)
	if err != nil || p.Rank != n {
		b.Fatalf("counted rank: %v %v", p, err)
	}
	b.Logf("%s: counting the last player's rank (%d) in the database took %s", mode, n, time.Since(t0).Round(time.Microsecond))
	_ = counting.Close()
	bigBoards[mode] = bb
	return bb
}

func waitWarm(b *testing.B, a *app.App, n int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if ready, got := a.Ranks.Ready(); ready && got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("rank cache never warmed up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (bb *bigBoard) get(b *testing.B, method, path string) []byte {
	req, _ := http.NewRequest(method, bb.app.URL+path, nil)
	res, err := bb.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, body)
	}
	return body
}

func (bb *bigBoard) playerAt(b *testing.B, offset int) string {
	var page struct {
		Players []struct {
			ID   string
			Rank int
		}
	}
	body := bb.get(b, "GET", fmt.Sprintf("/boards/%s/players/?offset=%d&limit=1", bb.board, offset))
	if err := json.Unmarshal(body, &page); err != nil || len(page.Players) != 1 {
		b.Fatalf("offset %d: %s", offset, body)
	}
	return page.Players[0].ID
}

// startMinirethinkProcess builds and starts cmd/minirethink as a process of
// its own and returns its DATABASE_URL.
func startMinirethinkProcess(b *testing.B) string {
	dir := b.TempDir()
	bin := filepath.Join(dir, "minirethink")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/minirethink").CombinedOutput(); err != nil {
		b.Fatalf("build minirethink: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Env = append(os.Environ(), "MINIRETHINK_PASSWORD=bench")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// Kept for every run; it ends with the test binary.
	go func() { _ = cmd.Wait() }()
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "rethinkdb://admin:bench@" + addr + "/leaderboard"
}

// BenchmarkBigBoard: requests over real HTTP against a board of 1,000,000
// players (BIG_BOARD), with the rank cache warm, in embedded mode and with
// the database in a process of its own. ns/op is one request.
//
//	go test -run '^$' -bench BigBoard -count 6 -timeout 60m ./e2e/
func BenchmarkBigBoard(b *testing.B) {
	for _, mode := range []string{"embedded", "two-process"} {
		b.Run("mode="+mode, func(b *testing.B) {
			bb := setupBig(b, mode)
			add := func(id string) func(i int) (string, string) {
				return func(i int) (string, string) {
					amount := 1 - 2*(i%2) // +1, -1, ...: the player stays where it is
					return "POST", fmt.Sprintf("/boards/%s/players/%s/score-add/?amount=%d", bb.board, id, amount)
				}
			}
			fixed := func(path string) func(int) (string, string) {
				return func(int) (string, string) { return "GET", path }
			}
			cases := []struct {
				name string
				req  func(i int) (string, string)
			}{
				{"top10", fixed(fmt.Sprintf("/boards/%s/?limit=10", bb.board))},
				{"player_rank_1", fixed(fmt.Sprintf("/boards/%s/players/%s/", bb.board, bb.top))},
				{"player_rank_last", fixed(fmt.Sprintf("/boards/%s/players/%s/", bb.board, bb.bottom))},
				{"around_middle_n5", fixed(fmt.Sprintf("/boards/%s/players/%s/around/?n=5", bb.board, bb.middle))},
				{"page_last_10", fixed(fmt.Sprintf("/boards/%s/players/?offset=%d&limit=10", bb.board, bb.n-10))},
				{"score_add_rank_1", add(bb.top)},
				{"score_add_rank_last", add(bb.bottom)},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						method, path := c.req(i)
						bb.get(b, method, path)
					}
				})
			}
		})
	}
}
