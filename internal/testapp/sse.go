package testapp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
// ("Name", "value" pairs) and requires a 200 event stream. It must be called
// from the test's goroutine; other goroutines use Dial.
func OpenStream(t testing.TB, client *http.Client, url string, headers ...string) *Stream {
	t.Helper()
	s, err := Dial(client, url, headers...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// Dial is OpenStream for any goroutine: it returns an error instead of
// failing the test, and the caller closes the stream.
func Dial(client *http.Client, url string, headers ...string) (*Stream, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("stream %s: %w", url, err)
	}
	if ct := strings.Split(res.Header.Get("Content-Type"), ";")[0]; res.StatusCode != http.StatusOK || ct != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("stream %s: status %d, Content-Type %q: %s", url, res.StatusCode, ct, body)
	}
	s := &Stream{Response: res, events: make(chan Event, 1024), cancel: cancel, done: make(chan struct{})}
	go s.read()
	return s, nil
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
// ends; other goroutines than the test's use NextEvent.
func (s *Stream) Next(t testing.TB, wait time.Duration) Event {
	t.Helper()
	ev, err := s.NextEvent(wait)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// NextEvent is Next for any goroutine: it returns an error instead of
// failing the test.
func (s *Stream) NextEvent(wait time.Duration) (Event, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return Event{}, errors.New("stream ended while waiting for an event")
			}
			if ev.Data == "" && ev.ID == "" {
				continue
			}
			return ev, nil
		case <-timer.C:
			return Event{}, fmt.Errorf("no event within %s", wait)
		}
	}
}

// Await returns the first event whose data contains want, skipping the
// others (a board republished unchanged, say). It fails the test if none
// comes within wait.
func (s *Stream) Await(t testing.TB, want string, wait time.Duration) Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last Event
	for {
		ev, err := s.NextEvent(time.Until(deadline))
		if err != nil {
			t.Fatalf("no event containing %s (last: %q): %v", want, last.Data, err)
		}
		if strings.Contains(ev.Data, want) {
			return ev
		}
		last = ev
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
