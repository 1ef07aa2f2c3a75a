package testapp

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The check catches a response that drifted from the document.
func TestSpecMismatch(t *testing.T) {
	json := http.Header{"Content-Type": []string{"application/json"}}
	get := func(path string) *http.Request {
		req, _ := http.NewRequest("GET", "http://x"+path, nil)
		return req
	}
	tests := []struct {
		name    string
		req     *http.Request
		res     Response
		wantErr bool
	}{
		{"a board", get("/boards/b1/"), Response{200, json, []byte(`{"id":"b1","name":"Cup","order":"desc","operator":"incr","players":[]}`)}, false},
		{"a board without players", get("/boards/b1"), Response{200, json, []byte(`{"id":"b1","name":"Cup"}`)}, true},
		{"a board with a field the document lacks", get("/boards/b1"), Response{200, json, []byte(`{"id":"b1","name":"Cup","order":"desc","operator":"incr","players":[],"seq":3}`)}, true},
		{"a rank of 0", get("/boards/b1/players/p1"), Response{200, json, []byte(`{"id":"p1","name":"A","score":1,"rank":0,"board":"b1"}`)}, true},
		{"an error", get("/boards/nope"), Response{404, json, []byte(`{"error":"board not found"}`)}, false},
		{"an error without its sentence", get("/boards/nope"), Response{404, json, []byte(`{"message":"x"}`)}, true},
		{"an undocumented route that answers 200", get("/secret"), Response{200, json, []byte(`{}`)}, true},
		{"an undocumented route that answers 404", get("/secret"), Response{404, json, []byte(`{"error":"not found"}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SpecMismatch(tt.req, tt.res)
			if tt.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
