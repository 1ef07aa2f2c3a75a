package reql

import (
	"encoding/base64"
	"errors"
	"iter"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Reads: selecting (get_all, between, filter), ordering (order_by, asc,
// desc) and slicing (limit, skip, slice, nth) sequences, and count,
// is_empty and map, as RethinkDB 2.4 does them (src/rdb_protocol/terms/
// seq.cc, sort.cc, arr.cc, db_table.cc, val.cc).
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
	reg.add(ql2.Term_ASC, termDef{fn: orderDirectionTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_DESC, termDef{fn: orderDirectionTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_GET_ALL, termDef{fn: getAllTerm, minArgs: 1, maxArgs: -1, opts: []string{"index"}})
	betweenOpts := []string{"index", "left_bound", "right_bound"}
	reg.add(ql2.Term_BETWEEN, termDef{fn: betweenTerm, minArgs: 3, maxArgs: 3, opts: betweenOpts})
	reg.add(ql2.Term_BETWEEN_DEPRECATED, termDef{fn: betweenDeprecatedTerm, minArgs: 3, maxArgs: 3, opts: betweenOpts})
	reg.add(ql2.Term_ORDER_BY, termDef{fn: orderByTerm, minArgs: 1, maxArgs: -1, opts: []string{"index"}})
	reg.add(ql2.Term_LIMIT, termDef{fn: limitTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_SKIP, termDef{fn: skipTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_SLICE, termDef{fn: sliceTerm, minArgs: 2, maxArgs: 3, opts: []string{"left_bound", "right_bound"}})
	reg.add(ql2.Term_NTH, termDef{fn: nthTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_COUNT, termDef{fn: countTerm, minArgs: 1, maxArgs: 2})
	reg.add(ql2.Term_IS_EMPTY, termDef{fn: isEmptyTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_FILTER, termDef{fn: filterTerm, minArgs: 2, maxArgs: 2, opts: []string{"default"}})
	reg.add(ql2.Term_MAP, termDef{fn: mapTerm, minArgs: 2, maxArgs: -1})
}

// ---------------------------------------------------------------------------
// Value kinds and RethinkDB's messages about them.

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
	seq   iter.Seq2[any, error]
}

// seqArg resolves v as a sequence, with RethinkDB's messages otherwise.
func (ec *evalCtx) seqArg(v any) (seqIn, error) {
	switch x := v.(type) {
	case *tableVal:
		return seqIn{table: x.t, seq: ec.rows(x)}, nil
	case *streamVal:
		return seqIn{table: x.table, seq: x.seq, array: x.array}, nil
	case []any:
		return seqIn{isArr: true, arr: x, seq: ec.rows(x)}, nil
	case *singleVal, *dbVal, *funcVal:
		return seqIn{}, valueTypeError("SEQUENCE", v)
	case Feed:
		return seqIn{}, ErrUnsupported("Transforming a changefeed (`filter`, `map`, `limit`, ... after `changes`)")
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
		return &streamVal{table: in.table, seq: seq, array: in.array}, nil
	case in.array:
		return collectRows(seq)
	}
	return &streamVal{seq: seq}, nil
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

// orderDirectionTerm is r.asc(x) and r.desc(x): x itself. order_by reads
// the direction from the term, as RethinkDB does.
func orderDirectionTerm(ec *evalCtx, t *Term) (any, error) { return ec.eval(t.Args[0]) }

// ---------------------------------------------------------------------------
// get_all

func getAllTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	tv, ok := v.(*tableVal)
	if !ok {
		return nil, valueTypeError("TABLE", v)
	}
	tb := tv.t
	name, err := ec.optString(t, "index", tb.primaryKey)
	if err != nil {
		return nil, err
	}
	// Keys in index order, each with how many times it was asked for:
	// RethinkDB does not de-duplicate, get_all(1, 1) is the row twice.
	type wanted struct {
		key   any
		times int
	}
	var keys []wanted
	for _, a := range t.Args[1:] {
		k, err := ec.strictDatum(a)
		if err != nil {
			return nil, err
		}
		switch {
		case rank(k) == rankGeometry:
			return nil, ErrQueryLogic("Cannot use a geospatial index with `get_all`. Use `get_intersecting` instead.")
		case k == nil:
			return nil, ErrNonExistence("Keys cannot be NULL.")
		// r.minval and r.maxval are no index key, so they match nothing.
		case !validBound(k):
			return nil, ErrUnsupported("A `get_all` key that is an object, or an array holding one or null,")
		}
		i, found := slices.BinarySearchFunc(keys, k, func(w wanted, k any) int { return Compare(w.key, k) })
		if found {
			keys[i].times++
		} else {
			keys = slices.Insert(keys, i, wanted{key: k, times: 1})
		}
	}
	ix, err := indexNamed(tb, name)
	if err != nil {
		return nil, err
	}
	if ix == nil {
		for _, w := range keys {
			if err := validPrimaryKey(w.key); err != nil {
				return nil, ErrQueryLogic("%s", err.Error())
			}
		}
	}
	kc := ec.sideCtx()
	seq := func(yield func(any, error) bool) {
		for _, w := range keys {
			if ix == nil {
				if doc := tb.Get(w.key); doc != nil {
					for range w.times {
						if !yield(doc, nil) {
							return
						}
					}
				}
				continue
			}
			stopped := false
			ix.tree.AscendGreaterOrEqual(indexEntry{key: w.key, pk: minVal{}}, func(e indexEntry) bool {
				if !Equal(e.key, w.key) {
					return false
				}
				times := w.times
				if ix.multi {
					times *= keyMultiplicity(kc, ix, e.doc, e.key)
				}
				for range times {
					if !yield(e.doc, nil) {
						stopped = true
						return false
					}
				}
				return true
			})
			if stopped {
				return
			}
		}
	}
	return &streamVal{table: tb, seq: seq}, nil
}

// ---------------------------------------------------------------------------
// between

func betweenTerm(ec *evalCtx, t *Term) (any, error) { return ec.between(t, false) }

// betweenDeprecatedTerm is the old BETWEEN, where null means unbounded.
func betweenDeprecatedTerm(ec *evalCtx, t *Term) (any, error) { return ec.between(t, true) }

func (ec *evalCtx) between(t *Term, nullUnbounded bool) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	sl, ok := tableSliceOf(v)
	if !ok {
		return nil, valueTypeError("TABLE_SLICE", v)
	}
	leftOpen, err := ec.boundIsOpen(t, "left_bound", false)
	if err != nil {
		return nil, err
	}
	rightOpen, err := ec.boundIsOpen(t, "right_bound", true)
	if err != nil {
		return nil, err
	}
	var bounds [2]any
	for i, unbounded := range [2]any{minVal{}, maxVal{}} {
		b, err := ec.strictDatum(t.Args[1+i])
		if err != nil {
			return nil, err
		}
		if b == nil {
			if !nullUnbounded {
				return nil, ErrQueryLogic("Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness.")
			}
			b = unbounded
		}
		if !validBound(b) {
			return nil, ErrUnsupported("A `between` bound that is an object, or an array holding one or null,")
		}
		bounds[i] = b
	}
	name := sl.t.primaryKey
	if sl.hasIndex {
		name = sl.rng.index
	}
	if o, ok := t.Opts["index"]; ok {
		if name, err = ec.str(o); err != nil {
			return nil, err
		}
	}
	if !sl.rng.unbounded() {
		return nil, ErrQueryLogic("Cannot perform multiple BETWEENs on the same table.")
	}
	if sl.hasIndex && sl.rng.index != name {
		return nil, ErrQueryLogic("Cannot call BETWEEN on index `%s` after ordering on index `%s`.", name, sl.rng.index)
	}
	rng := sl.rng
	rng.index = name
	rng.lo, rng.hi = bounds[0], bounds[1]
	rng.loOpen, rng.hiClosed = leftOpen, !rightOpen
	return ec.rangeStream(sl.t, rng)
}

// validBound: a key that could be in an index, r.minval and r.maxval
// anywhere in it allowed.
func validBound(v any) bool {
	switch x := v.(type) {
	case minVal, maxVal:
		return true
	case []any:
		for _, e := range x {
			if !validBound(e) {
				return false
			}
		}
		return true
	}
	return validIndexKey(v)
}

// boundIsOpen reads a left_bound/right_bound optional argument.
func (ec *evalCtx) boundIsOpen(t *Term, name string, def bool) (bool, error) {
	o, ok := t.Opts[name]
	if !ok {
		return def, nil
	}
	s, err := ec.str(o)
	if err != nil {
		return false, err
	}
	switch s {
	case "open":
		return true, nil
	case "closed":
		return false, nil
	}
	return false, ErrQueryLogic("Expected `open` or `closed` for optarg `%s` (got `%s`).", name, Print(s))
}

// ---------------------------------------------------------------------------
// order_by

// orderKey is one order_by argument: a field name or a function, ascending
// unless wrapped in r.desc.
type orderKey struct {
	desc  bool
	field string
	fn    *funcVal // nil: field
}

func (ec *evalCtx) orderKeys(t *Term) ([]orderKey, error) {
	keys := make([]orderKey, 0, len(t.Args)-1)
	for _, a := range t.Args[1:] {
		if a.Type == ql2.Term_ARGS {
			return nil, ErrQueryLogic("r.args is not supported in an order_by or union command yet.")
		}
		v, err := ec.eval(a)
		if err != nil {
			return nil, err
		}
		k := orderKey{desc: a.Type == ql2.Term_DESC}
		switch x := v.(type) {
		case *funcVal:
			k.fn = x
		case string:
			k.field = x
		default:
			if _, err := asDatum(v); err != nil {
				return nil, valueTypeError("FUNCTION", v)
			}
			return nil, ErrUnsupported("An `order_by` key that is neither a field name nor a function")
		}
		if nonDeterministicTerm(a) {
			return nil, ErrQueryLogic("Sorting by a non-deterministic function is not supported.")
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func orderByTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	keys, err := ec.orderKeys(t)
	if err != nil {
		return nil, err
	}
	idxTerm, byIndex := t.Opts["index"]
	if !byIndex {
		if len(keys) == 0 {
			return nil, ErrQueryLogic("Must specify something to order by.")
		}
		return ec.sortInMemory(v, keys)
	}
	sl, isSlice := tableSliceOf(v)
	if !isSlice {
		// RethinkDB leaves an input it already knows to be empty alone.
		if arr, ok := v.([]any); ok && len(arr) == 0 {
			return arr, nil
		}
		if _, err := ec.seqArg(v); err != nil {
			return nil, err
		}
		return nil, ErrQueryLogic("Indexed order_by can only be performed on a TABLE or TABLE_SLICE. " +
			"Make sure order_by comes before any transformations (such as map) or filters.")
	}
	name, err := ec.str(idxTerm)
	if err != nil {
		return nil, err
	}
	if sl.rng.ordered {
		return nil, ErrQueryLogic("Cannot perform multiple indexed ORDER_BYs on the same table.")
	}
	if sl.hasIndex && sl.rng.index != name {
		return nil, ErrQueryLogic("Cannot order by index `%s` after calling BETWEEN on index `%s`.", name, sl.rng.index)
	}
	rng := sl.rng
	rng.index = name
	rng.ordered = true
	rng.desc = idxTerm.Type == ql2.Term_DESC
	ix, err := indexNamed(sl.t, name)
	if err != nil {
		return nil, err
	}
	if ix != nil && ix.multi {
		return nil, ErrUnsupported("`order_by` on a multi index")
	}
	if len(keys) == 0 {
		return ec.rangeStream(sl.t, rng)
	}
	return &streamVal{table: sl.t, seq: ec.indexedSort(sl.t, ix, rng, keys)}, nil
}

// sortRow is a row with its sort keys; missing marks a key whose value did
// not exist (a missing field), which sorts before every value ascending and
// after every value descending.
type sortRow struct {
	row     any
	vals    []any
	missing []bool
}

func (ec *evalCtx) sortRows(rows []any, keys []orderKey) ([]any, error) {
	// As RethinkDB's std::stable_sort, a lone row is never compared, so its
	// keys are never computed.
	if len(rows) < 2 {
		return rows, nil
	}
	sr := make([]sortRow, len(rows))
	for i, row := range rows {
		sr[i] = sortRow{row: row, vals: make([]any, len(keys)), missing: make([]bool, len(keys))}
		for j, k := range keys {
			val, err := ec.sortValue(k, row)
			switch {
			case isNonExistence(err):
				sr[i].missing[j] = true
			case err != nil:
				return nil, err
			default:
				sr[i].vals[j] = val
			}
		}
	}
	slices.SortStableFunc(sr, func(a, b sortRow) int {
		for j, k := range keys {
			c := 0
			switch am, bm := a.missing[j], b.missing[j]; {
			case am && bm:
				continue
			case am:
				c = -1
			case bm:
				c = 1
			default:
				c = Compare(a.vals[j], b.vals[j])
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range sr {
		rows[i] = sr[i].row
	}
	return rows, nil
}

// sortValue is row's value for one order_by key.
func (ec *evalCtx) sortValue(k orderKey, row any) (any, error) {
	if k.fn == nil {
		return bracketField(row, k.field)
	}
	v, err := ec.call(k.fn, row)
	if err != nil {
		return nil, err
	}
	return asDatum(v)
}

// bracketField is row(field) on a row, as order_by's field shortcut reads it.
func bracketField(row any, field string) (any, error) {
	switch x := row.(type) {
	case map[string]any:
		v, ok := x[field]
		if !ok {
			return nil, ErrNonExistence("No attribute `%s` in object:\n%s", field, Print(x))
		}
		return v, nil
	case []any:
		return nil, ErrUnsupported("Ordering arrays by a field name")
	}
	return nil, typedError(row, "Cannot perform bracket on a non-object non-sequence `%s`.", Print(row))
}

// sortInMemory is order_by without an index: all rows read, at most the
// array limit, and stably sorted. A selection stays one (so writes may
// follow); any other sequence becomes an array.
func (ec *evalCtx) sortInMemory(v any, keys []orderKey) (any, error) {
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	var rows []any
	if in.isArr {
		rows = slices.Clone(in.arr)
	} else {
		for row, err := range in.seq {
			if err != nil {
				return nil, err
			}
			if len(rows) >= arrayLimit {
				return nil, errArrayLimit()
			}
			rows = append(rows, row)
		}
	}
	rows, err = ec.sortRows(rows, keys)
	if err != nil {
		return nil, err
	}
	if in.table == nil {
		if rows == nil {
			rows = []any{}
		}
		return rows, nil
	}
	return &streamVal{table: in.table, seq: ec.rows(rows), array: true}, nil
}

// indexedSort is order_by(keys..., {index}): the index order, rows with
// equal index values sorted by keys, as RethinkDB's
// indexed_sort_datum_stream_t sorts each run of equal index values.
func (ec *evalCtx) indexedSort(t *Table, ix *index, rng rangeSpec, keys []orderKey) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		var run []any
		var runKey any
		stopped := false
		var fail error
		flush := func() bool {
			sorted, err := ec.sortRows(run, keys)
			if err != nil {
				fail = err
				return false
			}
			for _, row := range sorted {
				if !yield(row, nil) {
					stopped = true
					return false
				}
			}
			run = run[:0]
			return true
		}
		t.scanRange(ix, &rng, func(it topItem) bool {
			if len(run) > 0 && !Equal(runKey, it.key) && !flush() {
				return false
			}
			runKey = it.key
			run = append(run, it.doc)
			return true
		})
		if !stopped && fail == nil && len(run) > 0 {
			flush()
		}
		if fail != nil && !stopped {
			yield(nil, fail)
		}
	}
}

// ---------------------------------------------------------------------------
// limit, skip, slice, nth

func limitTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	n, err := ec.integer(t.Args[1])
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, ErrQueryLogic("LIMIT takes a non-negative argument (got %d)", n)
	}
	if lv, ok := ec.limitRange(v, n); ok {
		return lv, nil
	}
	if in.isArr {
		return slices.Clip(in.arr[:min(n, len(in.arr))]), nil
	}
	return seqOut(in, takeRows(in.seq, 0, n), true)
}

// limitRange limits a table or a range of one and keeps the range, which
// a top-N changefeed is built from (and a limit of an unordered one
// refused by).
func (ec *evalCtx) limitRange(v any, n int) (any, bool) {
	var tb *Table
	var rng rangeSpec
	switch x := v.(type) {
	case *tableVal:
		tb, rng = x.t, unboundedRange(x.t.primaryKey)
	case *streamVal:
		if x.table == nil || x.rng == nil {
			return nil, false
		}
		tb, rng = x.table, *x.rng
	default:
		return nil, false
	}
	if rng.limit < 0 || n < rng.limit {
		rng.limit = n
	}
	sv, err := ec.rangeStream(tb, rng)
	if err != nil {
		// The index was there when the range was made: keep the range's
		// own rows rather than fail here.
		return nil, false
	}
	return sv, true
}

// takeRows skips skip rows of seq, then yields at most n (n < 0: all).
func takeRows(seq iter.Seq2[any, error], skip, n int) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		if n == 0 {
			return
		}
		i, taken := 0, 0
		for row, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			i++
			if i <= skip {
				continue
			}
			if !yield(row, nil) {
				return
			}
			taken++
			if n > 0 && taken >= n {
				return
			}
		}
	}
}

// skipTerm is slice(n, -1, {right_bound: "closed"}), as RethinkDB rewrites it.
func skipTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	l, err := ec.int64Arg(t.Args[1])
	if err != nil {
		return nil, err
	}
	return ec.sliceValue(v, l, false, -1, false)
}

func sliceTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	leftOpen, err := ec.boundIsOpen(t, "left_bound", false)
	if err != nil {
		return nil, err
	}
	l, err := ec.int64Arg(t.Args[1])
	if err != nil {
		return nil, err
	}
	// With no right index the slice runs to the end, inclusive.
	rightOpen, r := false, int64(-1)
	if len(t.Args) == 3 {
		if rightOpen, err = ec.boundIsOpen(t, "right_bound", true); err != nil {
			return nil, err
		}
		if r, err = ec.int64Arg(t.Args[2]); err != nil {
			return nil, err
		}
	}
	return ec.sliceValue(v, l, leftOpen, r, rightOpen)
}

func (ec *evalCtx) int64Arg(t *Term) (int64, error) {
	n, err := ec.integer(t)
	return int64(n), err
}

// sliceValue slices an array, a string, binary data or a sequence from
// index l to index r (negative: from the end, for datums only).
func (ec *evalCtx) sliceValue(v any, l int64, leftOpen bool, r int64, rightOpen bool) (any, error) {
	switch v.(type) {
	case *tableVal, *streamVal:
		return ec.sliceStream(v, l, leftOpen, r, rightOpen)
	case *dbVal, *funcVal:
		return nil, ErrQueryLogic("Cannot slice non-sequences.")
	case Feed:
		return nil, ErrUnsupported("Transforming a changefeed (`filter`, `map`, `limit`, ... after `changes`)")
	}
	d, err := asDatum(v)
	if err != nil {
		return nil, err
	}
	switch x := d.(type) {
	case []any:
		lo, hi := sliceBounds(int64(len(x)), l, leftOpen, r, rightOpen)
		if lo >= hi {
			return []any{}, nil
		}
		return slices.Clip(x[lo:hi]), nil
	case string:
		runes := []rune(x)
		lo, hi := sliceBounds(int64(len(runes)), l, leftOpen, r, rightOpen)
		if lo >= hi {
			return "", nil
		}
		return string(runes[lo:hi]), nil
	case map[string]any:
		if rank(x) == rankBinary {
			data, err := binaryBytes(x)
			if err != nil {
				return nil, err
			}
			lo, hi := sliceBounds(int64(len(data)), l, leftOpen, r, rightOpen)
			out := []byte{}
			if lo < hi {
				out = data[lo:hi]
			}
			return map[string]any{"$reql_type$": "BINARY", "data": base64.StdEncoding.EncodeToString(out)}, nil
		}
	}
	return nil, ErrQueryLogic("Expected ARRAY, BINARY, or STRING, but found %s.", TypeName(d))
}

// sliceBounds turns ReQL slice indexes into Go ones over size elements:
// negative indexes count from the end, one before the start is the start,
// an open left or a closed right bound moves that end up by one.
func sliceBounds(size, l int64, leftOpen bool, r int64, rightOpen bool) (lo, hi int64) {
	canon := func(i int64, bumpWhenOpen bool, open bool) int64 {
		if i < 0 {
			if -i > size {
				return 0
			}
			i += size
		}
		if open == bumpWhenOpen {
			i++
		}
		return i
	}
	return min(canon(l, true, leftOpen), size), min(canon(r, false, rightOpen), size)
}

// sliceStream slices a table or stream: indexes from the start only.
func (ec *evalCtx) sliceStream(v any, l int64, leftOpen bool, r int64, rightOpen bool) (any, error) {
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	if l < 0 {
		return nil, ErrQueryLogic("Cannot use a negative left index on a stream.")
	}
	lo := l
	if leftOpen {
		lo++
	}
	hi := int64(math.MaxInt64)
	switch {
	case r < -1:
		return nil, ErrQueryLogic("Cannot use a right index < -1 on a stream.")
	case r == -1:
		if rightOpen {
			return nil, ErrQueryLogic("Cannot slice to an open right index of -1 on a stream.")
		}
	default:
		hi = r
		if !rightOpen {
			hi++
		}
	}
	if hi <= lo {
		return seqOut(in, takeRows(in.seq, 0, 0), true)
	}
	n := -1
	if hi != math.MaxInt64 {
		n = int(min(hi-lo, math.MaxInt32))
		// slice(0, n) of a range is limit(n): it keeps the range.
		if lo == 0 {
			if lv, ok := ec.limitRange(v, n); ok {
				return lv, nil
			}
		}
	}
	return seqOut(in, takeRows(in.seq, int(min(lo, math.MaxInt32)), n), true)
}

// nthTerm is nth_term_impl (arr.cc), which bracket with a number shares.
func nthTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	n, err := ec.number(t.Args[1])
	if err != nil {
		return nil, err
	}
	return ec.nthValue(v, n, "nth")
}

// nthValue is the element at index n (negative from the end) of an array,
// or of a table or stream, where only -1 counts from the end.
func (ec *evalCtx) nthValue(v any, index float64, name string) (any, error) {
	i64, err := datumInteger(index)
	if err != nil {
		return nil, err
	}
	if i64 < -(1<<31) || i64 >= 1<<31 {
		return nil, ErrQueryLogic("Integer too large: %d", i64)
	}
	n := int(i64)
	if _, feed := v.(Feed); feed {
		return nil, ErrUnsupported("Term " + name + " on a changefeed")
	}
	if isDatumValue(v) {
		d, _ := asDatum(v)
		arr, ok := d.([]any)
		if !ok {
			return nil, expected("ARRAY", d)
		}
		if n < 0 {
			if -n > len(arr) {
				return nil, ErrNonExistence("Index out of bounds: %d", n)
			}
			n += len(arr)
		}
		if n >= len(arr) {
			return nil, ErrNonExistence("Index out of bounds: %d", n)
		}
		return arr[n], nil
	}
	if !valueConvertible(v, "STREAM") {
		return nil, valueTypeError("SEQUENCE", v)
	}
	var tb *Table
	switch x := v.(type) {
	case *tableVal:
		tb = x.t
	case *streamVal:
		tb = x.table
	}
	if n < -1 {
		return nil, ErrQueryLogic("Cannot use an index < -1 (%d) on a stream.", n)
	}
	var last any
	found := false
	i := 0
	for row, err := range ec.rows(v) {
		if err != nil {
			return nil, err
		}
		if i == n {
			return selectRow(tb, row), nil
		}
		last, found = row, true
		i++
	}
	if n == -1 && found {
		return selectRow(tb, last), nil
	}
	return nil, ErrNonExistence("Index out of bounds: %d", n)
}

// ---------------------------------------------------------------------------
// count, is_empty

func countTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	if len(t.Args) == 1 {
		if tv, ok := v.(*tableVal); ok {
			return float64(tv.t.Len()), nil
		}
		if d, err := asDatum(v); err == nil {
			switch x := d.(type) {
			case string:
				return float64(utf8.RuneCountInString(x)), nil
			case []any:
				return float64(len(x)), nil
			case map[string]any:
				if rank(x) == rankBinary {
					data, err := binaryBytes(x)
					if err != nil {
						return nil, err
					}
					return float64(len(data)), nil
				}
				return float64(len(x)), nil
			}
		}
		in, err := ec.seqArg(v)
		if err != nil {
			return nil, err
		}
		return countRows(ec, in.seq, func(any) (bool, error) { return true, nil })
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	w, err := ec.eval(t.Args[1])
	if err != nil {
		return nil, err
	}
	if f, ok := w.(*funcVal); ok {
		return countRows(ec, in.seq, func(row any) (bool, error) { return ec.filterRow(f, nil, row) })
	}
	want, err := asDatum(w)
	if err != nil {
		return nil, err
	}
	return countRows(ec, in.seq, func(row any) (bool, error) { return Equal(row, want), nil })
}

func countRows(ec *evalCtx, seq iter.Seq2[any, error], match func(any) (bool, error)) (any, error) {
	n := 0
	for row, err := range seq {
		if err != nil {
			return nil, err
		}
		ok, err := match(row)
		if err != nil {
			return nil, err
		}
		if ok {
			n++
			if n%interruptEvery == 0 {
				if err := ec.ctx.Err(); err != nil {
					return nil, ErrOpFailed("Query interrupted: %v.", err)
				}
			}
		}
	}
	return float64(n), nil
}

func isEmptyTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	for _, err := range in.seq {
		if err != nil {
			return nil, err
		}
		return false, nil
	}
	return true, nil
}

