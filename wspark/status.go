package wspark

// StatusCode is a WebSocket close code (RFC 6455 section 7.4).
type StatusCode uint16

// Close codes this package sends; 4000-4999 are the application's.
const (
	StatusNormalClosure    StatusCode = 1000
	StatusGoingAway        StatusCode = 1001
	StatusProtocolError    StatusCode = 1002
	StatusNoStatusReceived StatusCode = 1005 // never sent: a close frame without a code
	StatusInvalidPayload   StatusCode = 1007
	StatusPolicyViolation  StatusCode = 1008
	StatusMessageTooBig    StatusCode = 1009
	StatusTryAgainLater    StatusCode = 1013
)

// closeError is a reason to close the connection with a code: a protocol
// error of the client's.
type closeError struct {
	code   StatusCode
	reason string
	// framed: the whole frame was read, so the client's next frames can
	// still be told apart (its answer to the close frame among them).
	framed bool
}

func (e *closeError) Error() string { return e.reason }
