package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
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
	b, err := r.encodeJSON()
	if err != nil {
		b, _ = response{
			typ:     ql2.Response_RUNTIME_ERROR,
			errType: ql2.Response_INTERNAL,
			values:  []any{"Internal error in json_protocol_t::write: " + err.Error()},
		}.encodeJSON()
	}
	out := make([]byte, headerLen, headerLen+len(b))
	binary.LittleEndian.PutUint64(out, uint64(token))
	binary.LittleEndian.PutUint32(out[8:], uint32(len(b)))
	return append(out, b...)
}

func (r response) encodeJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"t":`)
	buf.WriteString(strconv.Itoa(int(r.typ)))
	if r.typ == ql2.Response_RUNTIME_ERROR && r.errType != 0 {
		buf.WriteString(`,"e":`)
		buf.WriteString(strconv.Itoa(int(r.errType)))
	}
	buf.WriteString(`,"r":`)
	values := r.values
	if values == nil {
		values = []any{}
	}
	vb, err := marshalJSON(values)
	if err != nil {
		return nil, err
	}
	buf.Write(vb)
	if r.isError() {
		bt := r.backtrace
		if bt == nil {
			bt = []any{}
		}
		bb, err := marshalJSON(bt)
		if err != nil {
			return nil, err
		}
		buf.WriteString(`,"b":`)
		buf.Write(bb)
	}
	if r.typ == ql2.Response_SUCCESS_SEQUENCE || r.typ == ql2.Response_SUCCESS_PARTIAL {
		buf.WriteString(`,"n":[`)
		for i, n := range r.notes {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(int(n)))
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalJSON is json.Marshal without HTML escaping: RethinkDB sends '<', '>'
// and '&' as they are.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
