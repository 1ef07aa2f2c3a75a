package pushpintest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// After the test that started it, no process of pushpin's group is left:
// the runner and its condure, zurl, proxy and handler are all gone.
func TestCleanupEndsProcessGroup(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(backend.Close)

	var pid int
	t.Run("run", func(t *testing.T) {
		pid = Start(t, backend.URL).cmd.Process.Pid
	})
	if pid == 0 {
		t.Skip("pushpin did not start")
	}
	err := syscall.Kill(-pid, 0)
	assert.True(t, errors.Is(err, syscall.ESRCH), "process group %d still has members (kill 0: %v)", pid, err)
}
