package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/jsonany"
	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// headerLen is the size of a query or response header: an 8-byte token and a
// 4-byte payload length, both little-endian.
const headerLen = 12

// DefaultMaxQuerySize bounds one query's JSON. Real RethinkDB allows 128 MiB;
// half of that is plenty for tests and halves what a hostile client can make
// us allocate.
const DefaultMaxQuerySize = 64 << 20

// frame is one query as it came off the socket. held is what it took from
// the server's query memory budget, given back by done.
type frame struct {
	token   int64
	payload []byte
	held    int64
}

// errTooLarge reports a frame whose announced size exceeds the limit. The
// token is known, so the client can still be told why it is disconnected.
type errTooLarge struct {
	token int64
	size  uint32
	max   int
}

func (e *errTooLarge) Error() string {
	// Real RethinkDB's wording (wire_protocol_t::too_large_query_message).
	return fmt.Sprintf("Query size (%d) greater than maximum (%d).", e.size, e.max)
}

// errNoMemory reports a frame that waited too long for the server's query
// memory budget; its payload is still unread.
type errNoMemory struct {
	token int64
	size  uint32
}

func (e *errNoMemory) Error() string {
	return fmt.Sprintf("Query size (%d) does not fit in the memory the server holds for queries now; "+
		"other queries are using it. Try again.", e.size)
}

// readHeader reads a frame header. It is split from readFrame so the caller
// can tighten the read deadline once a frame has started arriving.
func readHeader(r io.Reader) (token int64, size uint32, err error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, err
	}
	return int64(binary.LittleEndian.Uint64(h[:8])), binary.LittleEndian.Uint32(h[8:]), nil
}

// readFrame reads one whole frame, refusing payloads larger than max before
// allocating them.
func readFrame(r io.Reader, max int) (frame, error) {
	token, size, err := readHeader(r)
	if err != nil {
		return frame{}, err
	}
	return readPayload(r, token, size, max)
}

