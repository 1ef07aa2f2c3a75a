package grip_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
)

// controlAPI records the publish requests it gets and answers each with the
// next status from codes (200 once they run out).
type controlAPI struct {
	*httptest.Server
	mu       sync.Mutex
	codes    []int
	requests []recordedRequest
	arrived  chan struct{} // one send per request, for tests that must await one
}

type recordedRequest struct {
	Method, Path, ContentType, Authorization string
	Body                                     []byte
}

func newControlAPI(t *testing.T, codes ...int) *controlAPI {
	t.Helper()
	c := &controlAPI{codes: codes, arrived: make(chan struct{}, 100)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.requests = append(c.requests, recordedRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body})
		code := http.StatusOK
		if len(c.codes) > 0 {
			code, c.codes = c.codes[0], c.codes[1:]
		}
		c.mu.Unlock()
		c.arrived <- struct{}{}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *controlAPI) recorded() []recordedRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recordedRequest(nil), c.requests...)
}

func fastRetry(attempts int) grip.PublisherOption { return grip.WithRetry(attempts, time.Millisecond) }

func TestPublishBody(t *testing.T) {
	api := newControlAPI(t)
	p := grip.NewPublisher(grip.Config{ControlURL: api.URL, Key: []byte("k")})

	err := p.Publish(context.Background(),
		grip.Item{Channel: "board-1", ID: "8", PrevID: "7", Content: "id: 8\nevent: update\ndata: {\"top\":[]}\n\n"},
		grip.Item{Channel: "board-2", Content: "data: x\n\n"},
	)
	require.NoError(t, err)

	reqs := api.recorded()
	require.Len(t, reqs, 1)
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, "/publish/", reqs[0].Path)
	assert.Equal(t, "application/json", reqs[0].ContentType)
	assert.Empty(t, reqs[0].Authorization, "no iss, no token: Pushpin has no auth")
	assert.JSONEq(t, `{"items":[
		{"channel":"board-1","id":"8","prev-id":"7","formats":{"http-stream":{"content":"id: 8\nevent: update\ndata: {\"top\":[]}\n\n"}}},
		{"channel":"board-2","formats":{"http-stream":{"content":"data: x\n\n"}}}
	]}`, string(reqs[0].Body))
}

func TestPublishControlURLWithPath(t *testing.T) {
	api := newControlAPI(t)
	cfg, err := grip.ParseURL(api.URL + "/realm/abc/?key=k")
	require.NoError(t, err)
	require.NoError(t, grip.NewPublisher(cfg).Publish(context.Background(), grip.Item{Channel: "c"}))
	assert.Equal(t, "/realm/abc/publish/", api.recorded()[0].Path)
}

func TestPublishBearerTokenWhenIss(t *testing.T) {
	api := newControlAPI(t)
	key := []byte{0, 1, 2, 250}
	p := grip.NewPublisher(grip.Config{ControlURL: api.URL, Key: key, Iss: "realm1"})
	require.NoError(t, p.Publish(context.Background(), grip.Item{Channel: "c", Content: "x"}))

	auth := api.recorded()[0].Authorization
	token, ok := strings.CutPrefix(auth, "Bearer ")
	require.True(t, ok, "Authorization %q", auth)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer("realm1"))
	require.NoError(t, err)
	exp, err := claims.GetExpirationTime()
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp.Time, time.Minute)
}

func TestPublishRetries(t *testing.T) {
	tests := []struct {
		name      string
		codes     []int
		attempts  int
		wantCalls int
		wantCode  int // 0: success
	}{
		{name: "500 then ok", codes: []int{500, 200}, attempts: 4, wantCalls: 2},
		{name: "502 503 then ok", codes: []int{502, 503, 200}, attempts: 4, wantCalls: 3},
		{name: "500 until attempts run out", codes: []int{500, 500, 500, 500}, attempts: 3, wantCalls: 3, wantCode: 500},
		{name: "400 is not retried", codes: []int{400, 200}, attempts: 4, wantCalls: 1, wantCode: 400},
		{name: "404 is not retried", codes: []int{404, 200}, attempts: 4, wantCalls: 1, wantCode: 404},
		{name: "one attempt only", codes: []int{500, 200}, attempts: 1, wantCalls: 1, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newControlAPI(t, tt.codes...)
			p := grip.NewPublisher(grip.Config{ControlURL: api.URL}, fastRetry(tt.attempts))
			err := p.Publish(context.Background(), grip.Item{Channel: "c", ID: "1", Content: "x"})
			assert.Len(t, api.recorded(), tt.wantCalls)
			if tt.wantCode == 0 {
				assert.NoError(t, err)
				return
			}
			var se *grip.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.wantCode, se.Code)
		})
	}
}

func TestPublishRetriesNetworkErrors(t *testing.T) {
	// A closed server gives connection refused on every attempt.
	api := newControlAPI(t)
	url := api.URL
	api.Close()

	p := grip.NewPublisher(grip.Config{ControlURL: url}, fastRetry(3))
	err := p.Publish(context.Background(), grip.Item{Channel: "c"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt 3 of 3")
	var se *grip.StatusError
	assert.False(t, errors.As(err, &se))
}

func TestPublishHonoursContext(t *testing.T) {
	t.Run("cancelled during backoff", func(t *testing.T) {
		api := newControlAPI(t, 500, 500, 500)
		// A backoff far longer than the test: only cancellation can end it.
		p := grip.NewPublisher(grip.Config{ControlURL: api.URL}, grip.WithRetry(3, time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Publish(ctx, grip.Item{Channel: "c"}) }()

		<-api.arrived
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(10 * time.Second):
			t.Fatal("Publish did not return after cancel")
		}
		assert.Len(t, api.recorded(), 1)
	})

	t.Run("cancelled while the request is in flight", func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })

		p := grip.NewPublisher(grip.Config{ControlURL: srv.URL}, fastRetry(5))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Publish(ctx, grip.Item{Channel: "c"}) }()
		<-entered
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(10 * time.Second):
			t.Fatal("Publish did not return after cancel")
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		api := newControlAPI(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := grip.NewPublisher(grip.Config{ControlURL: api.URL}).Publish(ctx, grip.Item{Channel: "c"})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, api.recorded())
	})
}

func TestPublishTimeoutPerAttempt(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	client := &http.Client{Timeout: 50 * time.Millisecond}
	p := grip.NewPublisher(grip.Config{ControlURL: srv.URL}, grip.WithHTTPClient(client), fastRetry(2))
	err := p.Publish(context.Background(), grip.Item{Channel: "c"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt 2 of 2")
	assert.Contains(t, err.Error(), "Client.Timeout")
}

func TestPublishValidation(t *testing.T) {
	api := newControlAPI(t)
	p := grip.NewPublisher(grip.Config{ControlURL: api.URL})
	assert.NoError(t, p.Publish(context.Background()), "nothing to publish is not an error")
	assert.ErrorContains(t, p.Publish(context.Background(), grip.Item{Content: "x"}), "no channel")
	assert.Empty(t, api.recorded())
}