// binaryBytes decodes a BINARY pseudo-type's data (RethinkDB itself sends
// it wrapped in lines).
func binaryBytes(b map[string]any) ([]byte, error) {
	s, _ := b["data"].(string)
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrQueryLogic("Invalid base64 format, data found: %s", s)
	}
	return data, nil
}

// ---------------------------------------------------------------------------
// filter

func filterTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	pred, err := ec.filterPredicate(t.Args[1])
	if err != nil {
		return nil, err
	}
	// The default is evaluated for a row only when its predicate finds a
	// missing value, in the variables of the place it was written.
	var def *funcVal
	if o, ok := t.Opts["default"]; ok {
		def = &funcVal{body: o, env: copyVars(ec.vars)}
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	seq := func(yield func(any, error) bool) {
		for row, err := range in.seq {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := ec.filterRow(pred, def, row)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok && !yield(row, nil) {
				return
			}
		}
	}
	return seqOut(in, seq, true)
}

// filterPredicate is filter's second argument: a function, or a value
// taken as a function returning it.
func (ec *evalCtx) filterPredicate(t *Term) (*funcVal, error) {
	return ec.function(t)
}

// filterRow decides whether filter keeps row, as RethinkDB's
// func_t::filter_call: a missing value in the predicate (NON_EXISTENCE)
// makes the row fail, or be what the default says; a default of r.error()
// raises the missing value's error itself.
func (ec *evalCtx) filterRow(pred, def *funcVal, row any) (bool, error) {
	ok, err := ec.applyPredicate(pred, row)
	if err == nil || !isNonExistence(err) {
		return ok, err
	}
	if def == nil {
		return false, nil
	}
	dv, derr := ec.call(def)
	if derr == nil {
		var d any
		if d, derr = asDatum(dv); derr == nil {
			return datumTruthy(d), nil
		}
	}
	var rerr *Error
	if errors.As(derr, &rerr) && rerr.Response == ql2.Response_RUNTIME_ERROR && rerr.Msg == emptyRErrorMsg {
		return false, err
	}
	return false, derr
}

