package reql

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The byte encoding sorts keys as Compare does, and equal keys by primary
// key (the order the table was walked in).
func TestSortIndexEntriesFollowsCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var datum func(depth int) any
	datum = func(depth int) any {
		switch rng.IntN(7) {
		case 0:
			return []string{"", "a", "a\x00", "a\x00b", "ab", "b", "é"}[rng.IntN(7)]
		case 1:
			return []float64{-1e300, -2.5, -1, 0, 1, 2.5, 3, 1e300}[rng.IntN(8)]
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return nil
		default:
			if depth > 2 {
				return float64(rng.IntN(3))
			}
			arr := make([]any, rng.IntN(4))
			for i := range arr {
				arr[i] = datum(depth + 1)
			}
			return arr
		}
	}
	for _, withObject := range []bool{false, true} {
		entries := make([]indexEntry, 2000)
		for i := range entries {
			entries[i] = indexEntry{key: datum(0), pk: fmt.Sprintf("%05d", i)}
		}
		if withObject { // not encoded: sorted by Compare instead
			entries[7].key = map[string]any{"a": 1.0}
		}
		sortIndexEntries(entries)
		for i := 1; i < len(entries); i++ {
			a, b := entries[i-1], entries[i]
			c := Compare(a.key, b.key)
			if c > 0 || (c == 0 && Compare(a.pk, b.pk) > 0) {
				t.Fatalf("object keys %v: %v (%v) before %v (%v)", withObject, Print(a.key), a.pk, Print(b.key), b.pk)
			}
		}
	}
}
