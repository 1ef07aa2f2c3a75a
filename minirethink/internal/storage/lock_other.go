//go:build !unix

package storage

import (
	"errors"
	"os"
)

func lockDir(dir, path string) (*os.File, error) {
	return nil, errors.New("storage: data directories need flock(2), which this platform lacks")
}
