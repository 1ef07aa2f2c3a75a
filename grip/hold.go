package grip

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SSEHold is a GRIP stream hold for a Server-Sent Events response: the
// response body is sent to the client first, then the proxy keeps the
// connection open and appends whatever is published to Channel.
type SSEHold struct {
	Channel string
	// PrevID is the id of the event the body ends with, so the proxy can spot
	// a published item that does not follow it. Pushpin (checked on 1.36)
	// refuses a stream hold with a prev-id but no NextLink and closes the
	// response at once.
	PrevID string
	// NextLink is where the proxy asks for the stream again when it detects a
	// gap, and also every NextLinkTimeout to refresh the hold. The link does
	// not advance as items go out: LastIDs(r.Header) on that request says
	// where the client is. The answer must be a new hold whose body is what
	// the client missed (nothing, if it is up to date).
	NextLink string
	// NextLinkTimeout is how often the proxy re-fetches NextLink; zero leaves
	// the proxy default (Pushpin: 120 s). Whole seconds.
	NextLinkTimeout time.Duration
	// KeepAlive is the idle time after which the proxy sends an SSE comment
	// (KEEPALIVE_INTERVAL). Whole seconds, at least one.
	KeepAlive time.Duration
}

// SetHeaders writes the hold instructions and the SSE content type into h.
// The proxy strips the Grip-* headers before the client sees the response.
// Call it only for requests VerifyRequest accepted.
func (s SSEHold) SetHeaders(h http.Header) error {
	if err := checkParam("channel", s.Channel); err != nil {
		return err
	}
	channel := s.Channel
	if s.PrevID != "" {
		if err := checkParam("prev-id", s.PrevID); err != nil {
			return err
		}
		if s.NextLink == "" {
			return errors.New("grip: a stream hold with a prev-id needs a NextLink (Pushpin closes it otherwise)")
		}
		channel += "; prev-id=" + s.PrevID
	}
	if s.NextLink != "" {
		if strings.ContainsAny(s.NextLink, "<>\r\n\t ") {
			return fmt.Errorf("grip: next link %q must not contain '<', '>' or whitespace", s.NextLink)
		}
	}
	keepAlive := s.KeepAlive
	if keepAlive <= 0 {
		return errors.New("grip: a stream hold needs a KeepAlive")
	}

	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Grip-Hold", "stream")
	h.Set("Grip-Channel", channel)
	// The keep-alive data is written as a C string ("\n" escaped) because raw
	// newlines cannot appear in a header; Pushpin unescapes it.
	h.Set("Grip-Keep-Alive", fmt.Sprintf(`:\n\n; format=cstring; timeout=%d`, ceilSeconds(keepAlive)))
	if s.NextLink != "" {
		link := "<" + s.NextLink + ">; rel=next"
		if s.NextLinkTimeout > 0 {
			link += fmt.Sprintf("; timeout=%d", ceilSeconds(s.NextLinkTimeout))
		}
		h.Set("Grip-Link", link)
	}
	return nil
}

func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// checkParam refuses characters that would change how the proxy splits the
// header into values and parameters; quoting would work but channel names
// and ids never need it.
func checkParam(what, v string) error {
	if v == "" {
		return fmt.Errorf("grip: empty %s", what)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`,;"=\`, c) >= 0 {
			return fmt.Errorf("grip: %s %q: character %q not allowed", what, v, c)
		}
	}
	return nil
}
