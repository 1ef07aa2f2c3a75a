package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunRejectsBadFlags(t *testing.T) {
	assert.Error(t, run([]string{"-no-such-flag"}))
	assert.Error(t, run([]string{"-addr", "not an address"}))
}
