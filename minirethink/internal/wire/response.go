package wire

import (
	"encoding/binary"
	"errors"
	"strconv"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// response is one answer to a query, laid out on the wire as real RethinkDB
// lays it out (json.cc write_response_internal): keys t, e (runtime errors
// only), r, b (errors only), n (sequences and partials only).
type response struct {
	typ       ql2.Response_ResponseType
	errType   ql2.Response_ErrorType
	values    []any
	backtrace []any
	notes     []ql2.Response_ResponseNote
}

func atomResponse(v any) response {
	return response{typ: ql2.Response_SUCCESS_ATOM, values: []any{v}}
}

func sequenceResponse(vs []any) response {
	return response{typ: ql2.Response_SUCCESS_SEQUENCE, values: vs}
}

func partialResponse(vs []any, notes []ql2.Response_ResponseNote) response {
	return response{typ: ql2.Response_SUCCESS_PARTIAL, values: vs, notes: notes}
}

// errorResponse turns an engine error into its response; anything that is
// not a *reql.Error is the server's fault and reported as INTERNAL.
func errorResponse(err error) response {
	var rerr *reql.Error
	if !errors.As(err, &rerr) {
		rerr = &reql.Error{Response: ql2.Response_RUNTIME_ERROR, Type: ql2.Response_INTERNAL, Msg: err.Error()}
	}
	return response{typ: rerr.Response, errType: rerr.Type, values: []any{rerr.Msg}, backtrace: rerr.Backtrace}
}

func (r response) isError() bool {
	return r.typ == ql2.Response_CLIENT_ERROR || r.typ == ql2.Response_COMPILE_ERROR || r.typ == ql2.Response_RUNTIME_ERROR
}

// encode returns the whole frame: header and JSON. A value that cannot be
// encoded turns the response into an INTERNAL runtime error, as a write
// failure does in real RethinkDB.
func (r response) encode(token int64) []byte {
	header := make([]byte, headerLen, headerLen+256)
	out, err := r.appendJSON(header)
	if err != nil {
		out, _ = response{
			typ:     ql2.Response_RUNTIME_ERROR,
			errType: ql2.Response_INTERNAL,
			values:  []any{"Internal error in json_protocol_t::write: " + err.Error()},
		}.appendJSON(header[:headerLen])
	}
	binary.LittleEndian.PutUint64(out, uint64(token))
	binary.LittleEndian.PutUint32(out[8:], uint32(len(out)-headerLen))
	return out
}

func (r response) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, int64(r.typ), 10)
	if r.typ == ql2.Response_RUNTIME_ERROR && r.errType != 0 {
		b = append(b, `,"e":`...)
		b = strconv.AppendInt(b, int64(r.errType), 10)
	}
	b = append(b, `,"r":`...)
	values := r.values
	if values == nil {
		values = []any{}
	}
	b, err := appendJSON(b, values)
	if err != nil {
		return nil, err
	}
	if r.isError() {
		bt := r.backtrace
		if bt == nil {
			bt = []any{}
		}
		b = append(b, `,"b":`...)
		if b, err = appendJSON(b, bt); err != nil {
			return nil, err
		}
	}
	if r.typ == ql2.Response_SUCCESS_SEQUENCE || r.typ == ql2.Response_SUCCESS_PARTIAL {
		b = append(b, `,"n":[`...)
		for i, n := range r.notes {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// marshalJSON is json.Marshal without HTML escaping: RethinkDB sends '<', '>'
// and '&' as they are.
func marshalJSON(v any) ([]byte, error) {
	return appendJSON(nil, v)
}
