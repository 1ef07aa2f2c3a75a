package reql

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// Datums are plain Go values as encoding/json decodes them: nil, bool,
// float64, string, []any and map[string]any. Numbers are always float64, as in
// RethinkDB. Datums are never mutated once built: every term that changes one
// builds a new value, so stored documents can be handed out without copying.

// minVal and maxVal are r.minval and r.maxval: they sort before and after
// every datum and exist only as bounds of between.
type minVal struct{}
type maxVal struct{}

// Kinds in ReQL's sort order across types: arrays, booleans, null, numbers,
// objects, binary, geometry, times, strings (ReQL docs, "Ordering of data
// types"), with minval and maxval at the ends.
const (
	rankMin = iota
	rankArray
	rankBool
	rankNull
	rankNumber
	rankObject
	rankBinary
	rankGeometry
	rankTime
	rankString
	rankMax
)

func rank(v any) int {
	switch x := v.(type) {
	case minVal:
		return rankMin
	case maxVal:
		return rankMax
	case nil:
		return rankNull
	case bool:
		return rankBool
	case float64:
		return rankNumber
	case string:
		return rankString
	case []any:
		return rankArray
	case map[string]any:
		switch x["$reql_type$"] {
		case "TIME":
			return rankTime
		case "BINARY":
			return rankBinary
		case "GEOMETRY":
			return rankGeometry
		}
		return rankObject
	}
	panic("reql: not a datum")
}

// Compare orders two datums as ReQL does: -1, 0 or +1.
func Compare(a, b any) int {
	// The common cases first (index keys are mostly strings and numbers):
	// the same answers as below, without ranking both sides.
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		if ra < rb {
			return -1
		}
		return 1
	}
	switch ra {
	case rankMin, rankMax, rankNull:
		return 0
	case rankBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case rankNumber:
		return cmp.Compare(a.(float64), b.(float64))
	case rankString:
		// By UTF-8 bytes, i.e. by code point, as RethinkDB compares.
		return cmp.Compare(a.(string), b.(string))
	case rankArray:
		x, y := a.([]any), b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := Compare(x[i], y[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(x), len(y))
	case rankTime:
		x, _ := a.(map[string]any)["epoch_time"].(float64)
		y, _ := b.(map[string]any)["epoch_time"].(float64)
		return cmp.Compare(x, y)
	case rankBinary:
		x, _ := a.(map[string]any)["data"].(string)
		y, _ := b.(map[string]any)["data"].(string)
		return cmp.Compare(x, y)
	default: // objects and geometry: as their sorted key/value pairs
		x, y := a.(map[string]any), b.(map[string]any)
		kx, ky := sortedKeys(x), sortedKeys(y)
		for i := 0; i < len(kx) && i < len(ky); i++ {
			if c := cmp.Compare(kx[i], ky[i]); c != 0 {
				return c
			}
			if c := Compare(x[kx[i]], y[ky[i]]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(kx), len(ky))
	}
}

// Equal reports whether two datums are equal in ReQL's sense.
func Equal(a, b any) bool { return Compare(a, b) == 0 }

// sortedKeys is m's keys in order, the order RethinkDB keeps an object in.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// TypeName is r.typeOf's answer for a datum, and the name every message
// gives its type (datum_t::get_type_name).
func TypeName(v any) string {
	switch rank(v) {
	case rankNull:
		return "NULL"
	case rankBool:
		return "BOOL"
	case rankNumber:
		return "NUMBER"
	case rankString:
		return "STRING"
	case rankArray:
		return "ARRAY"
	case rankTime:
		return "PTYPE<TIME>"
	case rankBinary:
		return "PTYPE<BINARY>"
	case rankGeometry:
		return "PTYPE<GEOMETRY>"
	case rankMin:
		return "MINVAL"
	case rankMax:
		return "MAXVAL"
	}
	return "OBJECT"
}

// isInteger reports whether f is a whole number that float64 holds exactly.
func isInteger(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) <= 1<<53
}

// checkedInt is checked_convert_to_int (datum.cc): f as an integer, or
// RethinkDB's error saying why it is not one.
func checkedInt(f float64) (int64, error) {
	switch {
	case f < -(1 << 53):
		return 0, ErrQueryLogic("Number not an integer (<-2^53): %s", formatReconstructable(f))
	case f > 1<<53:
		return 0, ErrQueryLogic("Number not an integer (>2^53): %s", formatReconstructable(f))
	case f != math.Trunc(f):
		return 0, ErrQueryLogic("Number not an integer: %s", formatReconstructable(f))
	}
	return int64(f), nil
}

// copyObject returns a shallow copy of m with room for extra keys; datums are
// immutable, so a shallow copy is enough to build a changed object.
func copyObject(m map[string]any, extra int) map[string]any {
	out := make(map[string]any, len(m)+extra)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// cloneArray returns a copy of a with room for extra elements.
func cloneArray(a []any, extra int) []any {
	return slices.Grow(slices.Clone(a), extra)
}
