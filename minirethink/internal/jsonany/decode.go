// Package jsonany decodes JSON into plain Go values (float64, string, bool,
// nil, []any, map[string]any) in one pass over the input. It produces what
// encoding/json's Unmarshal into an any produces and accepts exactly the
// inputs it accepts, at a fraction of the cost: the server decodes every
// query this way, and encoding/json validated and scanned each one several
// times over.
//
// The values differ from encoding/json's in how they are allocated only:
// short strings are shared between decodes, small non-negative integers
// are boxed once for good, and the arrays of one decode are carved out of
// shared blocks of up to 64 elements, so keeping one array keeps its block.
// The server's terms are parsed and dropped, so nothing keeps them.
package jsonany

import (
	"encoding/json"
	"reflect"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest, encoding/json's own
// limit: deeper input is a syntax error there, so it is one here, and a
// hostile query cannot exhaust the stack of the recursive descent.
const MaxDepth = 10000

// SyntaxError reports input that is not one well-formed JSON value.
type SyntaxError struct {
	Msg    string
	Offset int64 // of the byte where the input went wrong
}

func (e *SyntaxError) Error() string {
	return "jsonany: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Decode decodes data, which must hold exactly one JSON value (surrounded by
// any whitespace), as json.Unmarshal into an any would.
//
// Its errors are a *SyntaxError for malformed input, and for well-formed
// input holding a number beyond float64's range the
// *json.UnmarshalTypeError that encoding/json returns for it, word for word
// (the first such number's, as there): encoding/json reports that error
// only where such a value is decoded, and callers that split their input
// need to reproduce that. A syntax error anywhere wins over a range error,
// as in encoding/json, which checks the syntax of the whole input first. On
// error the value is nil.
func Decode(data []byte) (any, error) {
	d := decoders.Get().(*decoder)
	d.data, d.pos, d.depth, d.rangeErr = data, 0, 0, nil
	d.skipSpace()
	v, err := d.value()
	if err == nil {
		d.skipSpace()
		if d.pos < len(d.data) {
			err = d.syntaxError("invalid character " + quoteChar(d.data[d.pos]) + " after top-level value")
		}
	}
	if err == nil && d.rangeErr != nil {
		err = d.rangeErr
	}
	d.release()
	if err != nil {
		return nil, err
	}
	return v, nil
}

// decoders keeps the scratch stacks between decodes, so a decode allocates
// only what it returns.
var decoders = sync.Pool{New: func() any { return new(decoder) }}

type decoder struct {
	data  []byte
	pos   int
	depth int
	// rangeErr is the first number beyond float64's range. Decoding goes on
	// after it, as in encoding/json, so a later syntax error still wins.
	rangeErr error
	// vals and keys hold the elements of the arrays and objects being
	// decoded, so each is allocated once at its final size.
	vals []any
	keys []string
	// buf is where strings with escapes or bad UTF-8 are rewritten.
	buf []byte
	// block is what is left of the current block of array elements, of
	// blockLen (see elems).
	block    []any
	blockLen int
	// strs are the strings seen lately (see intern).
	strs map[string]any
}

// smallInts are the boxed values of small non-negative integers: boxing a
// float64 allocates, and ReQL term types, argument counts and the like are
// such numbers. Sharing them is safe: a boxed value is immutable.
var smallInts = func() (v [1024]any) {
	for i := range v {
		v[i] = float64(i)
	}
	return v
}()

// release returns d to the pool. A failed decode leaves elements on the
// stacks; they are cleared so the pool keeps no part of an input alive,
// and stacks grown by a huge input are dropped rather than kept.
func (d *decoder) release() {
	d.data, d.rangeErr = nil, nil
	d.block, d.blockLen = nil, 0
	clear(d.vals)
	clear(d.keys)
	d.vals, d.keys = d.vals[:0], d.keys[:0]
	if cap(d.vals) > maxPooled || cap(d.keys) > maxPooled || cap(d.buf) > maxPooled {
		return
	}
	decoders.Put(d)
}

const maxPooled = 1 << 12

var float64Type = reflect.TypeFor[float64]()

func (d *decoder) syntaxError(msg string) error {
	return &SyntaxError{Msg: msg, Offset: int64(d.pos)}
}

func (d *decoder) eofError() error {
	return d.syntaxError("unexpected end of JSON input")
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at d.pos, which is past any whitespace before it.
func (d *decoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.eofError()
	}
	switch c := d.data[d.pos]; c {
	case '[':
		return d.array()
	case '{':
		return d.object()
	case '"':
		b, err := d.string()
		if err != nil {
			return nil, err
		}
		return d.intern(b), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return d.number()
		}
		return nil, d.syntaxError("invalid character " + quoteChar(c) + " looking for beginning of value")
	}
}

func (d *decoder) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if d.pos >= len(d.data) {
			return d.eofError()
		}
		if d.data[d.pos] != lit[i] {
			return d.syntaxError("invalid character " + quoteChar(d.data[d.pos]) + " in literal " + lit)
		}
		d.pos++
	}
	return nil
}

