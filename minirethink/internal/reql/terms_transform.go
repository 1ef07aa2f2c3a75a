package reql

import (
	"errors"
	"iter"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Transforming sequences row by row: filter and map.

func transformTerms(reg termTable) {
	reg.add(ql2.Term_FILTER, termDef{fn: filterTerm, minArgs: 2, maxArgs: 2, opts: []string{"default"}})
	reg.add(ql2.Term_MAP, termDef{fn: mapTerm, minArgs: 2, maxArgs: -1})
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
	if f, ok := v.(Feed); ok {
		return ec.transformFeed(f, func(row any) (bool, any, error) {
			keep, err := ec.filterRow(pred, def, row)
			return keep, row, err
		}), nil
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
	var feed Feed
	for i, a := range t.Args[:nseq] {
		v, err := ec.eval(a)
		if err != nil {
			return nil, err
		}
		if f, ok := v.(Feed); ok && nseq == 1 {
			feed = f
			break
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
	if feed != nil {
		return ec.transformFeed(feed, func(row any) (bool, any, error) {
			out, err := apply(row)
			return err == nil, out, err
		}), nil
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
