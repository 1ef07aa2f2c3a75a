package grip_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/internal/pushpintest"
)

// gripBackend plays the web process: GRIP requests get a stream hold and the
// current state as the first event, direct ones a plain answer.
type gripBackend struct {
	cfg grip.Config

	mu         sync.Mutex
	seq        map[string]int // channel -> id of the current state
	recoveries chan recovery
}

type recovery struct {
	after   string
	lastIDs map[string]string
}

func sseEvent(id int, data string) string {
	return fmt.Sprintf("id: %d\nevent: update\ndata: %s\n\n", id, data)
}

func (b *gripBackend) setSeq(channel string, seq int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq[channel] = seq
}

func (b *gripBackend) currentSeq(channel string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.seq[channel]; ok {
		return s
	}
	return 1
}

func (b *gripBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !b.cfg.VerifyRequest(r) {
		_, _ = io.WriteString(w, "direct: no GRIP\n")
		return
	}
	channel := r.URL.Query().Get("channel")
	seq := b.currentSeq(channel)
	hold := grip.SSEHold{Channel: channel, KeepAlive: 20 * time.Second}
	switch r.URL.Path {
	case "/stream":
		if ka := r.URL.Query().Get("keepalive"); ka != "" {
			secs, _ := strconv.Atoi(ka)
			hold.KeepAlive = time.Duration(secs) * time.Second
		}
	case "/reliable":
		// The architecture's resume rule: whoever asks, with whatever
		// last id, gets the current state, and the hold continues from it.
		if after := r.URL.Query().Get("after"); after != "" {
			b.recoveries <- recovery{after: after, lastIDs: grip.LastIDs(r.Header)}
		}
		hold.PrevID = strconv.Itoa(seq)
		hold.NextLink = fmt.Sprintf("/reliable?channel=%s&after=%d", channel, seq)
	case "/prev-id-without-link":
		// What SSEHold refuses to write, to pin down why it refuses.
		w.Header().Set("Grip-Hold", "stream")
		w.Header().Set("Grip-Channel", channel+"; prev-id=1")
		_, _ = io.WriteString(w, sseEvent(1, "{}"))
		return
	default:
		http.NotFound(w, r)
		return
	}
	if err := hold.SetHeaders(w.Header()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, sseEvent(seq, fmt.Sprintf(`{"channel":%q,"seq":%d}`, channel, seq)))
}

// stream is one SSE client connection.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
}

func openStream(ctx context.Context, t *testing.T, url string) *stream {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return &stream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event (or comment block) including its blank line.
func (s *stream) next(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := s.r.ReadString('\n')
		require.NoError(t, err, "stream ended; got so far %q", b.String())
		b.WriteString(line)
		if line == "\n" {
			return b.String()
		}
	}
}

