package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdJSON is what appendJSON must equal: encoding/json without HTML escaping.
func stdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func TestAppendJSONIsEncodingJSON(t *testing.T) {
	tests := []any{
		nil, true, false, 0.0, math.Copysign(0, -1), 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 9007199254740993.0, -2.5e-9,
		"", "plain", `quote " and \ backslash`, "<html> & 'x'", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"\u2028\u2029", "é日本🎉", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80",
		[]any{}, []any{1.0, "a", nil, []any{true}}, map[string]any{},
		map[string]any{"b": 1.0, "a": map[string]any{"z": []any{}, "": "empty key"}, "\xff": "bad key", "é": 2.0},
		map[string]any(nil), []string{"not", "a", "datum"}, map[string]int{"x": 1},
	}
	for _, v := range tests {
		want, err := stdJSON(v)
		require.NoError(t, err)
		got, err := appendJSON(nil, v)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%#v", v)
	}
	for _, v := range []any{math.NaN(), math.Inf(1), []any{math.Inf(-1)}} {
		_, stdErr := stdJSON(v)
		_, err := appendJSON(nil, v)
		require.Error(t, err)
		assert.Equal(t, stdErr.Error(), err.Error())
	}
}

// FuzzAppendJSON: any datum decoded from JSON, or any string or number,
// encodes as encoding/json encodes it.
func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5e-7,"x\u2028"],"b":null,"c":{"d":true}}`), "s\xff\n", 1e21)
	f.Add([]byte(`[1e300,-0,0.000001,"<>&"]`), "\u2029\x7f", -1e-7)
	f.Fuzz(func(t *testing.T, doc []byte, s string, n float64) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			v = nil
		}
		for _, x := range []any{v, s, n, map[string]any{s: []any{n, s, v}}} {
			want, wantErr := stdJSON(x)
			got, err := appendJSON(nil, x)
			if wantErr != nil {
				if err == nil || err.Error() != wantErr.Error() {
					t.Fatalf("%#v: error %v, want %v", x, err, wantErr)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%#v:\n got %s (%v)\nwant %s", x, got, err, want)
			}
		}
	})
}

// A value JSON cannot hold becomes an INTERNAL runtime error in the same
// frame, as a write failure does in RethinkDB.
func TestEncodeUnencodableValue(t *testing.T) {
	frame := atomResponse(math.Inf(1)).encode(7)
	require.Greater(t, len(frame), headerLen)
	var got struct {
		T int
		E int
		R []string
	}
	require.NoError(t, json.Unmarshal(frame[headerLen:], &got))
	assert.Equal(t, 18, got.T, "RUNTIME_ERROR")
	assert.Equal(t, 1000000, got.E, "INTERNAL")
	require.Len(t, got.R, 1)
	assert.Contains(t, got.R[0], "Internal error in json_protocol_t::write: json: unsupported value: +Inf")
	assert.Equal(t, uint32(len(frame)-headerLen), binary.LittleEndian.Uint32(frame[8:]))
}
