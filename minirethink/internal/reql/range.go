package reql

// Walking a range of an index: the one implementation behind between,
// order_by({index}), limit on those, and the range and top-N changefeeds.
// A walk costs O(log n) to its first entry and O(1) for each entry after,
// so a top-N read of a large table reads N entries, never the table.

// unbounded reports whether rng has no bounds: both ends r.minval and
// r.maxval, open, as RethinkDB's datum_range_t::is_universe has it. A table
// ordered by an index is unbounded; a between, even between(r.minval,
// r.maxval) with its default closed left bound, is not.
func (r *rangeSpec) unbounded() bool {
	_, lo := r.lo.(minVal)
	_, hi := r.hi.(maxVal)
	return lo && hi && r.loOpen && !r.hiClosed
}

// contains reports whether an index key lies within rng's bounds.
func (r *rangeSpec) contains(key any) bool {
	if c := Compare(key, r.lo); c < 0 || (c == 0 && r.loOpen) {
		return false
	}
	if c := Compare(key, r.hi); c > 0 || (c == 0 && !r.hiClosed) {
		return false
	}
	return true
}

// scanRange calls visit with each entry of index ix (nil for the primary
// index) whose key lies within rng, in index order, or in reverse index
// order when rng.desc, until visit returns false. Entries with equal keys
// come in primary key order (reversed when descending), as in RethinkDB's
// secondary index B-trees. rng.limit is the caller's to apply.
//
// The walk starts at the near bound (lo ascending, hi descending): entries
// at an open near bound are skipped, the first entry past the far bound
// ends it.
func (t *Table) scanRange(ix *index, rng *rangeSpec, visit func(topItem) bool) {
	step := func(it topItem) bool {
		if !rng.contains(it.key) {
			c := Compare(it.key, rng.lo)
			if rng.desc {
				return c >= 0 // at an open hi: keep descending
			}
			return c <= 0 // at an open lo: keep ascending
		}
		return visit(it)
	}
	if ix == nil {
		doc := func(e docEntry) bool { return step(topItem{key: e.pk, pk: e.pk, doc: e.doc}) }
		if rng.desc {
			t.rows.DescendLessOrEqual(docEntry{pk: rng.hi}, doc)
		} else {
			t.rows.AscendGreaterOrEqual(docEntry{pk: rng.lo}, doc)
		}
		return
	}
	entry := func(e indexEntry) bool { return step(topItem{key: e.key, pk: e.pk, doc: e.doc}) }
	if rng.desc {
		ix.tree.DescendLessOrEqual(indexEntry{key: rng.hi, pk: maxVal{}}, entry)
	} else {
		ix.tree.AscendGreaterOrEqual(indexEntry{key: rng.lo, pk: minVal{}}, entry)
	}
}
