package testapp

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Event is one parsed Server-Sent Event, or a comment line (keep-alive).
type Event struct {
	ID, Type, Data string
	Retry          string
	Comment        string
}

// Stream is a client reading an SSE response's bytes as they arrive.
type Stream struct {
	Response *http.Response
	events   chan Event
	cancel   context.CancelFunc
	done     chan struct{}
}

// OpenStream GETs url with Accept: text/event-stream and extra headers
// ("Name", "value" pairs) and requires a 200 event stream.
func OpenStream(t testing.TB, client *http.Client, url string, headers ...string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		res.Body.Close()
		t.Fatalf("stream %s: status %d", url, res.StatusCode)
	}
	require.Equal(t, "text/event-stream", strings.Split(res.Header.Get("Content-Type"), ";")[0])
	s := &Stream{Response: res, events: make(chan Event, 1024), cancel: cancel, done: make(chan struct{})}
	go s.read()
	t.Cleanup(s.Close)
	return s
}

// read parses the stream per the SSE spec's line rules (enough of them for
// our server: field lines, comments, blank line dispatch).
func (s *Stream) read() {
	defer close(s.done)
	defer close(s.events)
	br := bufio.NewReader(s.Response.Body)
	var ev Event
	var data []string
	has := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if has {
				ev.Data = strings.Join(data, "\n")
				s.events <- ev
			}
			ev, data, has = Event{}, nil, false
		case strings.HasPrefix(line, ":"):
			s.events <- Event{Comment: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			has = true
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Type = value
			case "data":
				data = append(data, value)
			case "retry":
				ev.Retry = value
				has = len(data) > 0 || ev.ID != "" || ev.Type != ""
				if !has {
					s.events <- Event{Retry: value}
				}
			}
		}
	}
}

// Next returns the next event that has data, skipping comments and bare
// retry hints. It fails the test if none comes within wait or the stream
// ends.
func (s *Stream) Next(t testing.TB, wait time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended while waiting for an event")
			}
			if ev.Data == "" && ev.ID == "" {
				continue
			}
			return ev
		case <-timer.C:
			t.Fatalf("no event within %s", wait)
		}
	}
}

// Raw returns the next item, comments included; ok is false when the
// stream ended or nothing came within wait.
func (s *Stream) Raw(wait time.Duration) (Event, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(wait):
		return Event{}, false
	}
}

// Ended waits for the stream to end (the server closed it).
func (s *Stream) Ended(wait time.Duration) bool {
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Close ends the stream from the client side.
func (s *Stream) Close() {
	s.cancel()
	s.Response.Body.Close()
	<-s.done
}
