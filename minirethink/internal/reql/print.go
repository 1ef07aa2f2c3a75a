package reql

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Print renders a datum the way RethinkDB quotes values in error messages:
// objects on several lines indented with tabs, arrays inline.
//
//	{
//		"id":	"a",
//		"score":	10
//	}
func Print(v any) string {
	var b strings.Builder
	printDatum(&b, v, 1)
	return b.String()
}

func printDatum(b *strings.Builder, v any, depth int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(formatNumber(x))
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			printDatum(b, e, depth)
		}
		b.WriteByte(']')
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(strings.Repeat("\t", depth))
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteString(":\t")
			printDatum(b, x[k], depth+1)
		}
		b.WriteString("\n")
		b.WriteString(strings.Repeat("\t", depth-1))
		b.WriteByte('}')
	case minVal:
		b.WriteString("r.minval")
	case maxVal:
		b.WriteString("r.maxval")
	default:
		b.WriteString("?")
	}
}

// formatNumber prints integers without a fraction, as RethinkDB does.
func formatNumber(f float64) string {
	if isInteger(f) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
