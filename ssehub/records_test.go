package ssehub_test

import (
	"bufio"
	"bytes"
	"testing"
)

// parseRecords parses wire bytes with the test's own EventSource-style parser.
func parseRecords(t *testing.T, b []byte) []record {
	t.Helper()
	s := &rawStream{records: make(chan record, 64), ended: make(chan error, 1), done: make(chan struct{})}
	s.read(bufio.NewReader(bytes.NewReader(b)))
	var out []record
	for r := range s.records {
		out = append(out, r)
	}
	return out
}
