package reql

import (
	"slices"
	"sort"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Top-N feeds: order_by({index}).limit(n).changes(), on a table or a
// between. The feed keeps the current top N (the active set) and, after
// each commit, compares it with the top N read from the index, which is
// already up to date when observers run. The difference becomes changes the
// way RethinkDB 2.4's limit_manager_t::commit pairs them:
//   - a row whose value changed and that is in both sets: {old_val: before,
//     new_val: after};
//   - a row that left, paired with one that entered: {old_val: leaving,
//     new_val: entering} (one change for a displacement);
//   - a row that left with none entering: {old_val: row, new_val: null};
//   - a row that entered with none leaving (there was room): {old_val: null,
//     new_val: row}.
// A commit that leaves the top N as it was sends nothing.

// topItem is one row of a top-N set.
type topItem struct {
	key any // index value; the primary key for the primary index
	pk  any
	doc map[string]any
}

type topNFeed struct {
	*changeFeed
	rng    rangeSpec
	ix     *index // nil for the primary index
	pkName string
	// ec evaluates the index function for the cheap "cannot matter" test;
	// observers run one at a time under the write lock, so one is enough.
	ec     *evalCtx
	active []topItem // best first
}

func newTopNFeed(ec *evalCtx, t *Table, rng rangeSpec, opts feedOptions) (*changeFeed, error) {
	ix, err := feedIndex(t, rng, "`order_by({index}).limit(n).changes()`")
	if err != nil {
		return nil, err
	}
	f := &topNFeed{
		changeFeed: newChangeFeed(ec, t, opts, ql2.Response_ORDER_BY_LIMIT_FEED),
		rng:        rng,
		ix:         ix,
		pkName:     t.primaryKey,
		ec:         feedEvalCtx(ec),
	}
	f.active = f.read()
	f.startHead(func(yield func(any) bool) {
		for _, it := range f.active {
			if !yield(it.doc) {
				return
			}
		}
	})
	f.subscribe(f.indexName(), f.onChange)
	return f.changeFeed, nil
}

// before reports whether a ranks before b in the feed's order.
func (f *topNFeed) before(a, b topItem) bool {
	c := Compare(a.key, b.key)
	if c == 0 {
		c = Compare(a.pk, b.pk)
	}
	if f.rng.desc {
		return c > 0
	}
	return c < 0
}

func (f *topNFeed) inRange(key any) bool { return f.rng.contains(key) }

// read returns the top N from the index, O(log n + N), or the whole range
// when there is no limit.
func (f *topNFeed) read() []topItem {
	limit := f.rng.limit // -1: the whole range
	out := make([]topItem, 0, 16)
	if limit == 0 {
		return out
	}
	f.table.scanRange(f.ix, &f.rng, func(it topItem) bool {
		out = append(out, it)
		return limit < 0 || len(out) < limit
	})
	return out
}

// candidate is doc's place in the feed's order, or false when it is not in
// the range (or the index function fails on it, which keeps it out of the
// index).
func (f *topNFeed) candidate(doc map[string]any) (topItem, bool) {
	pk := doc[f.pkName]
	if f.ix == nil {
		return topItem{key: pk, pk: pk, doc: doc}, f.inRange(pk)
	}
	keys := f.ix.keys(f.ec, doc)
	if len(keys) != 1 || !f.inRange(keys[0]) {
		return topItem{}, false
	}
	return topItem{key: keys[0], pk: pk, doc: doc}, true
}

func (f *topNFeed) onChange(old, new map[string]any) {
	if f.cannotMatter(old, new) {
		return
	}
	next := f.read()
	changes := f.diff(f.active, next, old, new)
	if f.opts.includeOffsets {
		f.offsets(changes, next)
	}
	f.active = next
	for _, c := range changes {
		f.push(c)
	}
}

// indexName is the secondary index the feed reads, "" for the primary
// index: index_drop and index_rename end the feed (Table.endIndexFeeds).
func (f *topNFeed) indexName() string {
	if f.ix == nil {
		return ""
	}
	return f.rng.index
}

// cannotMatter: when the set is full, a write whose old row was not in it
// and whose new row ranks after its last cannot change it.
func (f *topNFeed) cannotMatter(old, new map[string]any) bool {
	if f.rng.limit == 0 {
		return true
	}
	if len(f.active) < f.rng.limit {
		return false
	}
	doc := old
	if doc == nil {
		doc = new
	}
	pk := doc[f.pkName]
	for _, it := range f.active {
		if Equal(it.pk, pk) {
			return false
		}
	}
	if new == nil {
		return true
	}
	it, ok := f.candidate(new)
	return !ok || !f.before(it, f.active[len(f.active)-1])
}

// offsets sets the ranks of changes, which move the set from f.active to
// next, as RethinkDB's limit_sub_t::note_change_impl finds them applying
// each change in turn to the set: old_offset is the leaving row's rank
// before it leaves, new_offset the entering row's rank once it is in,
// 0 for the best.
func (f *topNFeed) offsets(changes []feedChange, next []topItem) {
	set := slices.Clone(f.active)
	for i := range changes {
		c := &changes[i]
		if old, ok := c.old.(map[string]any); ok {
			pk := old[f.pkName]
			if at := slices.IndexFunc(set, func(it topItem) bool { return Equal(it.pk, pk) }); at >= 0 {
				c.oldOffset = float64(at)
				set = slices.Delete(set, at, at+1)
			}
		}
		if nw, ok := c.new.(map[string]any); ok {
			pk := nw[f.pkName]
			at := slices.IndexFunc(next, func(it topItem) bool { return Equal(it.pk, pk) })
			if at < 0 {
				continue
			}
			item := next[at]
			pos := len(set)
			for j, it := range set {
				if f.before(item, it) {
					pos = j
					break
				}
			}
			set = slices.Insert(set, pos, item)
			c.newOffset = float64(pos)
		}
	}
}

// diff turns the move from set a to set b, caused by a commit of the row
// old -> new, into changes.
func (f *topNFeed) diff(a, b []topItem, old, new map[string]any) []feedChange {
	doc := old
	if doc == nil {
		doc = new
	}
	written := doc[f.pkName]
	index := func(items []topItem) map[string]int {
		m := make(map[string]int, len(items))
		for i, it := range items {
			m[Print(it.pk)] = i
		}
		return m
	}
	inA, inB := index(a), index(b)
	var deleted, added []topItem
	for _, it := range a {
		if _, ok := inB[Print(it.pk)]; !ok || Equal(it.pk, written) {
			deleted = append(deleted, it)
		}
	}
	for _, it := range b {
		if _, ok := inA[Print(it.pk)]; !ok || Equal(it.pk, written) {
			added = append(added, it)
		}
	}
	var out []feedChange
	// The same row left and entered: it changed in place.
	remaining := deleted[:0:0]
	for _, d := range deleted {
		matched := false
		for i, ad := range added {
			if Equal(ad.pk, d.pk) {
				out = append(out, feedChange{old: d.doc, new: ad.doc})
				added = append(added[:i:i], added[i+1:]...)
				matched = true
				break
			}
		}
		if !matched {
			remaining = append(remaining, d)
		}
	}
	// Rows that left, in primary key order, each with the lowest-ranked of
	// the rows that entered, as RethinkDB pairs them.
	sort.Slice(remaining, func(i, j int) bool { return Compare(remaining[i].pk, remaining[j].pk) < 0 })
	for _, d := range remaining {
		c := feedChange{old: d.doc}
		if len(added) > 0 {
			c.new = added[len(added)-1].doc
			added = added[:len(added)-1]
		}
		out = append(out, c)
	}
	// Rows that entered where there was room, lowest-ranked first.
	for i := len(added) - 1; i >= 0; i-- {
		out = append(out, feedChange{new: added[i].doc})
	}
	return out
}
