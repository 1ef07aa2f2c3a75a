package reql

import (
	"iter"
	"slices"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Document terms, as RethinkDB 2.4's src/rdb_protocol/terms/obj_or_seq.cc,
// obj.cc, arr.cc and pathspec.cc. get_field, bracket, has_fields, pluck,
// without and merge work on an object, or row by row on a sequence: an array
// gives an array, a table or a stream a lazy stream (has_fields, a filter,
// keeps a selection a selection).

func docTerms(reg termTable) {
	reg.add(ql2.Term_GET_FIELD, termDef{fn: getFieldTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_BRACKET, termDef{fn: bracketTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_HAS_FIELDS, termDef{fn: hasFieldsTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_PLUCK, termDef{fn: pluckTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_WITHOUT, termDef{fn: withoutTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_MERGE, termDef{fn: mergeTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_KEYS, termDef{fn: keysTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_VALUES, termDef{fn: valuesTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_OBJECT, termDef{fn: objectTerm, maxArgs: -1})
	reg.add(ql2.Term_CONTAINS, termDef{fn: containsTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_APPEND, termDef{fn: pendTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_PREPEND, termDef{fn: pendTerm, minArgs: 2, maxArgs: 2})
}

// rowOp is how a per-object operation extends to the rows of a sequence.
type rowOp int

const (
	// rowMap: one result per row (pluck, without, merge).
	rowMap rowOp = iota
	// rowFilter: the rows for which the operation is true (has_fields);
	// a row that fails with NON_EXISTENCE is left out.
	rowFilter
	// rowSkipMap: one result per row, rows that fail with NON_EXISTENCE
	// (no such field, a null row) left out (get_field, bracket).
	rowSkipMap
)

// isPseudoObject reports whether an object is a pseudo-type (a time, a
// literal, geometry), which these terms refuse.
func isPseudoObject(o map[string]any) bool {
	_, ok := o["$reql_type$"]
	return ok
}

// lazyScope is the variables a lazily evaluated term sees: those of the
// place the stream was built, not of whoever reads it later.
type lazyScope struct {
	vars     map[float64]any
	implicit []any
}

func (ec *evalCtx) captureScope() lazyScope {
	return lazyScope{vars: ec.vars, implicit: slices.Clone(ec.implicit)}
}

func (ec *evalCtx) inScope(s lazyScope, fn func() error) error {
	vars, implicit := ec.vars, ec.implicit
	ec.vars, ec.implicit = s.vars, s.implicit
	err := fn()
	ec.vars, ec.implicit = vars, implicit
	return err
}

// objectOrRows applies objFn to v when it is an object and to each row when
// it is a sequence, as obj_or_seq_op_impl_t does. name is the term's name in
// messages.
func (ec *evalCtx) objectOrRows(v any, name string, op rowOp,
	objFn func(obj map[string]any) (any, error)) (any, error) {
	_, isFeed := v.(Feed)
	var d any
	if isDatumValue(v) {
		d, _ = asDatum(v)
		if o, ok := d.(map[string]any); ok && rank(o) != rankBinary {
			if isPseudoObject(o) {
				return nil, ErrQueryLogic("Cannot call `%s` on objects of type `%s`.", name, TypeName(o))
			}
			return objFn(o)
		}
		if _, ok := d.([]any); !ok {
			return nil, typedError(d, "Cannot perform %s on a non-object non-sequence `%s`.", name, truncPrint(v))
		}
	} else if !isFeed && !valueConvertible(v, "STREAM") {
		return nil, ErrQueryLogic("Cannot perform %s on a non-object non-sequence `%s`.", name, truncPrint(v))
	}
	applyToRow := func(row any) (any, error) {
		switch r := row.(type) {
		case map[string]any:
			if rank(r) == rankBinary {
				break
			}
			if isPseudoObject(r) {
				return nil, ErrQueryLogic("Cannot call `%s` on objects of type `%s`.", name, TypeName(r))
			}
			return objFn(r)
		case []any:
			return nil, ErrQueryLogic("Cannot perform %s on a sequence of sequences.", name)
		}
		return nil, typedError(row, "Cannot perform %s on a non-object non-sequence `%s`.", name, truncPrint(row))
	}
	perRow := func(row any) (keep bool, out any, err error) {
		out, err = applyToRow(row)
		switch {
		case err != nil && op != rowMap && isNonExistence(err):
			return false, nil, nil
		case err != nil:
			return false, nil, err
		case op == rowFilter:
			return datumTruthy(out), row, nil
		}
		return true, out, nil
	}
	if f, ok := v.(Feed); ok {
		// RethinkDB applies it to every document of the feed
		// (eager_datum_stream_t::add_transformation).
		return ec.transformFeed(f, perRow), nil
	}
	if arr, ok := d.([]any); ok {
		out := make([]any, 0, len(arr))
		for _, row := range arr {
			keep, r, err := perRow(row)
			if err != nil {
				return nil, err
			}
			if keep {
				out = append(out, r)
			}
		}
		return out, nil
	}
	res := &streamVal{seq: ec.lazyRows(v, perRow)}
	if sv, ok := v.(*streamVal); ok {
		res.array = sv.array
		res.sliced = sv.sliced.after(op == rowFilter)
	}
	if op == rowFilter {
		// A filtered selection is still a selection (of that table).
		switch x := v.(type) {
		case *tableVal:
			res.table = x.t
		case *streamVal:
			res.table = x.table
		}
	}
	if res.array && res.table == nil {
		// An array in disguise that is no selection is its array.
		return collectRows(res.seq)
	}
	return res, nil
}

// lazyRows maps the rows of a table or stream through fn as they are read,
// in the scope the stream was built in.
func (ec *evalCtx) lazyRows(src any, fn func(row any) (keep bool, out any, err error)) iter.Seq2[any, error] {
	scope := ec.captureScope()
	return func(yield func(any, error) bool) {
		for row, err := range ec.rows(src) {
			if err != nil {
				yield(nil, err)
				return
			}
			var keep bool
			var out any
			err = ec.inScope(scope, func() error {
				var ferr error
				keep, out, ferr = fn(row)
				return ferr
			})
			if err != nil {
				yield(nil, err)
				return
			}
			if keep && !yield(out, nil) {
				return
			}
		}
	}
}

// fieldOf is datum_t::get_field on an object.
func fieldOf(obj map[string]any, name string) (any, error) {
	v, ok := obj[name]
	if !ok {
		return nil, ErrNonExistence("No attribute `%s` in object:\n%s", name, Print(obj))
	}
	return v, nil
}

func getFieldTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	field := once(func() (string, error) {
		d, err := ec.strictDatum(t.Args[1])
		if err != nil {
			return "", err
		}
		return datumString(d)
	})
	return ec.objectOrRows(v, "get_field", rowSkipMap, func(obj map[string]any) (any, error) {
		name, err := field()
		if err != nil {
			return nil, err
		}
		return fieldOf(obj, name)
	})
}

// bracketTerm is x(y): a field when y is a string, an element when y is a
// number.
func bracketTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	key, err := ec.strictDatum(t.Args[1])
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case float64:
		return ec.nthValue(v, k, "bracket")
	case string:
		return ec.objectOrRows(v, "bracket", rowSkipMap, func(obj map[string]any) (any, error) {
			return fieldOf(obj, k)
		})
	}
	return nil, typedError(key, "Expected NUMBER or STRING as second argument to `bracket` but found %s.",
		TypeName(key))
}

// Paths: the field selectors of has_fields, pluck and without. A path is a
// field name, an array of paths, or an object whose `true` values name
// fields and whose other values are paths inside that field.

type pathKind int

const (
	pathField pathKind = iota
	pathList
	pathNested
)

type pathSpec struct {
	kind   pathKind
	field  string
	list   []pathSpec
	nested map[string]pathSpec
}

func newPathSpec(d any) (pathSpec, error) {
	switch x := d.(type) {
	case string:
		return pathSpec{kind: pathField, field: x}, nil
	case []any:
		list := make([]pathSpec, 0, len(x))
		for _, e := range x {
			p, err := newPathSpec(e)
			if err != nil {
				return pathSpec{}, err
			}
			list = append(list, p)
		}
		return collapsePath(pathSpec{kind: pathList, list: list}), nil
	case map[string]any:
		var fields []pathSpec
		nested := map[string]pathSpec{}
		for _, k := range sortedKeys(x) {
			if b, ok := x[k].(bool); ok && b {
				fields = append(fields, pathSpec{kind: pathField, field: k})
				continue
			}
			p, err := newPathSpec(x[k])
			if err != nil {
				return pathSpec{}, err
			}
			nested[k] = p
		}
		if len(fields) == 0 {
			return pathSpec{kind: pathNested, nested: nested}, nil
		}
		if len(nested) > 0 {
			fields = append(fields, pathSpec{kind: pathNested, nested: nested})
		}
		return collapsePath(pathSpec{kind: pathList, list: fields}), nil
	}
	return pathSpec{}, ErrQueryLogic("Invalid path argument `%s`.", Print(d))
}

func collapsePath(p pathSpec) pathSpec {
	if p.kind == pathList && len(p.list) == 1 {
		return p.list[0]
	}
	return p
}

// pathArgs builds the path of a term's arguments after the first.
func (ec *evalCtx) pathArgs(t *Term) (pathSpec, error) {
	paths := make([]any, 0, len(t.Args)-1)
	for _, a := range t.Args[1:] {
		d, err := ec.strictDatum(a)
		if err != nil {
			return pathSpec{}, err
		}
		paths = append(paths, d)
	}
	return newPathSpec(paths)
}

// projectPath is pluck of one object (pathspec.cc's project). ok is false
// where RethinkDB's project throws: reading a field of a non-object, which
// leaves that nested field out.
func projectPath(d any, p pathSpec, recurse bool) (any, bool) {
	if arr, isArr := d.([]any); isArr && recurse {
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			r, ok := projectPath(e, p, false)
			if !ok {
				return nil, false
			}
			out = append(out, r)
		}
		return out, true
	}
	obj, isObj := d.(map[string]any)
	res := map[string]any{}
	switch p.kind {
	case pathField:
		if !isObj {
			return nil, false
		}
		if v, has := obj[p.field]; has {
			res[p.field] = v
		}
	case pathList:
		for _, sub := range p.list {
			r, ok := projectPath(d, sub, recurse)
			if !ok {
				return nil, false
			}
			for k, v := range r.(map[string]any) {
				res[k] = v
			}
		}
	case pathNested:
		for _, k := range sortedKeys(p.nested) {
			if !isObj {
				return nil, false
			}
			v, has := obj[k]
			if !has {
				continue
			}
			if r, ok := projectPath(v, p.nested[k], true); ok {
				res[k] = r
			}
		}
	}
	return res, true
}

// unprojectPath is without of one object (pathspec.cc's unproject).
func unprojectPath(d any, p pathSpec, recurse bool) (any, bool) {
	if arr, isArr := d.([]any); isArr && recurse {
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			r, ok := unprojectPath(e, p, false)
			if !ok {
				return nil, false
			}
			out = append(out, r)
		}
		return out, true
	}
	obj, isObj := d.(map[string]any)
	if !isObj {
		return nil, false
	}
	res := copyObject(obj, 0)
	removePath(res, p)
	return res, true
}

func removePath(obj map[string]any, p pathSpec) {
	switch p.kind {
	case pathField:
		delete(obj, p.field)
	case pathList:
		for _, sub := range p.list {
			removePath(obj, sub)
		}
	case pathNested:
		for _, k := range sortedKeys(p.nested) {
			if v, has := obj[k]; has {
				if r, ok := unprojectPath(v, p.nested[k], true); ok {
					obj[k] = r
				}
			}
		}
	}
}

// hasPath is has_fields of one object (pathspec.cc's contains): every named
// field present and not null.
func hasPath(d any, p pathSpec) bool {
	obj, isObj := d.(map[string]any)
	switch p.kind {
	case pathField:
		if !isObj {
			return false
		}
		v, has := obj[p.field]
		return has && v != nil
	case pathList:
		for _, sub := range p.list {
			if !hasPath(d, sub) {
				return false
			}
		}
	case pathNested:
		for _, k := range sortedKeys(p.nested) {
			if !isObj {
				return false
			}
			v, has := obj[k]
			if !has || !hasPath(v, p.nested[k]) {
				return false
			}
		}
	}
	return true
}

func hasFieldsTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	paths := once(func() (pathSpec, error) { return ec.pathArgs(t) })
	return ec.objectOrRows(v, "has_fields", rowFilter, func(obj map[string]any) (any, error) {
		p, err := paths()
		if err != nil {
			return nil, err
		}
		return hasPath(obj, p), nil
	})
}

func pluckTerm(ec *evalCtx, t *Term) (any, error) {
	return ec.projectTerm(t, "pluck", projectPath)
}

func withoutTerm(ec *evalCtx, t *Term) (any, error) {
	return ec.projectTerm(t, "without", unprojectPath)
}

// projectTerm is pluck or without of an object or of every row.
func (ec *evalCtx) projectTerm(t *Term, name string, project func(any, pathSpec, bool) (any, bool)) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	paths := once(func() (pathSpec, error) { return ec.pathArgs(t) })
	return ec.objectOrRows(v, name, rowMap, func(obj map[string]any) (any, error) {
		p, err := paths()
		if err != nil {
			return nil, err
		}
		r, _ := project(obj, p, false)
		return r, nil
	})
}

// once evaluates f when first asked and gives the same answer after. The
// arguments of a term applied to every row are evaluated once, as in
// RethinkDB, and only once the input is known to be an object or a
// sequence, so a type error about the input still comes first.
func once[T any](f func() (T, error)) func() (T, error) {
	var (
		done bool
		v    T
		err  error
	)
	return func() (T, error) {
		if !done {
			v, err = f()
			done = true
		}
		return v, err
	}
}

// mergeTerm merges objects, or the results of functions of the document,
// into it; r.literal in them replaces instead of merging.
func mergeTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	return ec.objectOrRows(v, "merge", rowMap, func(obj map[string]any) (any, error) {
		var d any = obj
		for _, a := range t.Args[1:] {
			av, err := ec.evalLiteralOK(a)
			if err != nil {
				return nil, err
			}
			var patch any
			if isDatumValue(av) {
				patch, _ = asDatum(av)
			} else {
				f, err := asFunction(av)
				if err != nil {
					return nil, err
				}
				r, err := ec.callLiteralOK(f, d)
				if err != nil {
					return nil, err
				}
				if patch, err = asDatum(r); err != nil {
					return nil, err
				}
			}
			if o, ok := patch.(map[string]any); ok && isPseudoObject(o) && rank(o) != rankBinary {
				if _, lit := literalValue(o); !lit {
					return nil, ErrQueryLogic("Cannot merge objects of type `%s`.", TypeName(o))
				}
			}
			if d, err = mergeChecked(d, patch); err != nil {
				return nil, err
			}
		}
		return d, nil
	})
}

// objectOnly is the check keys and values make: a plain object.
func objectOnly(name string, d any) (map[string]any, error) {
	o, ok := d.(map[string]any)
	if !ok || isPseudoObject(o) {
		return nil, ErrQueryLogic("Cannot call `%s` on objects of type `%s`.", name, TypeName(d))
	}
	return o, nil
}

func keysTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	o, err := objectOnly("keys", d)
	if err != nil {
		return nil, err
	}
	keys := make([]any, 0, len(o))
	for _, k := range sortedKeys(o) {
		keys = append(keys, k)
	}
	return keys, nil
}

func valuesTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	o, err := objectOnly("values", d)
	if err != nil {
		return nil, err
	}
	values := make([]any, 0, len(o))
	for _, k := range sortedKeys(o) {
		values = append(values, o[k])
	}
	return values, nil
}

// objectTerm is r.object(key, value, ...).
func objectTerm(ec *evalCtx, t *Term) (any, error) {
	if len(t.Args)%2 != 0 {
		return nil, ErrQueryLogic("OBJECT expects an even number of arguments (but found %d).", len(t.Args))
	}
	out := make(map[string]any, len(t.Args)/2)
	for i := 0; i < len(t.Args); i += 2 {
		kd, err := ec.strictDatum(t.Args[i])
		if err != nil {
			return nil, err
		}
		key, err := datumString(kd)
		if err != nil {
			return nil, err
		}
		val, err := ec.strictDatum(t.Args[i+1])
		if err != nil {
			return nil, err
		}
		if old, dup := out[key]; dup {
			return nil, ErrQueryLogic("Duplicate key %s in object.  (got %s and %s as values)",
				Print(key), truncPrint(old), truncPrint(val))
		}
		out[key] = val
	}
	return sanitizePseudoType(out)
}

// sequenceRows is val_t::as_seq: arrays, tables and streams are sequences.
func (ec *evalCtx) sequenceRows(v any, name string) (iter.Seq2[any, error], error) {
	switch x := v.(type) {
	case Feed:
		return nil, errFeedTerm(name)
	case *tableVal, *streamVal:
		return ec.rows(v), nil
	case *singleVal, *dbVal, *funcVal:
		return nil, valueTypeError("SEQUENCE", v)
	case []any:
		return ec.rows(x), nil
	}
	return nil, typedError(v, "Cannot convert %s to SEQUENCE", TypeName(v))
}

// containsTerm: every value is in the sequence (as a bag: contains(1, 1)
// needs two ones) and every predicate holds for some row.
func containsTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	rows, err := ec.sequenceRows(v, "contains")
	if err != nil {
		return nil, err
	}
	var values []any
	var preds []*funcVal
	for _, a := range t.Args[1:] {
		av, err := ec.eval(a)
		if err != nil {
			return nil, err
		}
		if f, ok := av.(*funcVal); ok {
			preds = append(preds, f)
			continue
		}
		d, err := asDatum(av)
		if err != nil {
			return nil, err
		}
		values = append(values, d)
	}
	for row, err := range rows {
		if err != nil {
			return nil, err
		}
		for i, want := range values {
			if Equal(want, row) {
				values = slices.Delete(values, i, i+1)
				break
			}
		}
		for i, f := range preds {
			r, err := ec.call(f, row)
			if err != nil {
				return nil, err
			}
			ok, err := valueTruthy(r)
			if err != nil {
				return nil, err
			}
			if ok {
				preds = slices.Delete(preds, i, i+1)
				break
			}
		}
		if len(values) == 0 && len(preds) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// pendTerm is append and prepend.
func pendTerm(ec *evalCtx, t *Term) (any, error) {
	ad, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	el, err := ec.strictDatum(t.Args[1])
	if err != nil {
		return nil, err
	}
	arr, ok := ad.([]any)
	if !ok {
		return nil, expected("ARRAY", ad)
	}
	if len(arr)+1 > arrayLimit {
		return nil, errArrayLimit()
	}
	if t.Type == ql2.Term_PREPEND {
		return append([]any{el}, arr...), nil
	}
	return append(cloneArray(arr, 1), el), nil
}