func (d *decoder) push() error {
	d.depth++
	if d.depth > MaxDepth {
		return d.syntaxError("exceeded max depth")
	}
	d.pos++
	return nil
}

// next reads what follows an element of an array or object: the closing
// byte (end) or a comma and the space after it; what is named what the
// error says the bad byte came after.
func (d *decoder) next(closing byte, what string) (end bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.eofError()
	}
	c := d.data[d.pos]
	d.pos++
	if c == closing {
		return true, nil
	}
	if c != ',' {
		d.pos--
		return false, d.syntaxError("invalid character " + quoteChar(c) + " after " + what)
	}
	d.skipSpace()
	return false, nil
}

func (d *decoder) array() (any, error) {
	if err := d.push(); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		// Not nil: encoding/json decodes [] as an empty, non-nil slice.
		return make([]any, 0), nil
	}
	base := len(d.vals)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		if end, err := d.next(']', "array element"); err != nil {
			return nil, err
		} else if end {
			break
		}
	}
	a := d.elems(len(d.vals) - base)
	copy(a, d.vals[base:])
	// Cleared so the pooled decoder does not keep the result alive.
	clear(d.vals[base:])
	d.vals = d.vals[:base]
	d.depth--
	return a, nil
}

// elems returns room for an array of n elements. Queries are mostly
// arrays of one to three elements, so they are carved out of blocks
// rather than allocated one by one; a block is not shared between
// decodes, and its slices are full, so appending to one reallocates.
func (d *decoder) elems(n int) []any {
	if n > len(d.block) {
		if n > maxBlock/4 {
			return make([]any, n)
		}
		d.blockLen = min(max(2*d.blockLen, minBlock), maxBlock)
		d.block = make([]any, max(d.blockLen, n))
	}
	a := d.block[:n:n]
	d.block = d.block[n:]
	return a
}

const (
	minBlock = 16
	maxBlock = 64
)

func (d *decoder) object() (any, error) {
	if err := d.push(); err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return make(map[string]any), nil
	}
	base := len(d.vals)
	for {
		if d.pos >= len(d.data) {
			return nil, d.eofError()
		}
		if c := d.data[d.pos]; c != '"' {
			return nil, d.syntaxError("invalid character " + quoteChar(c) + " looking for beginning of object key string")
		}
		b, err := d.string()
		if err != nil {
			return nil, err
		}
		k := d.intern(b).(string)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.eofError()
		}
		if c := d.data[d.pos]; c != ':' {
			return nil, d.syntaxError("invalid character " + quoteChar(c) + " after object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		if end, err := d.next('}', "object key:value pair"); err != nil {
			return nil, err
		} else if end {
			break
		}
	}
	n := len(d.vals) - base
	kbase := len(d.keys) - n
	m := make(map[string]any, n)
	for i := range n {
		// In input order, so a repeated key keeps its last value.
		m[d.keys[kbase+i]] = d.vals[base+i]
	}
	clear(d.vals[base:])
	clear(d.keys[kbase:])
	d.vals = d.vals[:base]
	d.keys = d.keys[:kbase]
	d.depth--
	return m, nil
}

