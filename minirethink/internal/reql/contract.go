// Package reql is the query engine of the embedded RethinkDB-compatible server:
// datums and their ordering, in-memory databases with ordered indexes, term
// evaluation and changefeeds. It knows nothing about sockets; the wire package
// speaks the protocol and hands it queries through Engine.Run.
package reql

import (
	"context"
	"fmt"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Query is one START query as received from a client, decoded from JSON
// as encoding/json decodes into an any (float64, string, bool, nil, []any,
// map[string]any): the wire decodes each query once, in one pass.
type Query struct {
	// Term is the query's term, e.g. [16,[[15,["players"]],"a"]] decoded, or
	// a BadJSON.
	Term any
	// GlobalOpts are the query's global optional arguments (db, noreply,
	// ...), each a decoded term or a BadJSON.
	GlobalOpts map[string]any
}

// BadJSON stands in a Query for the term or a global optional argument
// whose JSON is well-formed but does not decode: it holds a number beyond
// float64's range. encoding/json fails such a value only when it is
// decoded, so the error is the engine's to give where it uses the value,
// in the words Err has: the first such number's, as encoding/json's.
type BadJSON struct{ Err error }

// ResultKind says how a result goes on the wire.
type ResultKind int

const (
	// Atom is answered with SUCCESS_ATOM and one value.
	Atom ResultKind = iota + 1
	// Sequence is answered with SUCCESS_SEQUENCE and all its values.
	Sequence
	// Stream is a changefeed: SUCCESS_PARTIAL batches until stopped.
	Stream
)

// Result is what a START query evaluates to.
type Result struct {
	Kind ResultKind
	Atom any   // when Kind == Atom
	Seq  []any // when Kind == Sequence
	Feed Feed  // when Kind == Stream
}

// Feed is an open changefeed. Values are plain datums ready for json.Marshal.
type Feed interface {
	// Notes are the response notes sent with every batch (e.g. SEQUENCE_FEED,
	// INCLUDES_STATES).
	Notes() []ql2.Response_ResponseNote
	// Next returns the changes buffered so far. With wait it blocks until at
	// least one is buffered, the feed ends or ctx is done; without wait it
	// returns at once, possibly with none. A feed that ended returns its error
	// (an *Error, e.g. "Changefeed aborted (unavailable).") once its buffer is
	// drained.
	Next(ctx context.Context, wait bool) ([]any, error)
	// Close releases the feed; Next returns ErrFeedClosed after it.
	Close()
}

// ErrFeedClosed is returned by Feed.Next after Close.
var ErrFeedClosed = &Error{Response: ql2.Response_RUNTIME_ERROR, Type: ql2.Response_OP_FAILED, Msg: "Changefeed closed."}

// Error is a ReQL error as the server reports it: the response type
// (CLIENT_ERROR, COMPILE_ERROR or RUNTIME_ERROR), the error type for runtime
// errors, the message, and the backtrace.
type Error struct {
	Response  ql2.Response_ResponseType
	Type      ql2.Response_ErrorType // only for RUNTIME_ERROR
	Msg       string
	Backtrace []any
}

func (e *Error) Error() string { return e.Msg }

// Engine evaluates queries. It is safe for concurrent use.
type Engine interface {
	Run(ctx context.Context, q Query) (Result, error)
}

// Error constructors, so messages are formatted one way everywhere.

func errRuntime(typ ql2.Response_ErrorType, format string, args ...any) *Error {
	return &Error{Response: ql2.Response_RUNTIME_ERROR, Type: typ, Msg: fmt.Sprintf(format, args...), Backtrace: []any{}}
}

// ErrQueryLogic is a RUNTIME_ERROR of type QUERY_LOGIC (wrong types, bad arguments).
func ErrQueryLogic(format string, args ...any) *Error {
	return errRuntime(ql2.Response_QUERY_LOGIC, format, args...)
}

// ErrNonExistence is a RUNTIME_ERROR of type NON_EXISTENCE (missing field, index out of range).
func ErrNonExistence(format string, args ...any) *Error {
	return errRuntime(ql2.Response_NON_EXISTENCE, format, args...)
}

// ErrOpFailed is a RUNTIME_ERROR of type OP_FAILED (missing table, aborted feed).
func ErrOpFailed(format string, args ...any) *Error {
	return errRuntime(ql2.Response_OP_FAILED, format, args...)
}

// ErrUser is a RUNTIME_ERROR of type USER (r.error).
func ErrUser(format string, args ...any) *Error {
	return errRuntime(ql2.Response_USER, format, args...)
}

// ErrCompile is a COMPILE_ERROR (malformed query, unknown optional argument).
func ErrCompile(format string, args ...any) *Error {
	return &Error{Response: ql2.Response_COMPILE_ERROR, Msg: fmt.Sprintf(format, args...), Backtrace: []any{}}
}

// ErrClient is a CLIENT_ERROR (protocol misuse, e.g. unknown token).
func ErrClient(format string, args ...any) *Error {
	return &Error{Response: ql2.Response_CLIENT_ERROR, Msg: fmt.Sprintf(format, args...), Backtrace: []any{}}
}

// ErrUnsupported is what the embedded server answers for a term or option it
// does not implement: a loud runtime error, never a silently different answer.
func ErrUnsupported(what string) *Error {
	return ErrQueryLogic("%s is not supported by the embedded RethinkDB-compatible server (minirethink).", what)
}