// applyPredicate runs a filter predicate on row. An object literal (or a
// function whose body is one) matches fields, nested objects recursively;
// anything else counts as true unless false or null.
func (ec *evalCtx) applyPredicate(pred *funcVal, row any) (bool, error) {
	res, err := ec.call(pred, row)
	if err != nil {
		return false, err
	}
	d, err := asDatum(res)
	if err != nil {
		return false, err
	}
	if obj, ok := d.(map[string]any); ok && rank(obj) != rankBinary &&
		(pred.body.Type == ql2.Term_MAKE_OBJ || pred.body.Type == ql2.Term_DATUM) {
		return filterMatch(obj, row)
	}
	return datumTruthy(d), nil
}

// filterMatch reports whether value has every field of pred with an equal
// value (objects on both sides compared field by field).
func filterMatch(pred map[string]any, value any) (bool, error) {
	obj, ok := value.(map[string]any)
	if !ok {
		return false, expected("OBJECT", value)
	}
	for _, k := range sortedKeys(pred) {
		want := pred[k]
		got, ok := obj[k]
		if !ok {
			return false, ErrNonExistence("No attribute `%s` in object.", k)
		}
		wo, wantObj := want.(map[string]any)
		_, gotObj := got.(map[string]any)
		if wantObj && gotObj && rank(wo) == rankObject && rank(got) == rankObject {
			match, err := filterMatch(wo, got)
			if err != nil || !match {
				return false, err
			}
			continue
		}
		if !Equal(got, want) {
			return false, nil
		}
	}
	return true, nil
}

