package pushpintest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
	"github.com/leaderboardhq/leaderboard/internal/pushpintest"
)

// Two instances side by side: free ports, private run directories, and each
// one signs with its own key.
func TestStartParallel(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sigs := make(chan string, 1)
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case sigs <- r.Header.Get("Grip-Sig"):
				default:
				}
				_, _ = io.WriteString(w, "hello from "+name)
			}))
			t.Cleanup(backend.Close)

			pp := pushpintest.Start(t, backend.URL)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, pp.ClientURL+"/x", nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "hello from "+name, string(body))

			cfg, err := grip.ParseURL(pp.GripURL())
			require.NoError(t, err)
			cfg.VerifyIss = "pushpin"
			assert.NoError(t, cfg.VerifySignature(<-sigs), "Grip-Sig must verify with the key in GripURL")

			// The control API answers; nobody listens on the channel.
			require.NoError(t, grip.NewPublisher(cfg).Publish(ctx, grip.Item{Channel: "nobody", ID: "1", Content: "x"}))
		})
	}
}
