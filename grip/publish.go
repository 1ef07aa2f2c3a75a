package grip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Item is one message for the subscribers of a channel, in the http-stream
// format: Content is appended verbatim to every held stream.
type Item struct {
	Channel string
	// ID identifies the item. The proxy drops an id it has seen on the channel
	// recently (Pushpin: id_cache_ttl, 60 s), which also makes retries safe.
	ID string
	// PrevID is the id of the item before this one. The proxy delays an item
	// whose PrevID is not the last id it delivered (Pushpin: up to
	// message_wait, 5 s) and sends streams held with a prev-id to their next
	// link to recover.
	PrevID  string
	Content string
}

// StatusError is a control API answer other than 2xx.
type StatusError struct {
	Code int
	Body string // the start of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("control API answered %d: %q", e.Code, e.Body)
}

const (
	defaultTimeout  = 10 * time.Second
	defaultAttempts = 4
	defaultBackoff  = 100 * time.Millisecond
	maxBackoff      = 2 * time.Second
	tokenLifetime   = time.Hour
)

// Publisher posts items to a GRIP control API. It is safe for concurrent use.
type Publisher struct {
	cfg      Config
	client   *http.Client
	attempts int
	backoff  time.Duration
}

// PublisherOption adjusts a Publisher.
type PublisherOption func(*Publisher)

// WithHTTPClient replaces the default client (10 s timeout per attempt).
func WithHTTPClient(c *http.Client) PublisherOption {
	return func(p *Publisher) { p.client = c }
}

// WithRetry sets how many attempts Publish makes in all (at least one) and
// the first backoff, which doubles after each retry up to 2 s.
func WithRetry(attempts int, backoff time.Duration) PublisherOption {
	return func(p *Publisher) {
		p.attempts = max(attempts, 1)
		p.backoff = backoff
	}
}

// NewPublisher returns a Publisher for cfg's control API.
func NewPublisher(cfg Config, opts ...PublisherOption) *Publisher {
	p := &Publisher{
		cfg:      cfg,
		client:   &http.Client{Timeout: defaultTimeout},
		attempts: defaultAttempts,
		backoff:  defaultBackoff,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

type wireItem struct {
	Channel string      `json:"channel"`
	ID      string      `json:"id,omitempty"`
	PrevID  string      `json:"prev-id,omitempty"`
	Formats wireFormats `json:"formats"`
}

type wireFormats struct {
	HTTPStream wireStream `json:"http-stream"`
}

type wireStream struct {
	Content string `json:"content"`
}

// Publish sends items in one request. Network errors and 5xx answers are
// retried with backoff; a 4xx answer is returned at once as a *StatusError
// (wrapped), since sending the same request again cannot fix it.
func (p *Publisher) Publish(ctx context.Context, items ...Item) error {
	if len(items) == 0 {
		return nil
	}
	wire := make([]wireItem, len(items))
	for i, it := range items {
		if it.Channel == "" {
			return fmt.Errorf("grip: publish: item %d has no channel", i)
		}
		wire[i] = wireItem{Channel: it.Channel, ID: it.ID, PrevID: it.PrevID,
			Formats: wireFormats{HTTPStream: wireStream{Content: it.Content}}}
	}
	body, err := json.Marshal(map[string][]wireItem{"items": wire})
	if err != nil {
		return fmt.Errorf("grip: publish: encode: %w", err)
	}

	backoff := p.backoff
	for attempt := 1; ; attempt++ {
		err := p.post(ctx, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("grip: publish to %s: %w", p.cfg.ControlURL, errors.Join(ctx.Err(), err))
		}
		var se *StatusError
		if (errors.As(err, &se) && se.Code < 500) || attempt >= p.attempts {
			return fmt.Errorf("grip: publish to %s (attempt %d of %d): %w", p.cfg.ControlURL, attempt, p.attempts, err)
		}
		// Equal jitter: several dblisteners retrying after one proxy hiccup
		// should not come back in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, maxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("grip: publish to %s: %w", p.cfg.ControlURL, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}

func (p *Publisher) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.ControlURL+"/publish/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.Iss != "" {
		token, err := p.token()
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	// Drain what is left so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode, Body: string(head)}
	}
	return nil
}

// token is made per request: signing is cheap and a fresh exp means a long
// outage never leaves us sending an expired token.
func (p *Publisher) token() (string, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    p.cfg.Iss,
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(tokenLifetime)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(p.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("sign publish token: %w", err)
	}
	return s, nil
}
