package reql

import (
	"iter"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Reads, as RethinkDB 2.4 does them (src/rdb_protocol/terms/seq.cc,
// sort.cc, arr.cc, db_table.cc, val.cc): this file has what they share,
// sequences in and out and walks of index ranges, and r.minval and
// r.maxval; the terms are in terms_select.go (get_all, between),
// terms_order.go (order_by, asc, desc), terms_slice.go (limit, skip, slice,
// nth), terms_aggregate.go (count, is_empty) and terms_transform.go
// (filter, map).
//
// Values keep what RethinkDB keeps: a between or an order_by({index}) of a
// table is a TABLE_SLICE (a streamVal whose rng is the index range), which
// between, order_by({index}), limit and changes can still build on; a
// limit of one keeps the range with its limit set, which is what a top-N
// changefeed is made from. Anything else on a table's rows is a selection
// (streamVal with table: writes may follow), and on other sequences a
// stream. Streams are lazy: a range is walked in the index, O(log n + k),
// only as far as it is read. Arrays stay arrays and are computed at once,
// as RethinkDB turns such "arrays in disguise" back into arrays.

func readTerms(reg termTable) {
	reg.add(ql2.Term_MINVAL, termDef{fn: minvalTerm})
	reg.add(ql2.Term_MAXVAL, termDef{fn: maxvalTerm})
}

// ---------------------------------------------------------------------------
// Sequences in and out.

// seqIn is a term's sequence argument.
type seqIn struct {
	// table is set when the rows are a table's documents (a selection).
	table *Table
	// isArr is set when the argument was an array: the result is one too.
	isArr bool
	arr   []any
	// array is set for an array in disguise (streamVal.array).
	array bool
	// sliced is the stream's sliceState.
	sliced sliceState
	seq    iter.Seq2[any, error]
}

// seqArg resolves v as a sequence, with RethinkDB's messages otherwise.
func (ec *evalCtx) seqArg(v any) (seqIn, error) {
	switch x := v.(type) {
	case *tableVal:
		return seqIn{table: x.t, seq: ec.rows(x)}, nil
	case *streamVal:
		return seqIn{table: x.table, seq: x.seq, array: x.array, sliced: x.sliced}, nil
	case []any:
		return seqIn{isArr: true, arr: x, seq: ec.rows(x)}, nil
	case *singleVal, *dbVal, *funcVal:
		return seqIn{}, valueTypeError("SEQUENCE", v)
	case Feed:
		return seqIn{}, errFeedTerm("")
	}
	return seqIn{}, typedError(v, "Cannot convert %s to SEQUENCE", TypeName(v))
}

// seqOut is the value of a term that transformed in into seq: an array for
// an array, a selection when keepTable and in was one (an array in disguise
// if in was), else a stream, or an array when in was an array in disguise,
// as val_t's constructor turns such a stream into its array.
func seqOut(in seqIn, seq iter.Seq2[any, error], keepTable bool) (any, error) {
	switch {
	case in.isArr:
		return collectRows(seq)
	case keepTable && in.table != nil:
		return &streamVal{table: in.table, seq: seq, array: in.array, sliced: in.sliced.after(true)}, nil
	case in.array:
		return collectRows(seq)
	}
	return &streamVal{seq: seq, sliced: in.sliced.after(keepTable)}, nil
}

// collectRows reads seq into an array, at most RethinkDB's array limit.
func collectRows(seq iter.Seq2[any, error]) ([]any, error) {
	out := []any{}
	for row, err := range seq {
		if err != nil {
			return nil, err
		}
		if len(out) >= arrayLimit {
			return nil, errArrayLimit()
		}
		out = append(out, row)
	}
	return out, nil
}

// interruptEvery is how many rows a long walk reads between two looks at
// the query's context.
const interruptEvery = 4096

// ---------------------------------------------------------------------------
// Table slices: ranges of an index.

// sliceArg is a TABLE_SLICE argument: a table (no index chosen yet,
// unbounded, unordered) or a between/order_by({index}) of one.
type sliceArg struct {
	t        *Table
	rng      rangeSpec
	hasIndex bool
}

func tableSliceOf(v any) (sliceArg, bool) {
	switch x := v.(type) {
	case *tableVal:
		return sliceArg{t: x.t, rng: unboundedRange(x.t.primaryKey)}, true
	case *streamVal:
		if isTableSlice(x) {
			return sliceArg{t: x.table, rng: *x.rng, hasIndex: true}, true
		}
	}
	return sliceArg{}, false
}

// universe is the unbounded, unordered, unlimited range of an index.
func unboundedRange(index string) rangeSpec {
	return rangeSpec{index: index, lo: minVal{}, hi: maxVal{}, loOpen: true, limit: -1}
}

// indexNamed is the index called name on t: nil for the primary key.
func indexNamed(t *Table, name string) (*index, error) {
	if name == t.primaryKey {
		return nil, nil
	}
	ix, ok := t.indexes[name]
	if !ok {
		return nil, ErrOpFailed("Index `%s` was not found on table `%s`.", name, t.FullName())
	}
	return ix, nil
}

// rangeStream is the TABLE_SLICE (or, with a limit, the selection) of t's
// rows in rng.
func (ec *evalCtx) rangeStream(t *Table, rng rangeSpec) (*streamVal, error) {
	ix, err := indexNamed(t, rng.index)
	if err != nil {
		return nil, err
	}
	return &streamVal{table: t, rng: &rng, seq: ec.rangeRows(t, ix, rng)}, nil
}

// rangeRows lazily walks rng of t's index ix, at most rng.limit rows. A row
// whose multi index value holds a key several times comes that many times,
// as in RethinkDB (one index entry per array element).
func (ec *evalCtx) rangeRows(t *Table, ix *index, rng rangeSpec) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		if rng.limit == 0 {
			return
		}
		kc := ec.sideCtx()
		n := 0
		stopped := false
		var fail error
		t.scanRange(ix, &rng, func(it topItem) bool {
			times := 1
			if ix != nil && ix.multi {
				times = keyMultiplicity(kc, ix, it.doc, it.key)
			}
			for range times {
				n++
				if n%interruptEvery == 0 {
					if err := ec.ctx.Err(); err != nil {
						fail = ErrOpFailed("Query interrupted: %v.", err)
						return false
					}
				}
				if !yield(it.doc, nil) {
					stopped = true
					return false
				}
				if rng.limit > 0 && n >= rng.limit {
					stopped = true
					return false
				}
			}
			return true
		})
		if fail != nil && !stopped {
			yield(nil, fail)
		}
	}
}

