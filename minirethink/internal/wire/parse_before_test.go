package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"testing"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// parseQueryBefore is parseQuery as it was when encoding/json decoded the
// payload (and the engine the term and options after it), kept to hold
// the one-pass decoding to the same answers on any input.
func parseQueryBefore(payload []byte) (rawQuery, *reql.Error) {
	if !json.Valid(payload) {
		return rawQuery{}, reql.ErrClient("%s", unparseableQuery)
	}
	if t := rawType(payload); t != "ARRAY" {
		return rawQuery{}, parseError("Expected a query to be an array, but found %s.", t)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(payload, &parts); err != nil {
		return rawQuery{}, reql.ErrClient("%s", unparseableQuery)
	}
	if len(parts) == 0 || len(parts) > 3 {
		return rawQuery{}, parseError("Expected 1 to 3 elements in the top-level query, but found %d.", len(parts))
	}
	var num float64
	if err := json.Unmarshal(parts[0], &num); err != nil {
		return rawQuery{}, parseError("Expected a query type as a number, but found %s.", rawType(parts[0]))
	}
	typ := ql2.Query_QueryType(int32(num))
	if num != math.Trunc(num) || float64(typ) != num || typ < ql2.Query_START || typ > ql2.Query_SERVER_INFO {
		return rawQuery{}, parseError("Unrecognized QueryType: %d.", int64(num))
	}
	q := rawQuery{typ: typ}
	optsAt := 2
	if len(parts) >= 2 {
		if typ == ql2.Query_START {
			q.term = parts[1]
		} else if rawType(parts[1]) == "OBJECT" {
			optsAt = 1
		}
	}
	if typ == ql2.Query_START && q.term == nil {
		return rawQuery{}, parseError("Expected a term in the top-level START query.")
	}
	if len(parts) > optsAt {
		if rawType(parts[optsAt]) != "OBJECT" {
			return rawQuery{}, parseError("Expected global optargs as an object, but found %s.", rawType(parts[optsAt]))
		}
		if err := json.Unmarshal(parts[optsAt], &q.opts); err != nil {
			return rawQuery{}, reql.ErrClient("%s", unparseableQuery)
		}
		if v, ok := q.opts["noreply"]; ok {
			q.noreply = bytes.Equal(bytes.TrimSpace(v), []byte("true"))
		}
	}
	return q, nil
}

type rawQuery struct {
	typ     ql2.Query_QueryType
	term    json.RawMessage
	opts    map[string]json.RawMessage
	noreply bool
}

// decodedBefore is what the engine made of a raw part: its value, or the
// error it reported when it came to use it.
func decodedBefore(raw json.RawMessage) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return reql.BadJSON{Err: err}
	}
	return v
}

// checkParseAsBefore fails unless parseQuery decodes payload as
// parseQueryBefore and the engine after it did.
func checkParseAsBefore(t *testing.T, payload []byte) {
	t.Helper()
	q, err := parseQuery(payload)
	want, wantErr := parseQueryBefore(payload)
	if (err == nil) != (wantErr == nil) || err != nil && (err.Msg != wantErr.Msg || err.Response != wantErr.Response) {
		t.Fatalf("parseQuery(%q): error %v, before %v", payload, err, wantErr)
	}
	if err != nil {
		return
	}
	if q.typ != want.typ || q.noreply != want.noreply {
		t.Fatalf("parseQuery(%q): type %v noreply %v, before %v %v", payload, q.typ, q.noreply, want.typ, want.noreply)
	}
	if want.typ == ql2.Query_START {
		checkPartAsBefore(t, payload, "term", q.term, decodedBefore(want.term))
	}
	if (q.opts == nil) != (want.opts == nil) || len(q.opts) != len(want.opts) {
		t.Fatalf("parseQuery(%q): options %v, before %q", payload, q.opts, want.opts)
	}
	for k, raw := range want.opts {
		v, ok := q.opts[k]
		if !ok {
			t.Fatalf("parseQuery(%q): no option %q", payload, k)
		}
		checkPartAsBefore(t, payload, "option "+k, v, decodedBefore(raw))
	}
}

func checkPartAsBefore(t *testing.T, payload []byte, what string, got, want any) {
	t.Helper()
	if wb, ok := want.(reql.BadJSON); ok {
		if gb, ok := got.(reql.BadJSON); !ok || gb.Err.Error() != wb.Err.Error() {
			t.Fatalf("parseQuery(%q): %s %#v, before %v", payload, what, got, wb.Err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseQuery(%q): %s %#v, before %#v", payload, what, got, want)
	}
}

// BenchmarkParseQuery is what decoding the service's score write costs the
// server: now parseQuery alone; before, parseQuery and then the engine
// decoding the term and the db option.
func BenchmarkParseQuery(b *testing.B) {
	payload, err := os.ReadFile("../jsonany/testdata/score-write.json")
	if err != nil {
		b.Fatal(err)
	}
	payload = bytes.TrimSpace(payload)
	b.Run("now", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseQuery(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, err := parseQueryBefore(payload)
			if err != nil {
				b.Fatal(err)
			}
			var term any
			if err := json.NewDecoder(bytes.NewReader(q.term)).Decode(&term); err != nil {
				b.Fatal(err)
			}
			var db any
			if err := json.Unmarshal(q.opts["db"], &db); err != nil {
				b.Fatal(err)
			}
		}
	})
}
