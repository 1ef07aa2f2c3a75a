package testapp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/views/openapi"
)

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// spec loads and validates the API's OpenAPI document once.
func spec() (routers.Router, error) {
	specOnce.Do(func() {
		// Text bodies (the page, its files, metrics, an event stream's
		// first bytes) are checked as strings.
		for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/svg+xml", "text/plain", "text/event-stream"} {
			openapi3filter.RegisterBodyDecoder(ct, textBody)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openapi.JSON)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = err
			return
		}
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// CheckAgainstSpec fails the test unless the exchange is described by the
// OpenAPI document: its route, and its response's status, headers and
// body. The request itself may be a deliberately bad one, so only the
// response is held to the document.
func CheckAgainstSpec(t testing.TB, req *http.Request, res Response) {
	t.Helper()
	require.NoError(t, SpecMismatch(req, res), "%s %s answered %d %s: not as the OpenAPI document says",
		req.Method, req.URL, res.Status, res.Body)
}

// SpecMismatch says how the exchange differs from the OpenAPI document, or
// nil if it does not.
func SpecMismatch(req *http.Request, res Response) error {
	router, err := spec()
	if err != nil {
		return fmt.Errorf("the OpenAPI document: %w", err)
	}
	// The service takes every path with or without its trailing slash.
	r := req.Clone(context.Background())
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimSuffix(p, "/")
	}
	r.Body = http.NoBody
	if r.Method == http.MethodHead {
		r.Method = http.MethodGet // every GET answers HEAD, without a body
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		// A path the API does not have must be answered with an error.
		if res.Status < 400 {
			return fmt.Errorf("%s %s is not in the document (%w), yet answered %d", req.Method, req.URL.Path, err, res.Status)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  res.Status,
		Header:  res.Header,
		Body:    io.NopCloser(bytes.NewReader(res.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if req.Method == http.MethodHead {
		in.Options.ExcludeResponseBody = true
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func textBody(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	return string(b), err
}
