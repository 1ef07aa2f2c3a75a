package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxBody bounds request bodies; larger ones get 413.
const maxBody = 64 << 10

func humanBytes(n int) string { return fmt.Sprintf("%d KiB", n>>10) }

// decodeBody decodes a JSON object body into v, strictly: valid UTF-8 (Go's
// decoder would silently replace bad bytes), known fields only (a typo such
// as "amout" must not silently add 1), one value, right types. An empty body
// leaves v untouched and reports false.
func decodeBody(c echo.Context, v any) (bool, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return false, bodyReadError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, nil
	}
	if !utf8.Valid(body) {
		return false, badRequest("request body must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return false, badRequest(describeJSONError(err))
	}
	if dec.More() {
		return false, badRequest("request body must hold a single JSON object")
	}
	return true, nil
}

// bodyReadError classifies a failure to read the request body. The body
// limit's 413 stays as it is. Everything else comes from the client's side of
// the connection (chunked framing that does not parse, fewer bytes than
// Content-Length, a hang-up, a body that did not arrive before the request's
// read deadline): a 4xx logged at debug, never a 500 in the error log that
// anyone could fill.
func bodyReadError(err error) error {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return echo.NewHTTPError(http.StatusRequestTimeout,
			"request body was not received in time").SetInternal(err)
	}
	return echo.NewHTTPError(http.StatusBadRequest,
		"request body could not be read: it was cut short or badly framed").SetInternal(err)
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "request body must be a JSON object"
		}
		return fmt.Sprintf("field %q must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return "request body is not valid JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "request body is not valid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "struct", "map":
		return "JSON object"
	}
	return "number"
}

// number is a JSON number kept as written, for parseInteger. Unlike
// json.Number it refuses a quoted string: {"amount": "5"} is a client's
// mistake to report, not a number to guess at.
type number string

func (n *number) UnmarshalJSON(b []byte) error {
	// The decoder has already checked b is one valid JSON value.
	if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		*n = number(b)
		return nil
	}
	// The decoder fills in the field's name; the type says "number".
	return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[float64]()}
}

// parseInteger accepts an integer written as a JSON number or a query
// parameter: "5", "-3", "1e3" and "2.0" are integers; "1.5", "NaN", "Inf",
// "0x10" and out-of-range values are not.
func parseInteger(field, s string, limit int64) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > limit || n < -limit {
			return 0, badRequest(fmt.Sprintf("%s must be between %d and %d", field, -limit, limit))
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xXpP_") {
		return 0, badRequest(field + " must be an integer")
	}
	if f != math.Trunc(f) {
		return 0, badRequest(field + " must be an integer")
	}
	if f > float64(limit) || f < -float64(limit) {
		return 0, badRequest(fmt.Sprintf("%s must be between %d and %d", field, -limit, limit))
	}
	return int64(f), nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
	}
	return n, nil
}
