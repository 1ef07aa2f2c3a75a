package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// The domain's error kinds. The HTTP layer maps them to status codes in one
// place; everything else wraps them with %w.
var (
	// ErrNotFound: no such board, or no such player on that board.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the caller's input breaks a rule (name length, amount range).
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable: the database cannot be reached or did not answer in time.
	ErrUnavailable = errors.New("database unavailable")
	// ErrSchemaMissing: the database, a table or an index the service needs
	// does not exist, e.g. the database restarted empty. Errors of this kind
	// are ErrUnavailable too: the processes re-create the schema on their
	// own (EnsureSchema), so a caller should retry shortly.
	ErrSchemaMissing = errors.New("database schema missing")
)

// kindError is an error of one kind with a message meant for the caller.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func invalid(format string, args ...any) error {
	return &kindError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

func notFound(what string) error {
	return &kindError{kind: ErrNotFound, msg: what + " not found"}
}

// classify turns a driver error into one of the domain's kinds where it is
// one: connection trouble and timeouts become ErrUnavailable, a missing
// database, table or index ErrSchemaMissing (and ErrUnavailable). Other
// errors (a query bug) stay as they are and surface as 500s.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if isSchemaMissing(err) {
		return fmt.Errorf("%s: %w: %w: %w", op, ErrUnavailable, ErrSchemaMissing, err)
	}
	if isUnavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isUnavailable(err error) bool {
	var (
		connErr   r.RQLConnectionError
		driverErr r.RQLDriverError
		availErr  r.RQLAvailabilityError
		opErr     r.RQLOpFailedError
		netErr    net.Error
	)
	switch {
	case errors.Is(err, r.ErrConnectionClosed), errors.Is(err, r.ErrNoConnections),
		errors.Is(err, r.ErrNoConnectionsStarted), errors.Is(err, r.ErrQueryTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &connErr), errors.As(err, &driverErr), errors.As(err, &netErr):
		return true
	case errors.As(err, &opErr), errors.As(err, &availErr):
		// OP_FAILED is the server saying it cannot do it now (a table's
		// primary is unreachable); a missing table is isSchemaMissing's.
		return !isSchemaMissing(err)
	}
	return false
}

// isSchemaMissing: the server says a database, table or index does not
// exist ("Database `lb` does not exist.", "Table `lb.players` does not
// exist.", "Index `rank` was not found on table `lb.players`."). On a
// server that lost its data, or while EnsureSchema is re-creating the schema, it
// is a passing state, not a bug.
func isSchemaMissing(err error) bool {
	var opErr r.RQLOpFailedError
	if !errors.As(err, &opErr) {
		return false
	}
	msg := opErr.Error()
	return strings.Contains(msg, "does not exist") || strings.Contains(msg, "was not found on table")
}
