package reql

import (
	"slices"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Selecting rows by key: get_all and between (see terms_read.go for the
// streams and index ranges they make).

func selectTerms(reg termTable) {
	reg.add(ql2.Term_GET_ALL, termDef{fn: getAllTerm, minArgs: 1, maxArgs: -1, opts: []string{"index"}})
	betweenOpts := []string{"index", "left_bound", "right_bound"}
	reg.add(ql2.Term_BETWEEN, termDef{fn: betweenTerm, minArgs: 3, maxArgs: 3, opts: betweenOpts})
	reg.add(ql2.Term_BETWEEN_DEPRECATED, termDef{fn: betweenDeprecatedTerm, minArgs: 3, maxArgs: 3, opts: betweenOpts})
}

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
	type wanted = getAllKey
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
	return &streamVal{table: tb, seq: seq, getAll: &getAllSpec{index: name, ix: ix, keys: keys}}, nil
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
