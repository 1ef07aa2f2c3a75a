package views

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// endHeadAtFlush lets HEAD share GET's handlers. net/http already answers
// HEAD with the handler's status and headers (Content-Length included) and
// drops the body; what it cannot do is end a handler that never returns on
// its own, a stream. So for HEAD the request's context ends at the first
// flush: by then the headers are out, and a stream stops as if its client
// had left, instead of holding the connection with events nobody reads.
func endHeadAtFlush(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodHead {
			return next(c)
		}
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		res := c.Response()
		res.Writer = &headWriter{ResponseWriter: res.Writer, done: cancel}
		return next(c)
	}
}

// headWriter is a HEAD response that is complete once flushed.
type headWriter struct {
	http.ResponseWriter
	done context.CancelFunc
}

func (w *headWriter) FlushError() error {
	err := http.NewResponseController(w.ResponseWriter).Flush()
	w.done()
	return err
}

func (w *headWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach deadlines and hijacking.
func (w *headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
