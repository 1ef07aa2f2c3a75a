package reql

import "unsafe"

// interner shares, within one table, the short string values that many of
// its documents hold (a player's board id): each such value is then one
// string and one boxed interface for the whole table instead of one per
// document, which the document and the index keys computed from it share.
// A value is shared from its second sighting; values seen once are
// remembered in a bounded set that is forgotten when full, so unique
// values (ids, names) cost a little time and no lasting memory.
type interner struct {
	shared map[string]any
	seen   map[string]struct{}
}

const (
	// internMax bounds both the shared values and the candidates.
	internMax = 4096
	// internLen is the longest value shared.
	internLen = 64
)

// doc returns doc with its top-level string values replaced by the
// table's shared ones: doc itself when none is, else a copy (datums are
// never mutated: doc may be another table's stored document, or be read by
// a cursor).
func (in *interner) doc(doc map[string]any) map[string]any {
	if in.shared == nil {
		in.shared = map[string]any{}
		in.seen = map[string]struct{}{}
	}
	out, copied := doc, false
	for k, v := range doc {
		s, ok := v.(string)
		if !ok || len(s) > internLen {
			continue
		}
		if sv, ok := in.shared[s]; ok {
			if unsafe.StringData(sv.(string)) == unsafe.StringData(s) {
				continue // already the shared one (an update of a stored document)
			}
			if !copied {
				out, copied = copyObject(doc, 0), true
			}
			out[k] = sv
			continue
		}
		if _, ok := in.seen[s]; ok {
			if len(in.shared) < internMax {
				in.shared[s] = v
				delete(in.seen, s)
			}
			continue
		}
		if len(in.seen) >= internMax {
			clear(in.seen)
		}
		in.seen[s] = struct{}{}
	}
	return out
}
