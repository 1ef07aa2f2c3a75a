package reql

import (
	"iter"
	"slices"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Ordering: order_by, r.asc and r.desc, by an index walk or in memory.

func orderTerms(reg termTable) {
	reg.add(ql2.Term_ASC, termDef{fn: orderDirectionTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_DESC, termDef{fn: orderDirectionTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_ORDER_BY, termDef{fn: orderByTerm, minArgs: 1, maxArgs: -1, opts: []string{"index"}})
}

// orderDirectionTerm is r.asc(x) and r.desc(x): x itself. order_by reads
// the direction from the term, as RethinkDB does.
func orderDirectionTerm(ec *evalCtx, t *Term) (any, error) { return ec.eval(t.Args[0]) }

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
		if _, isFeed := v.(Feed); !isFeed {
			if _, err := ec.seqArg(v); err != nil {
				return nil, err
			}
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
	if _, isFeed := v.(Feed); isFeed {
		return nil, errInfiniteTerminal
	}
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
