package views_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/views/openapi"
)

// The API describes itself; every test's a.Do checks its answer against
// this very document (testapp.CheckAgainstSpec).
func TestOpenAPIDocumentIsServed(t *testing.T) {
	a := testapp.Start(t, testapp.Options{})
	res := a.Do(t, "GET", "/openapi.json", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.JSONEq(t, string(openapi.JSON), string(res.Body))
	assert.Contains(t, string(res.Body), `"openapi": "3.1.0"`)
}
