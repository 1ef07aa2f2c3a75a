package reql

import (
	"encoding/base64"
	"iter"
	"math"
	"slices"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Slicing sequences: limit, skip, slice and nth.

func sliceTerms(reg termTable) {
	reg.add(ql2.Term_LIMIT, termDef{fn: limitTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_SKIP, termDef{fn: skipTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_SLICE, termDef{fn: sliceTerm, minArgs: 2, maxArgs: 3, opts: []string{"left_bound", "right_bound"}})
	reg.add(ql2.Term_NTH, termDef{fn: nthTerm, minArgs: 2, maxArgs: 2})
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
		return markSliced(lv, nil)
	}
	if in.isArr {
		return slices.Clip(in.arr[:min(n, len(in.arr))]), nil
	}
	return markSliced(seqOut(in, takeRows(in.seq, 0, n), true))
}

// markSliced records a limit or slice on the stream it made.
func markSliced(v any, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if sv, ok := v.(*streamVal); ok && sv.sliced == notSliced {
		sv.sliced = sliced
	}
	return v, nil
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
		return nil, errFeedTerm("slice")
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
		return markSliced(seqOut(in, takeRows(in.seq, 0, 0), true))
	}
	n := -1
	if hi != math.MaxInt64 {
		n = int(min(hi-lo, math.MaxInt32))
		// slice(0, n) of a range is limit(n): it keeps the range.
		if lo == 0 {
			if lv, ok := ec.limitRange(v, n); ok {
				return markSliced(lv, nil)
			}
		}
	}
	return markSliced(seqOut(in, takeRows(in.seq, int(min(lo, math.MaxInt32)), n), true))
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
		return nil, errFeedTerm(name)
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
