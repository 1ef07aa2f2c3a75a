package views

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
)

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 255

// idempotent makes a write with an Idempotency-Key header happen once: the
// key (per caller, key and path) is claimed by one atomic insert in the
// database, so of retries racing on any number of web processes one runs
// and the others get 409 while it does; once it is done every retry within
// 24 hours gets its answer (status, body, Location) again, with
// Idempotent-Replayed: true, and writes nothing. A retry with the same key
// and another request (method, path, query or body) is 422. An answer that
// is the server's failure (5xx: the database unreachable, say) is not kept,
// so a retry runs again.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" {
			return next(c)
		}
		if len(key) > MaxIdempotencyKey || !printableASCII(key) {
			return badRequest("Idempotency-Key must be 1-255 printable ASCII characters")
		}
		req := c.Request()
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return bodyReadError(err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		for _, part := range []string{req.Method, req.URL.Path, req.URL.RawQuery} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		h.Write(body)
		fingerprint := hex.EncodeToString(h.Sum(nil))
		id := models.KeyID(req.Header.Get("Authorization"), req.URL.Path, key)

		keys := s.store.Idempotency()
		answer, err := keys.Claim(req.Context(), id, fingerprint)
		if err != nil {
			return err
		}
		if answer != nil {
			if answer.Location != "" {
				c.Response().Header().Set(echo.HeaderLocation, answer.Location)
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.JSONBlob(answer.Status, []byte(answer.Body))
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			c.Error(err)
		}
		c.Response().Writer = rec.ResponseWriter
		// The request may have been cancelled: keep or release the key
		// whatever happens to it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), 5*time.Second)
		defer cancel()
		status := c.Response().Status
		if status >= http.StatusInternalServerError || !c.Response().Committed {
			if err := keys.Release(ctx, id); err != nil {
				s.log.Warn("release idempotency key", "err", err)
			}
			return nil
		}
		err = keys.Complete(ctx, id, models.IdempotentAnswer{
			Status: status, Body: rec.body.String(), Location: c.Response().Header().Get(echo.HeaderLocation),
		})
		if err != nil {
			// The write happened and was answered; a retry will get 409
			// until the key expires, never a second write.
			s.log.Warn("store idempotent answer", "err", err)
		}
		return nil
	}
}

func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