// ---------------------------------------------------------------------------
// map

func mapTerm(ec *evalCtx, t *Term) (any, error) {
	nseq := len(t.Args) - 1
	ins := make([]seqIn, nseq)
	for i, a := range t.Args[:nseq] {
		v, err := ec.eval(a)
		if err != nil {
			return nil, err
		}
		if ins[i], err = ec.seqArg(v); err != nil {
			return nil, err
		}
	}
	fv, err := ec.eval(t.Args[nseq])
	if err != nil {
		return nil, err
	}
	f, ok := fv.(*funcVal)
	if !ok {
		return nil, valueTypeError("FUNCTION", fv)
	}
	if n := len(f.params); f.params != nil && n != 0 && n != nseq {
		was := " was"
		if nseq != 1 {
			was = "s were"
		}
		return nil, ErrQueryLogic("The function passed to `map` expects %d argument%s, but %d sequence%s found.",
			n, plural(n), nseq, was)
	}
	apply := func(args ...any) (any, error) {
		v, err := ec.call(f, args...)
		if err != nil {
			return nil, err
		}
		return asDatum(v)
	}
	if nseq == 1 {
		seq := func(yield func(any, error) bool) {
			for row, err := range ins[0].seq {
				if err == nil {
					row, err = apply(row)
				}
				if !yield(row, err) || err != nil {
					return
				}
			}
		}
		return seqOut(ins[0], seq, false)
	}
	// Several sequences: f of their i-th rows, as long as the shortest.
	seq := func(yield func(any, error) bool) {
		nexts := make([]func() (any, error, bool), nseq)
		for i, in := range ins {
			next, stop := iter.Pull2(in.seq)
			defer stop()
			nexts[i] = next
		}
		for {
			args := make([]any, nseq)
			for i, next := range nexts {
				row, err, ok := next()
				if !ok {
					return
				}
				if err != nil {
					yield(nil, err)
					return
				}
				args[i] = row
			}
			row, err := apply(args...)
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
	allArrays := true
	for _, in := range ins {
		allArrays = allArrays && (in.isArr || in.array)
	}
	return seqOut(seqIn{isArr: allArrays}, seq, false)
}
