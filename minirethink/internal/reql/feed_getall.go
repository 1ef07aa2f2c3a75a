package reql

import (
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Feeds on get_all: table.get_all(k1, k2, ..., {index}).changes(), by the
// primary key or a secondary index. RethinkDB 2.4 makes a range
// subscription of the keys (changefeed.cc: range_sub_t with the get_all's
// datumspec) and, for each write, counts the copies of the document's old
// and new index values among the keys (range_sub_t::copies: a key asked
// for twice counts twice, as get_all returns the row twice):
//   - by a secondary index, as many {old_val, new_val} as both have, then
//     {old_val, new_val: null} for the old value's remaining copies and
//     {old_val: null, new_val} for the new one's (msg_t::change_t's
//     visitor): a row whose key moves out of the keys is a removal, into
//     them an addition;
//   - by the primary key, one {old_val, new_val} per copy of the key.
// With include_initial the rows get_all reads come first.

// getAllKey is one key of a get_all with how many times it was given.
type getAllKey struct {
	key   any
	times int
}

// getAllSpec is what a get_all selection keeps for changes.
type getAllSpec struct {
	index string
	ix    *index // nil for the primary key
	keys  []getAllKey
}

// copies is how many times key was asked for.
func (g *getAllSpec) copies(key any) int {
	for _, k := range g.keys {
		if Equal(k.key, key) {
			return k.times
		}
	}
	return 0
}

func newGetAllFeed(ec *evalCtx, sv *streamVal, opts feedOptions) (*changeFeed, error) {
	g, t := sv.getAll, sv.table
	if g.ix != nil && g.ix.multi {
		return nil, ErrUnsupported("`get_all(...).changes()` on a multi index")
	}
	f := newChangeFeed(ec, t, opts, ql2.Response_SEQUENCE_FEED)
	rows := sv.seq
	f.startHead(func(yield func(any) bool) {
		for row, err := range rows {
			if err != nil || !yield(row) {
				return
			}
		}
	})
	pkName := t.primaryKey
	kc := feedEvalCtx(ec)
	// copiesOf is how many times doc's value of the index was asked for.
	copiesOf := func(doc map[string]any) int {
		if doc == nil {
			return 0
		}
		if g.ix == nil {
			return g.copies(doc[pkName])
		}
		n := 0
		for _, k := range g.ix.keys(kc, doc) {
			n += g.copies(k)
		}
		return n
	}
	indexName := ""
	if g.ix != nil {
		indexName = g.index
	}
	f.subscribe(indexName, func(old, new map[string]any) {
		doc := old
		if doc == nil {
			doc = new
		}
		key := Print(doc[pkName])
		if g.ix == nil {
			for range copiesOf(doc) {
				f.push(feedChange{key: key, old: nullable(old), new: nullable(new)})
			}
			return
		}
		nOld, nNew := copiesOf(old), copiesOf(new)
		for range min(nOld, nNew) {
			f.push(feedChange{key: key, old: old, new: new})
		}
		for range nOld - min(nOld, nNew) {
			f.push(feedChange{key: key, old: old})
		}
		for range nNew - min(nOld, nNew) {
			f.push(feedChange{key: key, new: new})
		}
	})
	return f, nil
}