func TestThroughPushpin(t *testing.T) {
	b := &gripBackend{seq: map[string]int{}, recoveries: make(chan recovery, 10)}
	backend := httptest.NewUnstartedServer(b)
	t.Cleanup(backend.Close)
	pp := pushpintest.Start(t, backend.Listener.Addr().String())
	cfg, err := grip.ParseURL(pp.GripURL())
	require.NoError(t, err)
	cfg.VerifyIss = "pushpin"
	b.cfg = cfg
	backend.Start()
	pub := grip.NewPublisher(cfg)

	t.Run("first event then published items", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s := openStream(ctx, t, pp.ClientURL+"/stream?channel=e2e-basic")

		require.Equal(t, http.StatusOK, s.resp.StatusCode)
		assert.Equal(t, "text/event-stream", s.resp.Header.Get("Content-Type"))
		for name := range s.resp.Header {
			assert.False(t, strings.HasPrefix(name, "Grip-"), "%s reached the client", name)
		}
		assert.Equal(t, sseEvent(1, `{"channel":"e2e-basic","seq":1}`), s.next(t))

		for seq := 2; seq <= 3; seq++ {
			ev := sseEvent(seq, fmt.Sprintf(`{"top":[%d]}`, seq))
			require.NoError(t, pub.Publish(ctx, grip.Item{Channel: "e2e-basic", ID: strconv.Itoa(seq), PrevID: strconv.Itoa(seq - 1), Content: ev}))
			assert.Equal(t, ev, s.next(t))
		}
	})

	t.Run("keep-alive comment when idle", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s := openStream(ctx, t, pp.ClientURL+"/stream?channel=e2e-keepalive&keepalive=1")
		s.next(t) // current state
		assert.Equal(t, ":\n\n", s.next(t), "Grip-Keep-Alive must make pushpin send SSE comments")
	})

	t.Run("gap recovered through next link", func(t *testing.T) {
		t.Parallel()
		const ch = "e2e-gap"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s := openStream(ctx, t, pp.ClientURL+"/reliable?channel="+ch)
		require.Equal(t, sseEvent(1, `{"channel":"e2e-gap","seq":1}`), s.next(t))

		b.setSeq(ch, 2)
		ev2 := sseEvent(2, `{"top":[2]}`)
		require.NoError(t, pub.Publish(ctx, grip.Item{Channel: ch, ID: "2", PrevID: "1", Content: ev2}))
		require.Equal(t, ev2, s.next(t))

		// Item 3 is lost; 4 does not follow 2. Pushpin holds 4 for
		// message_wait (5 s) in case 3 shows up, then asks the next link.
		b.setSeq(ch, 4)
		require.NoError(t, pub.Publish(ctx, grip.Item{Channel: ch, ID: "4", PrevID: "3", Content: sseEvent(4, `{"top":[4]}`)}))
		assert.Equal(t, sseEvent(4, `{"channel":"e2e-gap","seq":4}`), s.next(t), "the client gets the current state from the recovery request")
		select {
		case rec := <-b.recoveries:
			// The link is the one given with the first hold; where the
			// client really is comes in Grip-Last.
			assert.Equal(t, "1", rec.after)
			assert.Equal(t, map[string]string{ch: "2"}, rec.lastIDs)
		default:
			t.Error("the backend saw no signed request for the next link")
		}
	})

	t.Run("pushpin closes a prev-id hold without next link", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s := openStream(ctx, t, pp.ClientURL+"/prev-id-without-link?channel=e2e-nolink")
		rest, err := io.ReadAll(s.r)
		require.NoError(t, err, "the response must end instead of being held")
		// The message is there because pushpintest turns debug on.
		assert.Contains(t, string(rest), "specifies prev-id, but no next link found")
	})

	t.Run("direct requests get no hold", func(t *testing.T) {
		t.Parallel()
		future := time.Now().Add(time.Hour).Unix()
		key := []byte(pp.Key)
		tests := []struct {
			name string
			sig  string
			hold bool
		}{
			{name: "valid signature (control)", sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "pushpin", "exp": future}), hold: true},
			{name: "no Grip-Sig"},
			{name: "forged with another key", sig: sign(t, jwt.SigningMethodHS256, []byte("guess"), jwt.MapClaims{"iss": "pushpin", "exp": future})},
			{name: "alg none", sig: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"iss": "pushpin", "exp": future})},
			{name: "expired", sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "pushpin", "exp": time.Now().Add(-time.Second).Unix()})},
			{name: "wrong issuer", sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "client", "exp": future})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, backend.URL+"/stream?channel=direct", nil)
				require.NoError(t, err)
				if tt.sig != "" {
					req.Header.Set("Grip-Sig", tt.sig)
				}
				resp, err := backend.Client().Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				if tt.hold {
					assert.Equal(t, "stream", resp.Header.Get("Grip-Hold"))
					return
				}
				assert.Empty(t, resp.Header.Get("Grip-Hold"))
				assert.Empty(t, resp.Header.Get("Grip-Channel"))
			})
		}
	})
}
