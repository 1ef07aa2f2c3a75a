package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxBody bounds request bodies; larger ones get 413.
const maxBody = 64 << 10

func humanBytes(n int) string { return fmt.Sprintf("%d KiB", n>>10) }

// decodeBody decodes a JSON object body into v (a pointer to a struct),
// strictly: valid UTF-8 (Go's decoder would silently replace bad bytes), one
// object and nothing after it, each key once, v's field names exactly as
// written (a typo such as "amout", or "AMOUNT" that encoding/json would
// match case-insensitively, must not silently add 1), no null values, right
// types. An empty body leaves v untouched and reports false.
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
	if err := checkObject(body, jsonFieldNames(v)); err != nil {
		return false, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return false, badRequest(describeJSONError(err))
	}
	return true, nil
}

// checkObject is the strict pass over the body that encoding/json does not
// make: a walk of its tokens that wants one JSON object and only whitespace
// after it, no key twice in any object at any depth (encoding/json keeps the
// last), top-level keys that are exactly one of fields (encoding/json
// matches them case-insensitively, with Unicode folding: "ſcore" is
// "score"), and no top-level null (which would leave the field unset, as if
// it had not been given). Types are left to the decoder that follows.
func checkObject(body []byte, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers stay text: 1e400 is the caller's to judge
	tok, err := dec.Token()
	if err != nil {
		return badRequest("request body is not valid JSON")
	}
	if tok != json.Delim('{') {
		return badRequest("request body must be a JSON object")
	}
	// One frame per open object or array; keys is nil for an array.
	type frame struct {
		keys    map[string]bool
		wantKey bool
	}
	stack := []frame{{keys: map[string]bool{}, wantKey: true}}
	var field string // the top-level key whose value comes next
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return badRequest("request body is not valid JSON")
		}
		top := &stack[len(stack)-1]
		if top.keys != nil && top.wantKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				continue
			}
			key, _ := tok.(string) // the decoder allows only strings here
			if err := checkKey(key, top.keys, len(stack) == 1, fields); err != nil {
				return err
			}
			top.keys[key] = true
			top.wantKey = false
			field = key
			continue
		}
		if top.keys != nil {
			top.wantKey = true // after this value: a key or the end
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		case nil:
			if len(stack) == 1 {
				return badRequest(fmt.Sprintf("field %q must not be null", field))
			}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body must hold a single JSON object")
	}
	return nil
}

func checkKey(key string, seen map[string]bool, topLevel bool, fields []string) error {
	switch {
	case seen[key] && topLevel:
		return badRequest(fmt.Sprintf("field %q is given twice", key))
	case seen[key]:
		return badRequest(fmt.Sprintf("key %q is given twice in one JSON object", key))
	case !topLevel || slices.Contains(fields, key):
		return nil
	}
	for _, f := range fields {
		if strings.EqualFold(f, key) {
			return badRequest(fmt.Sprintf("unknown field %q (field names are case-sensitive: %q)", key, f))
		}
	}
	return badRequest(fmt.Sprintf("unknown field %q", key))
}

// jsonFieldNames are the JSON names of the fields of the struct v points to.
func jsonFieldNames(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
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
// parameter: "5", "-3", "+3", "1e3", "2.0" and "100e-2" are integers; "1.5",
// "1e-400", "1.0000000000000000001", "NaN", "Inf", "0x10" and out-of-range
// values are not. It decides on the decimal text itself, never on a float64,
// which would round 1e-400 to 0 and 1.0000000000000000001 to 1.
func parseInteger(field, s string, limit int64) (int64, error) {
	notInteger := badRequest(field + " must be an integer")
	outOfRange := badRequest(fmt.Sprintf("%s must be between %d and %d", field, -limit, limit))
	neg, digits, exp, ok := splitDecimal(s)
	switch {
	case !ok:
		return 0, notInteger
	case digits == "":
		return 0, nil // zero, whatever its exponent
	case exp < 0:
		return 0, notInteger // digits ends in a non-zero digit
	case len(digits)+exp > 19:
		return 0, outOfRange
	}
	n, err := strconv.ParseUint(digits+strings.Repeat("0", exp), 10, 64)
	if err != nil || n > uint64(limit) {
		return 0, outOfRange
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// splitDecimal reads s = [sign] int [. frac] [(e|E) [sign] exp], the JSON
// number grammar plus a leading "+" (int may have leading zeros here), as
// the exact value ±digits × 10^exp, where digits has neither leading nor
// trailing zeros ("" for zero). Exponents too large to matter are clamped.
func splitDecimal(s string) (neg bool, digits string, exp int, ok bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	mantissa, expText, hasExp := strings.Cut(strings.ReplaceAll(s, "E", "e"), "e")
	intPart, frac, hasFrac := strings.Cut(mantissa, ".")
	if !allDigits(intPart) || (hasFrac && !allDigits(frac)) {
		return false, "", 0, false
	}
	if hasExp {
		sign := 1
		if expText != "" && (expText[0] == '-' || expText[0] == '+') {
			if expText[0] == '-' {
				sign = -1
			}
			expText = expText[1:]
		}
		if !allDigits(expText) {
			return false, "", 0, false
		}
		expText = strings.TrimLeft(expText, "0")
		if len(expText) > 6 {
			expText = "1000000" // far beyond any digits a 64 KiB body holds
		}
		e, _ := strconv.Atoi("0" + expText)
		exp = sign * e
	}
	digits = strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	return neg, trimmed, exp, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
