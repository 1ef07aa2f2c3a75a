package reql

import (
	"math"
	"strconv"
	"strings"
)

// Print renders a datum the way RethinkDB quotes values in messages
// (datum_t::print): rapidjson's PrettyWriter indenting with one tab a
// level, modified by RethinkDB to put a tab after each key's colon
// (src/rapidjson/prettywriter.h). Arrays and objects alike have one element
// a line; empty ones are [] and {}.
//
//	{
//		"id":	"a",
//		"tags":	[
//			1,
//			2
//		]
//	}
func Print(v any) string {
	var b strings.Builder
	printDatum(&b, v, 1)
	return b.String()
}

// printDatum writes v at nesting level depth: the elements of a container
// are indented depth tabs, its closing bracket depth-1.
func printDatum(b *strings.Builder, v any, depth int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(printNumber(x))
	case string:
		b.Write(appendRapidString(nil, x))
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			printElementPrefix(b, i, depth)
			printDatum(b, e, depth+1)
		}
		printClose(b, ']', depth)
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			printElementPrefix(b, i, depth)
			b.Write(appendRapidString(nil, k))
			b.WriteString(":\t")
			printDatum(b, x[k], depth+1)
		}
		printClose(b, '}', depth)
	case minVal:
		b.WriteString("r.minval")
	case maxVal:
		b.WriteString("r.maxval")
	default:
		b.WriteString("?")
	}
}

func printElementPrefix(b *strings.Builder, i, depth int) {
	if i > 0 {
		b.WriteByte(',')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat("\t", depth))
}

func printClose(b *strings.Builder, c byte, depth int) {
	b.WriteByte('\n')
	b.WriteString(strings.Repeat("\t", depth-1))
	b.WriteByte(c)
}

// Numbers are quoted two ways in RethinkDB's messages: a datum printed as
// JSON (Print, to_json_string) has rapidjson's shortest round-trip digits,
// while checked_convert_to_int and the non-finite check format the number
// alone with "%.20g" (PR_RECONSTRUCTABLE_DOUBLE).

// printNumber is a number as datum_t::write_json prints it: integers within
// ±2^53 as integers (but -0 as a double), anything else as rapidjson's
// Writer::Double.
func printNumber(f float64) string { return string(appendRapidNumber(nil, f)) }

// formatReconstructable is C's "%.20g", which RethinkDB uses to quote numbers
// in messages (PR_RECONSTRUCTABLE_DOUBLE): 0.1 is 0.10000000000000000555.
func formatReconstructable(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 20, 64)
}

// appendRapidNumber writes f as rapidjson does: integers without a
// fraction, other numbers in rapidjson's shortest form (1e21, 0.000001,
// 1.5e-7, 9007199254740994.0).
func appendRapidNumber(b []byte, f float64) []byte {
	negZero := f == 0 && math.Signbit(f)
	if !negZero && isInteger(f) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	if negZero {
		return append(b, "-0.0"...)
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	// The shortest digits and the decimal exponent, then rapidjson's
	// Prettify: the value is digits × 10^k, 10^(kk-1) <= value < 10^kk.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	length := len(digits)
	kk := x + 1
	k := kk - length
	switch {
	case k >= 0 && kk <= 21:
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", k)...)
		return append(b, ".0"...)
	case kk > 0 && kk <= 21:
		b = append(b, digits[:kk]...)
		b = append(b, '.')
		return append(b, digits[kk:]...)
	case kk > -6 && kk <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -kk)...)
		return append(b, digits...)
	case length == 1:
		b = append(b, digits...)
	default:
		b = append(b, digits[0], '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(kk-1), 10)
}

// appendRapidString writes s as rapidjson's Writer does: control
// characters escaped in upper-case hex, '"' and '\\' escaped, nothing else.
func appendRapidString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