// sideCtx evaluates index functions while a stream is read, apart from the
// query's own variables.
func (ec *evalCtx) sideCtx() *evalCtx {
	return &evalCtx{ctx: ec.ctx, m: ec.m, now: ec.now, db: ec.db}
}

// keyMultiplicity is how many elements of doc's multi index value equal key.
func keyMultiplicity(kc *evalCtx, ix *index, doc map[string]any, key any) int {
	n := 0
	for _, k := range ix.keys(kc, doc) {
		if Equal(k, key) {
			n++
		}
	}
	return max(n, 1)
}

// ---------------------------------------------------------------------------
// r.minval, r.maxval, r.asc, r.desc

func minvalTerm(*evalCtx, *Term) (any, error) { return minVal{}, nil }
func maxvalTerm(*evalCtx, *Term) (any, error) { return maxVal{}, nil }

// r.minval and r.maxval exist only inside a query. Memory.Run answers a
// result holding one with RethinkDB's error (writableResult); these only
// keep one that got past it from being encoded as {}.

func (minVal) MarshalJSON() ([]byte, error) {
	return nil, ErrQueryLogic("Cannot convert `r.minval` to JSON.")
}

func (maxVal) MarshalJSON() ([]byte, error) {
	return nil, ErrQueryLogic("Cannot convert `r.maxval` to JSON.")
}
