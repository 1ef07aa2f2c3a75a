package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// The real web binary with DATA_DIR, as an operator runs it: killed with
// SIGKILL in the middle of a stream of score-adds, again and again, it
// comes back with every acknowledged add and never applies one twice.

// webBinary builds cmd/web once per test run.
var webBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "web-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "web")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := webBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// webProcess is one run of the binary.
type webProcess struct {
	cmd  *exec.Cmd
	base string
	out  *testapp.SyncBuffer
	done chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startWeb runs the binary on dataDir; ready waits for /readyz.
func startWeb(t *testing.T, dataDir string, env ...string) *webProcess {
	t.Helper()
	bin, err := webBinary()
	require.NoError(t, err)
	port := freePort(t)
	p := &webProcess{base: "http://127.0.0.1:" + strconv.Itoa(port), out: &testapp.SyncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "DATA_DIR="+dataDir,
		"DATABASE_URL=", "API_KEYS=", "LOG_FORMAT=text", "PUBLISH_INTERVAL=10ms")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("web output:\n%s", p.out)
		}
	})
	return p
}

func (p *webProcess) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("web exited: %v\n%s", err, p.out)
		default:
		}
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("web never became ready\n%s", p.out)
}

func (p *webProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	p.done <- nil
}

type boardJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Players []struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	} `json:"players"`
}

func getJSONT(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, url)
	require.NoError(t, json.NewDecoder(res.Body).Decode(v))
}

func (p *webProcess) boards(t *testing.T) []boardJSON {
	t.Helper()
	var list struct{ Boards []boardJSON }
	getJSONT(t, p.base+"/boards/", &list)
	return list.Boards
}

func (p *webProcess) score(t *testing.T, board, player string) float64 {
	t.Helper()
	var pl struct{ Score float64 }
	getJSONT(t, p.base+"/boards/"+board+"/players/"+player+"/", &pl)
	return pl.Score
}

func TestDataDirKeepsEveryAcknowledgedScoreAddAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the web binary")
	}
	dir := t.TempDir()
	p := startWeb(t, dir)
	p.waitReady(t)
	boards := p.boards(t)
	require.Len(t, boards, 1, "the demo board, seeded into the empty database")
	board := boards[0].ID
	var demo boardJSON
	getJSONT(t, p.base+"/boards/"+board+"/", &demo)
	var players []string
	for _, pl := range demo.Players {
		players = append(players, pl.ID)
	}
	require.Len(t, players, 5)

	// Per player: adds acknowledged with 200, and adds whose fate is
	// unknown (sent, and the process died before answering).
	acked := make([]atomic.Int64, len(players))
	unknown := make([]atomic.Int64, len(players))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	const rounds, writers = 5, 16
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	for round := range rounds {
		if round > 0 {
			p = startWeb(t, dir)
			p.waitReady(t)
			checkScores(t, p, board, players, acked, unknown)
		}
		var stop atomic.Bool
		var sent atomic.Int64
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					k := (w + i) % len(players)
					res, err := client.Post(p.base+"/boards/"+board+"/players/"+players[k]+"/score-add/", "", nil)
					sent.Add(1)
					if err != nil {
						unknown[k].Add(1)
						return // the process is gone
					}
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						acked[k].Add(1)
						continue
					}
					// Anything else is not an acknowledgement; it may or may
					// not have been applied.
					unknown[k].Add(1)
				}
			})
		}
		// Kill it at a random moment, once some adds went through.
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		require.Eventually(t, func() bool { return sent.Load() > 20 }, 10*time.Second, 5*time.Millisecond)
		p.kill(t)
		stop.Store(true)
		wg.Wait()
		var a, u int64
		for k := range players {
			a += acked[k].Load()
			u += unknown[k].Load()
		}
		t.Logf("round %d: killed after %d adds sent; %d acknowledged in all, %d unknown", round, sent.Load(), a, u)
	}

	p = startWeb(t, dir)
	p.waitReady(t)
	checkScores(t, p, board, players, acked, unknown)
	assert.Len(t, p.boards(t), 1, "no second demo board on restart")
	assert.Contains(t, p.out.String(), "data directory loaded")
}

// checkScores holds every player's score within [acknowledged,
// acknowledged + unknown]: nothing acknowledged lost, nothing applied twice.
func checkScores(t *testing.T, p *webProcess, board string, players []string, acked, unknown []atomic.Int64) {
	t.Helper()
	for k, id := range players {
		got := int64(p.score(t, board, id))
		a, u := acked[k].Load(), unknown[k].Load()
		assert.GreaterOrEqual(t, got, a, "player %d: an acknowledged add was lost", k)
		assert.LessOrEqual(t, got, a+u, "player %d: more adds applied than were sent", k)
	}
}

// A second web on the same DATA_DIR refuses to start, saying why, and the
// first goes on.
func TestSecondWebOnTheSameDataDirIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the web binary")
	}
	dir := t.TempDir()
	first := startWeb(t, dir)
	first.waitReady(t)

	second := startWeb(t, dir)
	var err error
	select {
	case err = <-second.done:
		second.done <- err
	case <-time.After(20 * time.Second):
		t.Fatal("the second web did not exit")
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the second web exits with an error: %v", err)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, second.out.String(), "is in use by another process (pid "+strconv.Itoa(first.cmd.Process.Pid)+")")
	assert.Contains(t, second.out.String(), filepath.Join(dir, "LOCK"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, first.base+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the first web goes on")
}
