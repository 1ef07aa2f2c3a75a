package jsonany

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is the reference: what the package promises to reproduce.
func stdDecode(data []byte) (any, error) {
	var v any
	err := json.Unmarshal(data, &v)
	return v, err
}

// checkSame fails unless Decode and encoding/json agree on data: both
// accept it with equal values, or both reject it, with the same error when
// encoding/json's is a range error (callers forward that one's words).
func checkSame(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdDecode(data)
	got, err := Decode(data)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Decode(%q): error %v, encoding/json's %v", data, err, wantErr)
	}
	if wantErr != nil {
		var wantRange, gotRange *json.UnmarshalTypeError
		if errors.As(wantErr, &wantRange) != errors.As(err, &gotRange) {
			t.Fatalf("Decode(%q): error %v, encoding/json's %v", data, err, wantErr)
		}
		if wantRange != nil && *wantRange != *gotRange {
			t.Fatalf("Decode(%q): range error %#v, encoding/json's %#v", data, gotRange, wantRange)
		}
		if got != nil {
			t.Fatalf("Decode(%q) = %#v with error %v", data, got, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, encoding/json's %#v", data, got, want)
	}
}

// seeds are inputs at the edges of the grammar and of the decoding rules.
var seeds = []string{
	// Empty, whitespace, trailing data.
	``, ` `, "\t\n\r ", `1`, ` 1 `, "\n[1]\r\n", `1 2`, `[] []`, `{}x`, `nullx`, `"a""b"`,
	"\v1", "\f1", "\u00a01", "\xef\xbb\xbf1", `[1,]`, `[,1]`, `{"a":1,}`, `{,}`, `[1 2]`,
	`{"a" 1}`, `{"a":}`, `{1:2}`, `{'a':1}`, `{"a":1 "b":2}`, `[`, `{`, `]`, `}`, `[}`, `{]`,
	`"`, `"abc`, `"\`, `"\u12`, `{"a"`, `{"a":`, `{"a":1`, `[1`, `[1,`,
	// Literals.
	`true`, `false`, `null`, `tru`, `nul`, `True`, `nan`, `NaN`, `Infinity`, `-Infinity`, `truee`, `[true,false,null]`,
	// Numbers.
	`0`, `-0`, `-0.0`, `0.0`, `00`, `01`, `-01`, `-`, `+1`, `.5`, `5.`, `1.e5`, `1e`, `1e+`, `1E-`, `0x10`,
	`1e5`, `1E5`, `1e+5`, `1e-5`, `1.5e300`, `1e308`, `1.7976931348623157e308`, `1.7976931348623159e308`,
	`1e309`, `1e400`, `-1e400`, `1e-400`, `4.9e-324`, `2e-324`, `1e-5000`, `123456789012345`,
	`1234567890123456`, `9007199254740991`, `9007199254740993`, `18446744073709551616`,
	`99999999999999999999999999999999999999`, `-9007199254740993`, `1023`, `1024`, `-1`, `1.0`, `1e0`,
	`0.1`, `0.30000000000000004`, `[1e400,"x"]`, `[1e400,1e500]`, `{"a":1e400}`, `[1e400,]`, `[1e400` + strings.Repeat(`,1e401`, 3) + `]`,
	`1e400 x`, `[1e400, tru]`,
	// Strings: escapes, surrogates, UTF-8.
	`""`, `"abc"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\'"`, `"\a"`, `"\x41"`, `"\u0041"`, `"\u00e9"`,
	`"\u0000"`, `"\uFFFF"`, `"\uffff"`, `"\uD834\uDD1E"`, `"\ud834\udd1e"`, `"\uD834"`, `"\uDD1E"`,
	`"\uDD1E\uD834"`, `"\uD834\uD834\uDD1E"`, `"\uD834x"`, `"\uD834\n"`, `"\uD834\u0041"`, `"\uD834\uZZZZ"`,
	`"\u12G4"`, `"\uD834\uDD1"`, "\"\t\"", "\"a\nb\"", "\"\x7f\"", "\"\x1f\"", `"é"`, `"€𝄞"`, "\"\xff\"",
	"\"\xc3\"", "\"\xc3(\"", "\"\xe2\x82\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xef\xbf\xbd\"",
	"\"a\xffb\\n\"", "\"\xc0\xaf\"", "{\"\xff\":1}", `{"\u0061":1,"a":2}`, "\"" + strings.Repeat("\xff", 100) + "\"",
	// Arrays and objects.
	`[]`, `{}`, `[[]]`, `[{}]`, `{"":""}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":null}]}}`, `[ 1 , 2 ]`,
	"[\n1\t,\r2]", `{ "a" : 1 }`, `[1,[2,[3,[4]]]]`,
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		checkSame(t, []byte(s))
	}
	for _, n := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		checkSame(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		checkSame(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
		checkSame(t, []byte(strings.Repeat(`[{"a":`, n/2)+"1"+strings.Repeat("}]", n/2)))
		checkSame(t, []byte(strings.Repeat("[", n)))
	}
}

func TestDecodeValues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{`[]`, []any{}},
		{`{}`, map[string]any{}},
		{`[1,"a",true,false,null,-2.5]`, []any{1.0, "a", true, false, nil, -2.5}},
		{`{"a":1,"a":2}`, map[string]any{"a": 2.0}},
		{`"\uD834\uDD1E"`, "\U0001D11E"},
		{`"\uD834"`, "\uFFFD"},
		{`"\uD834\u0041"`, "\uFFFDA"},
		{`"\uDD1E\uD834"`, "\uFFFD\uFFFD"},
		{"\"a\xffb\"", "a\uFFFDb"},
		{"\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"},
		{`"\u0000"`, "\x00"},
		{`1e-400`, 0.0},
		{`9007199254740993`, 9007199254740992.0},
		{`1023`, 1023.0},
		{`123456789012345`, 123456789012345.0},
	} {
		got, err := Decode([]byte(tc.in))
		if err != nil {
			t.Fatalf("Decode(%q): %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

// DeepEqual does not tell zeros apart.
func TestDecodeNegativeZero(t *testing.T) {
	for _, in := range []string{`-0`, `-0.0`, `-0e5`, `-1e-400`} {
		v, err := Decode([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := v.(float64); !ok || f != 0 || !math.Signbit(f) {
			t.Errorf("Decode(%q) = %#v, want -0", in, v)
		}
	}
	v, _ := Decode([]byte(`0`))
	if math.Signbit(v.(float64)) {
		t.Error("Decode(`0`) is -0")
	}
}

func TestDecodeErrors(t *testing.T) {
	_, err := Decode([]byte(`[1, 1e400, {"a": 1e500}]`))
	if err == nil || err.Error() != "json: cannot unmarshal number 1e400 into Go value of type float64" {
		t.Errorf("range error: %v", err)
	}
	var se *SyntaxError
	if _, err := Decode([]byte(`[1e400, x]`)); !errors.As(err, &se) || se.Offset != 8 {
		t.Errorf("a syntax error after a range error: %v", err)
	}
	if _, err := Decode([]byte(strings.Repeat("[", MaxDepth+1))); !errors.As(err, &se) || se.Msg != "exceeded max depth" {
		t.Errorf("too deep: %v", err)
	}
}

// A failed decode must not leave elements on the pooled stacks, where the
// next decode would find them.
func TestDecodeAfterFailure(t *testing.T) {
	for range 3 {
		if _, err := Decode([]byte(`[1,[2,{"a":[3,`)); err == nil {
			t.Fatal("accepted")
		}
		got, err := Decode([]byte(`[4,{"b":5}]`))
		if err != nil || !reflect.DeepEqual(got, []any{4.0, map[string]any{"b": 5.0}}) {
			t.Fatalf("after a failure: %#v, %v", got, err)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	data := []byte(`[1,[[15,[[14,["leaderboard"]],"players"]],2]]`)
	if _, err := Decode(data); err != nil {
		t.Fatal(err)
	}
	// Six arrays and two strings, each its contents and the header its
	// any points to; the numbers are preboxed.
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(data) }); n > 16 {
		t.Errorf("%v allocations, want at most 16", n)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add(scoreWrite(f))
	f.Add([]byte(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)))
	f.Add([]byte(strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
	})
}
