package reql

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
)

// sortIndexEntries puts a new index's entries (made by walking the table in
// primary key order) in index order, so that building the B-tree inserts
// each at its end, where every node it passes is already in the cache.
//
// The order only decides how fast the build is, never what the index
// holds: the B-tree places every entry by Compare whatever the order of
// the inserts. So most keys (strings, numbers, booleans, null, and arrays
// of them) are sorted by an order-preserving byte encoding, compared with
// memcmp, and by the walk's position (primary key order) among equal keys;
// a set with any other key is sorted by Compare.
func sortIndexEntries(entries []indexEntry) {
	type encoded struct {
		key []byte
		pos int
	}
	enc := make([]encoded, len(entries))
	var buf []byte
	for i, e := range entries {
		start := len(buf)
		var ok bool
		if buf, ok = appendSortKey(buf, e.key); !ok {
			slices.SortFunc(entries, func(a, b indexEntry) int {
				if c := Compare(a.key, b.key); c != 0 {
					return c
				}
				return Compare(a.pk, b.pk)
			})
			return
		}
		enc[i] = encoded{pos: i}
		enc[i].key = buf[start:len(buf):len(buf)]
	}
	slices.SortFunc(enc, func(a, b encoded) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.pos - b.pos
	})
	sorted := make([]indexEntry, len(entries))
	for i, e := range enc {
		sorted[i] = entries[e.pos]
	}
	copy(entries, sorted)
}

// appendSortKey appends v's order-preserving encoding: a type byte in
// ReQL's order across types, then the value. ok is false for a value it
// does not encode (objects, times, binary).
func appendSortKey(buf []byte, v any) (_ []byte, ok bool) {
	switch x := v.(type) {
	case string:
		buf = append(buf, rankString)
		for i := 0; i < len(x); i++ {
			if x[i] == 0 {
				buf = append(buf, 0, 1) // so that the terminator sorts first
				continue
			}
			buf = append(buf, x[i])
		}
		return append(buf, 0, 0), true
	case float64:
		bits := math.Float64bits(x)
		if bits&(1<<63) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(append(buf, rankNumber), bits), true
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		return append(buf, rankBool, b), true
	case nil:
		return append(buf, rankNull), true
	case []any:
		buf = append(buf, rankArray)
		for _, e := range x {
			if buf, ok = appendSortKey(buf, e); !ok {
				return buf, false
			}
		}
		// Below every type byte: a shorter array sorts first.
		return append(buf, 0), true
	}
	return buf, false
}
