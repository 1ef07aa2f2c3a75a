package models

import (
	"errors"
	"fmt"
)

// The push service's error kinds, beside those in errors.go (kept in their
// own file while errors.go is being edited elsewhere; they may move there).
var (
	// ErrConflict: the name is taken, or the slot is held by someone else
	// (a direct channel's one user).
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the request is understood and refused whoever asks (an
	// event posted to a board's channel, a user's own direct channel
	// deleted through the channels API).
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthorized: a client's token is unknown, expired or revoked.
	ErrUnauthorized = errors.New("unauthorized")
)

func conflict(format string, args ...any) error {
	return &kindError{kind: ErrConflict, msg: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &kindError{kind: ErrForbidden, msg: fmt.Sprintf(format, args...)}
}

func unauthorized(msg string) error {
	return &kindError{kind: ErrUnauthorized, msg: msg}
}