func (d *decoder) number() (any, error) {
	data := d.data
	start, i := d.pos, d.pos
	neg := data[i] == '-'
	if neg {
		i++
	}
	if i >= len(data) {
		d.pos = i
		return nil, d.eofError()
	}
	// u is the integer part while it is exact in a float64.
	var u uint64
	digits := 0
	switch c := data[i]; {
	case c == '0':
		i++
		digits = 1
	case '1' <= c && c <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			u = u*10 + uint64(data[i]-'0')
			i++
			digits++
		}
	default:
		d.pos = i
		return nil, d.syntaxError("invalid character " + quoteChar(c) + " in numeric literal")
	}
	integer := true
	if i < len(data) && data[i] == '.' {
		integer = false
		i++
		if j := skipDigits(data, i); j == i {
			d.pos = i
			return nil, d.digitError()
		} else {
			i = j
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		integer = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if j := skipDigits(data, i); j == i {
			d.pos = i
			return nil, d.digitError()
		} else {
			i = j
		}
	}
	d.pos = i
	// Up to 15 digits is below 2^53, so float64(u) is the exact value,
	// which is what ParseFloat would return.
	if integer && digits <= 15 {
		if !neg {
			if u < uint64(len(smallInts)) {
				return smallInts[u], nil
			}
			return float64(u), nil
		}
		return -float64(u), nil // -0 stays negative zero, as in ParseFloat
	}
	f, err := strconv.ParseFloat(string(data[start:i]), 64)
	if err != nil {
		// The grammar was checked, so this is a range error.
		if d.rangeErr == nil {
			// Offset as encoding/json's: one past the byte after the literal.
			d.rangeErr = &json.UnmarshalTypeError{Value: "number " + string(data[start:i]), Type: float64Type, Offset: int64(i + 1)}
		}
		return nil, nil
	}
	return f, nil
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

func (d *decoder) digitError() error {
	if d.pos >= len(d.data) {
		return d.eofError()
	}
	return d.syntaxError("invalid character " + quoteChar(d.data[d.pos]) + " in numeric literal")
}

// string decodes the string literal at d.pos. What it returns is valid
// until the next call.
func (d *decoder) string() ([]byte, error) {
	data := d.data
	start := d.pos + 1
	for i := start; i < len(data); i++ {
		c := data[i]
		if c == '"' {
			d.pos = i + 1
			return data[start:i], nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			return d.stringSlow(start, i)
		}
	}
	d.pos = len(data)
	return nil, d.eofError()
}

// stringSlow finishes a string literal that has an escape, a non-ASCII byte
// or a control character at i.
func (d *decoder) stringSlow(start, i int) ([]byte, error) {
	data := d.data
	rewrite := false
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if !rewrite {
				return data[start:i], nil
			}
			d.buf = unquote(d.buf[:0], data[start:i])
			return d.buf, nil
		case c == '\\':
			rewrite = true
			i++
			if i >= len(data) {
				d.pos = i
				return nil, d.eofError()
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for range 4 {
					if i >= len(data) {
						d.pos = i
						return nil, d.eofError()
					}
					if !isHex(data[i]) {
						d.pos = i
						return nil, d.syntaxError("invalid character " + quoteChar(data[i]) + " in \\u hexadecimal character escape")
					}
					i++
				}
			default:
				d.pos = i
				return nil, d.syntaxError("invalid character " + quoteChar(data[i]) + " in string escape code")
			}
		case c < ' ':
			d.pos = i
			return nil, d.syntaxError("invalid character " + quoteChar(c) + " in string literal")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				rewrite = true
			}
			i += size
		}
	}
	d.pos = len(data)
	return nil, d.eofError()
}

// intern returns b as a string in an any. Queries repeat short strings
// (field names, "score" a dozen times in a score write), and a string
// costs two allocations, its bytes and the header its any points to: the
// short ones are kept, boxed, and shared within a decode and across them.
// Strings are immutable, so sharing them is invisible.
func (d *decoder) intern(b []byte) any {
	if len(b) > maxInternLen {
		return string(b)
	}
	if v, ok := d.strs[string(b)]; ok {
		return v
	}
	if d.strs == nil {
		d.strs = make(map[string]any)
	} else if len(d.strs) >= maxInterned {
		// Forgotten when full, so unique strings (ids) cannot grow it.
		clear(d.strs)
	}
	s := string(b)
	v := any(s)
	d.strs[s] = v
	return v
}

const (
	maxInternLen = 40 // a UUID is 36
	maxInterned  = 512
)

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote appends to b the contents of a string literal whose syntax has
// been checked, as encoding/json's unquoteBytes rewrites them: escapes
// resolved, a surrogate pair joined, a lone surrogate and every byte of
// bad UTF-8 replaced by U+FFFD.
func unquote(b, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// getu4 decodes the \uXXXX escape at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