func readPayload(r io.Reader, token int64, size uint32, max int) (frame, error) {
	if uint64(size) > uint64(max) {
		return frame{token: token}, &errTooLarge{token: token, size: size, max: max}
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return frame{token: token, payload: payload}, nil
}

// query is a decoded frame payload: [type, term?, globalopts?].
type query struct {
	typ     ql2.Query_QueryType
	term    any // see reql.Query
	opts    map[string]any
	noreply bool
}

// unparseableQuery is what real RethinkDB answers when the payload is not JSON
// (wire_protocol_t::unparseable_query_message).
const unparseableQuery = "Client is buggy (failed to deserialize query)."

// parseQuery decodes a frame payload. Errors are CLIENT_ERRORs worded as real
// RethinkDB words them (term_storage.cc, json.cc); the connection survives
// them because the frame boundary is intact.
func parseQuery(payload []byte) (query, *reql.Error) {
	v, err := jsonany.Decode(payload)
	if err != nil {
		var syntax *jsonany.SyntaxError
		if errors.As(err, &syntax) {
			return query{}, reql.ErrClient("%s", unparseableQuery)
		}
		return parseQueryParts(payload)
	}
	parts, ok := v.([]any)
	if !ok {
		return query{}, parseError("Expected a query to be an array, but found %s.", jsonType(v))
	}
	return queryOf(parts)
}

// parseQueryParts decodes a well-formed payload that holds a number beyond
// float64's range. Such a number is an error only in the part of the query
// that holds it, and the part decides who reports it and how (the query
// type: the wire; the term or an optional argument: the engine, if ever),
// so the parts are decoded one by one, the failed ones kept as badParts.
// Only a hostile or broken client sends such a query.
func parseQueryParts(payload []byte) (query, *reql.Error) {
	if t := rawType(payload); t != "ARRAY" {
		return query{}, parseError("Expected a query to be an array, but found %s.", t)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return query{}, reql.ErrClient("%s", unparseableQuery)
	}
	parts := make([]any, len(raw))
	for i, r := range raw {
		parts[i] = decodePart(r)
	}
	return queryOf(parts)
}

// badPart is a part of a query whose JSON is well-formed but does not
// decode (see parseQueryParts).
type badPart struct {
	raw json.RawMessage
	err error
}

func decodePart(raw json.RawMessage) any {
	v, err := jsonany.Decode(raw)
	if err != nil {
		return badPart{raw: raw, err: err}
	}
	return v
}

// queryOf makes a query of the decoded elements of its payload.
func queryOf(parts []any) (query, *reql.Error) {
	if len(parts) == 0 || len(parts) > 3 {
		return query{}, parseError("Expected 1 to 3 elements in the top-level query, but found %d.", len(parts))
	}
	var num float64
	switch x := parts[0].(type) {
	case float64:
		num = x
	case nil:
		// Type 0, as encoding/json leaves a number it decodes null into.
	default:
		return query{}, parseError("Expected a query type as a number, but found %s.", jsonType(x))
	}
	typ := ql2.Query_QueryType(int32(num))
	if num != math.Trunc(num) || float64(typ) != num || typ < ql2.Query_START || typ > ql2.Query_SERVER_INFO {
		return query{}, parseError("Unrecognized QueryType: %d.", int64(num))
	}
	q := query{typ: typ}
	optsAt := 2
	hasTerm := false
	if len(parts) >= 2 {
		if typ == ql2.Query_START {
			q.term, hasTerm = parts[1], true
			if bad, ok := q.term.(badPart); ok {
				q.term = reql.BadJSON{Err: bad.err}
			}
		} else if jsonType(parts[1]) == "OBJECT" {
			// The Go driver sends STOP as [3,{"noreply":true}] and NOREPLY_WAIT
			// as [4,{"db":...}]: options in second place when there is no term.
			optsAt = 1
		}
	}
	if typ == ql2.Query_START && !hasTerm {
		// Real RethinkDB has no message for this (it asserts); ours says what is wrong.
		return query{}, parseError("Expected a term in the top-level START query.")
	}
	if len(parts) > optsAt {
		if t := jsonType(parts[optsAt]); t != "OBJECT" {
			return query{}, parseError("Expected global optargs as an object, but found %s.", t)
		}
		switch x := parts[optsAt].(type) {
		case map[string]any:
			q.opts = x
		case badPart:
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(x.raw, &raw); err != nil {
				return query{}, reql.ErrClient("%s", unparseableQuery)
			}
			q.opts = make(map[string]any, len(raw))
			for k, r := range raw {
				v := decodePart(r)
				if bad, ok := v.(badPart); ok {
					v = reql.BadJSON{Err: bad.err}
				}
				q.opts[k] = v
			}
		}
		q.noreply = q.opts["noreply"] == true
	}
	return q, nil
}

func parseError(format string, args ...any) *reql.Error {
	return reql.ErrClient("Server could not parse query: "+format, args...)
}

// jsonType names a decoded JSON value's type the way RethinkDB's
// rapidjson_typestr does.
func jsonType(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "OBJECT"
	case []any:
		return "ARRAY"
	case string:
		return "STRING"
	case bool:
		return "BOOL"
	case nil:
		return "NULL"
	case badPart:
		return rawType(x.raw)
	default:
		return "NUMBER"
	}
}

// rawType is jsonType of a value still in JSON.
func rawType(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "NULL"
	}
	switch v[0] {
	case '{':
		return "OBJECT"
	case '[':
		return "ARRAY"
	case '"':
		return "STRING"
	case 't', 'f':
		return "BOOL"
	case 'n':
		return "NULL"
	default:
		return "NUMBER"
	}
}

// readHandshakeMessage reads one NUL-terminated handshake message. Real
// RethinkDB reads into a 2048-byte buffer and fails with code 7 beyond it.
func readHandshakeMessage(r *bufio.Reader) ([]byte, *authError) {
	var msg []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, &authError{io: err}
		}
		if b == 0 {
			return msg, nil
		}
		msg = append(msg, b)
		if len(msg) >= maxHandshakeMessage {
			return nil, &authError{code: 7, msg: "Limited read buffer size."}
		}
	}
}

const maxHandshakeMessage = 2048
