// Package openapi holds the API's OpenAPI 3.1 description, served at
// /openapi.json; the tests check every response they receive against it,
// so it cannot drift from the code.
package openapi

import _ "embed"

// JSON is the document.
//
//go:embed openapi.json
var JSON []byte
