package reql

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Term is a parsed ReQL term: [type, [args...], {optargs}], or a datum.
type Term struct {
	Type  ql2.Term_TermType
	Args  []*Term
	Opts  map[string]*Term
	Datum any // only for DATUM
}

// parseTerm turns decoded query JSON into a Term. In the JSON protocol an
// array is always a term ([type, args, opts]), an object is MAKE_OBJ whose
// values are terms, and anything else is a datum.
func parseTerm(raw any, depth int) (*Term, error) {
	if depth > maxTermDepth {
		return nil, ErrCompile("Query is too deeply nested (more than %d levels).", maxTermDepth)
	}
	switch x := raw.(type) {
	case []any:
		if len(x) < 1 || len(x) > 3 {
			return nil, ErrClient("Expected a term of the form [type, args, optargs] but found an array of %d elements.", len(x))
		}
		n, ok := x[0].(float64)
		if !ok || n != math.Trunc(n) || n < 0 || n > math.MaxInt32 {
			return nil, ErrClient("Expected a term type number but found %s.", Print(x[0]))
		}
		t := &Term{Type: ql2.Term_TermType(n)}
		if len(x) >= 2 {
			args, ok := x[1].([]any)
			if !ok {
				return nil, ErrClient("Expected the arguments of a term to be an array but found %s.", TypeName(x[1]))
			}
			for _, a := range args {
				at, err := parseTerm(a, depth+1)
				if err != nil {
					return nil, err
				}
				t.Args = append(t.Args, at)
			}
		}
		if len(x) == 3 {
			opts, ok := x[2].(map[string]any)
			if !ok {
				return nil, ErrClient("Expected the optional arguments of a term to be an object but found %s.", TypeName(x[2]))
			}
			t.Opts = make(map[string]*Term, len(opts))
			for k, o := range opts {
				ot, err := parseTerm(o, depth+1)
				if err != nil {
					return nil, err
				}
				t.Opts[k] = ot
			}
		}
		if t.Type == ql2.Term_DATUM {
			if len(t.Args) != 1 || t.Args[0].Type != ql2.Term_DATUM {
				return nil, ErrClient("A DATUM term takes exactly one datum argument.")
			}
			return t.Args[0], nil
		}
		return t, nil
	case map[string]any:
		t := &Term{Type: ql2.Term_MAKE_OBJ, Opts: make(map[string]*Term, len(x))}
		for k, v := range x {
			vt, err := parseTerm(v, depth+1)
			if err != nil {
				return nil, err
			}
			t.Opts[k] = vt
		}
		return t, nil
	default:
		return &Term{Type: ql2.Term_DATUM, Datum: raw}, nil
	}
}

const maxTermDepth = 512

// termName is how error messages name a term type: "Term SPLIT".
func termName(tt ql2.Term_TermType) string {
	if n, ok := ql2.Term_TermType_name[int32(tt)]; ok {
		return "Term " + n
	}
	return fmt.Sprintf("Term type %d", tt)
}

// Non-datum values a term can evaluate to. Datums are plain Go values (see
// datum.go); everything else is one of these pointer types.
type (
	dbVal struct{ name string }
	// tableVal is a whole table: a selection that can be read, written, and
	// indexed with between/get_all/order_by.
	tableVal struct{ t *Table }
	// singleVal is one document of a table (SELECTION<OBJECT>), e.g. get's
	// result; doc is nil when no document has that key.
	singleVal struct {
		t   *Table
		pk  any
		doc map[string]any
	}
	// streamVal is a lazy sequence of rows. When table is set the rows are
	// whole documents of that table (a selection, so writes may follow). When
	// rng is set the stream is still an index range of the table, which is
	// what ordered limits and changefeeds are built from.
	streamVal struct {
		table *Table
		rng   *rangeSpec
		seq   iter.Seq2[any, error]
		// array marks an array in disguise: the rows of an in-memory sort
		// and what is built on them (RethinkDB's array_datum_stream_t and
		// streams whose is_array() holds). A selection of one is a
		// SELECTION<ARRAY> and goes out as SUCCESS_ATOM.
		array bool
		// sliced records a limit, skip or slice in the stream's making
		// and what followed it, for changes' refusals.
		sliced sliceState
		// getAll is set on get_all's selection, which changes follows.
		getAll *getAllSpec
	}
	funcVal struct {
		params []float64
		body   *Term
		// env holds the variables captured where the function was made.
		env map[float64]any
	}
)

// sliceState is what a stream did after a limit or slice: RethinkDB's
// slice_datum_stream_t::get_changespecs lets filters follow one, and
// refuses a changefeed on any other transformation after it.
type sliceState uint8

const (
	notSliced sliceState = iota
	// sliced: a limit or slice, then only filters.
	sliced
	// slicedThenMapped: a limit or slice, then a map, pluck, merge, ...
	slicedThenMapped
)

// after is the state of a stream made from one in state s by a filter
// (filtering) or another transformation.
func (s sliceState) after(filtering bool) sliceState {
	if s == sliced && !filtering {
		return slicedThenMapped
	}
	return s
}

// rangeSpec is a stream that is a range of one of a table's indexes,
// optionally in index order and limited.
type rangeSpec struct {
	index    string // the index name; the primary key's name for the primary index
	lo, hi   any    // bounds; minVal{} / maxVal{} when unbounded
	loOpen   bool   // left bound excluded
	hiClosed bool   // right bound included
	ordered  bool   // order_by({index}) applied
	desc     bool
	limit    int // -1 when unlimited
}

// typeName is r.typeOf's name of any value.
func typeName(v any) string {
	switch x := v.(type) {
	case *dbVal:
		return "DB"
	case *tableVal:
		return "TABLE"
	case *singleVal:
		return "SELECTION<OBJECT>"
	case *streamVal:
		switch {
		case isTableSlice(x):
			return "TABLE_SLICE"
		case x.table != nil && x.array:
			return "SELECTION<ARRAY>"
		case x.table != nil:
			return "SELECTION<STREAM>"
		}
		return "STREAM"
	case *funcVal:
		return "FUNCTION"
	case Feed:
		return "STREAM"
	}
	return TypeName(v)
}

// isTableSlice: a between or order_by({index}) of a table, not yet limited,
// which RethinkDB keeps as a table_slice_t (sort.cc returns it as it is for
// order_by({index})).
func isTableSlice(x *streamVal) bool {
	return x.table != nil && x.rng != nil && x.rng.limit < 0
}

// Values as RethinkDB's val_t sees them (src/rdb_protocol/val.cc): one
// name, one printed form and one datum conversion for every term.

// valueRawType is val_t::type_t::name(), the kind of a value as "Expected
// type X but found Y:" names it.
func valueRawType(v any) string {
	switch x := v.(type) {
	case *dbVal:
		return "DATABASE"
	case *tableVal:
		return "TABLE"
	case *singleVal:
		return "SINGLE_SELECTION"
	case *streamVal:
		switch {
		case isTableSlice(x):
			return "TABLE_SLICE"
		case x.table != nil:
			return "SELECTION"
		}
		return "SEQUENCE"
	case *funcVal:
		return "FUNCTION"
	case Feed:
		return "SEQUENCE"
	}
	return "DATUM"
}

// valuePrint is val_t::print(): a datum as JSON, anything else by a short
// description.
func valuePrint(v any) string {
	switch x := v.(type) {
	case *dbVal:
		return `db("` + x.name + `")`
	case *tableVal:
		return `table("` + x.t.name + `")`
	case *singleVal:
		return Print(nullable(x.doc))
	case *streamVal:
		if x.table != nil {
			return "SELECTION ON table(" + x.table.name + ")"
		}
	case *funcVal, Feed:
	default:
		return Print(v)
	}
	return "VALUE " + valueRawType(v)
}

// truncPrint is trunc_print(): valuePrint cut to 300 bytes.
func truncPrint(v any) string {
	const truncLen = 300
	s := valuePrint(v)
	if len(s) > truncLen {
		s = s[:truncLen-3] + "..."
	}
	return s
}

// isDatumValue reports whether v converts to a datum (val_t's
// is_convertible(DATUM)): datums and single-document selections.
func isDatumValue(v any) bool {
	switch v.(type) {
	case *dbVal, *tableVal, *streamVal, *funcVal, Feed:
		return false
	}
	return true
}

// asDatum is val_t::as_datum: a datum, or a single selection's document; a
// table or stream is a type error, not an array (unlike evalCtx.toDatum).
func asDatum(v any) (any, error) {
	if sv, ok := v.(*singleVal); ok {
		return nullable(sv.doc), nil
	}
	if !isDatumValue(v) {
		return nil, valueTypeError("DATUM", v)
	}
	return v, nil
}

// strictDatum evaluates t and requires a datum (asDatum).
func (ec *evalCtx) strictDatum(t *Term) (any, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, err
	}
	return asDatum(v)
}

// valueTypeError is rcheck_literal_type's "Expected type X but found Y:"
// followed by the value: typed like any error about a datum when v is one
// (a missing document is NON_EXISTENCE), QUERY_LOGIC otherwise.
func valueTypeError(want string, v any) *Error {
	var culprit any = v
	if isDatumValue(v) {
		culprit, _ = asDatum(v)
	}
	return typedError(culprit, "Expected type %s but found %s:\n%s", want, valueRawType(v), valuePrint(v))
}

// typedError is rfail_typed_target on a datum: a failure caused by a null is
// NON_EXISTENCE (so that default and filter treat it as a missing value),
// any other QUERY_LOGIC.
func typedError(culprit any, format string, args ...any) *Error {
	if culprit == nil {
		return ErrNonExistence(format, args...)
	}
	return ErrQueryLogic(format, args...)
}

// isNonExistence reports whether err is a runtime NON_EXISTENCE error: a
// missing field or a null where a value was needed.
func isNonExistence(err error) bool {
	var rerr *Error
	return errors.As(err, &rerr) && rerr.Response == ql2.Response_RUNTIME_ERROR &&
		rerr.Type == ql2.Response_NON_EXISTENCE
}

// errArrayLimit is the array_limit error (the default limit; the global
// option is not honoured).
func errArrayLimit() *Error {
	return errRuntime(ql2.Response_RESOURCE_LIMIT, "Array over size limit `%d`.", arrayLimit)
}

// selectRow is a row of a selection as a single-document selection, so
// that it can still be written to, or the row itself.
func selectRow(tb *Table, row any) any {
	doc, ok := row.(map[string]any)
	if tb == nil || !ok {
		return row
	}
	return &singleVal{t: tb, pk: doc[tb.primaryKey], doc: doc}
}

// copyVars copies bound variables for a closure or a lazy evaluation.
func copyVars(vars map[float64]any) map[float64]any {
	if len(vars) == 0 {
		return nil
	}
	out := make(map[float64]any, len(vars))
	for k, v := range vars {
		out[k] = v
	}
	return out
}

// termDef is the implementation of one term type.
type termDef struct {
	fn func(ec *evalCtx, t *Term) (any, error)
	// minArgs and maxArgs bound the positional arguments; maxArgs -1 means
	// any number.
	minArgs, maxArgs int
	// opts are the optional arguments the term accepts. Any other is a
	// compile error, as in RethinkDB; options RethinkDB has but we do not
	// support are rejected by the term itself with ErrUnsupported.
	opts []string
	// writes marks terms that change data or schema: a query containing one
	// runs under the engine's write lock.
	writes bool
}

// termTable maps each implemented term to its definition.
type termTable map[ql2.Term_TermType]termDef

// terms is every implemented term, registered group by group in one
// explicit list (as miniredis registers its command groups), not by an
// init function per file: which groups exist, and where, is read here. It
// is filled by this package's only init because the term functions refer
// back to the table (eval looks terms up), which a variable initializer
// cannot.
var terms termTable

func init() {
	terms = newTermTable(
		coreTerms,      // terms_core.go: arrays, objects, functions, variables, do
		exprTerms,      // terms_expr.go: comparisons, logic, branch, error, default, ...
		mathTerms,      // terms_math.go: arithmetic
		timeTerms,      // terms_time.go: times, time zones, ISO 8601
		docTerms,       // terms_doc.go: fields, pluck, merge, ...
		readTerms,      // terms_read.go: sequences, index ranges, r.minval, r.maxval
		selectTerms,    // terms_select.go: get_all, between
		orderTerms,     // terms_order.go: order_by, asc, desc
		sliceTerms,     // terms_slice.go: limit, skip, slice, nth
		aggregateTerms, // terms_aggregate.go: count, is_empty
		transformTerms, // terms_transform.go: filter, map
		writeTerms,     // terms_write.go: insert, update, replace, delete
		adminTerms,     // terms_admin.go: databases, tables, indexes
		feedTerms,      // feed.go: changes
	)
}

func newTermTable(groups ...func(termTable)) termTable {
	reg := termTable{}
	for _, group := range groups {
		group(reg)
	}
	return reg
}

// add registers one term; a term registered twice is a programming error.
func (reg termTable) add(tt ql2.Term_TermType, d termDef) {
	if _, dup := reg[tt]; dup {
		panic("reql: term registered twice: " + termName(tt))
	}
	reg[tt] = d
}

// check validates a parsed query before anything runs: known terms, arity,
// optional arguments. It reports whether the query writes.
func check(t *Term) (writes bool, err error) {
	if t.Type == ql2.Term_DATUM {
		return false, nil
	}
	d, ok := terms[t.Type]
	if !ok {
		if _, known := ql2.Term_TermType_name[int32(t.Type)]; known {
			return false, ErrUnsupported(termName(t.Type))
		}
		return false, ErrCompile("Unknown term type %d.", t.Type)
	}
	if t.Type != ql2.Term_MAKE_OBJ {
		if len(t.Args) < d.minArgs || (d.maxArgs >= 0 && len(t.Args) > d.maxArgs) {
			return false, ErrCompile("%s", arityMessage(d.minArgs, d.maxArgs, len(t.Args)))
		}
		for k := range t.Opts {
			if !contains(d.opts, k) {
				return false, ErrCompile("Unrecognized optional argument `%s`.", k)
			}
		}
	}
	writes = d.writes
	for _, a := range t.Args {
		w, err := check(a)
		if err != nil {
			return false, err
		}
		writes = writes || w
	}
	for _, o := range t.Opts {
		w, err := check(o)
		if err != nil {
			return false, err
		}
		writes = writes || w
	}
	return writes, nil
}

func arityMessage(lo, hi, got int) string {
	switch {
	case lo == hi:
		return fmt.Sprintf("Expected %d argument%s but found %d.", lo, plural(lo), got)
	case hi < 0:
		return fmt.Sprintf("Expected %d or more arguments but found %d.", lo, got)
	default:
		return fmt.Sprintf("Expected between %d and %d arguments but found %d.", lo, hi, got)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// evalCtx is the state of one query's evaluation.
type evalCtx struct {
	ctx context.Context
	m   *Memory
	// now is r.now() for the whole query, as RethinkDB evaluates it once.
	now float64
	// db is the default database (the query's db global optarg, or "test").
	db string
	// vars are the bound function parameters, implicit the r.row stack.
	vars     map[float64]any
	implicit []any
	// deterministic is set while evaluating a write function that must be
	// deterministic (update/replace without non_atomic).
	deterministic bool
	// literalOK is RethinkDB's LITERAL_OK evaluation flag for the next term
	// eval evaluates, termLiteralOK that of the term eval is starting: only
	// make_obj (which passes it on to its values) and literal read it,
	// before they evaluate anything else. merge and update set it
	// (evalLiteralOK, callLiteralOK); every other term evaluates its
	// arguments without it, as in RethinkDB.
	literalOK, termLiteralOK bool
	// changefeedQueueSize is the query's changefeed_queue_size global
	// optional argument, 0 when absent.
	changefeedQueueSize int
	// feeds are the changefeeds the query opened; Run closes those it does
	// not return (see abandonFeeds).
	feeds []*changeFeed
}

// eval evaluates a term to a value.
func (ec *evalCtx) eval(t *Term) (any, error) {
	literalOK := ec.literalOK
	ec.literalOK = false
	if t.Type == ql2.Term_DATUM {
		return t.Datum, nil
	}
	if err := ec.ctx.Err(); err != nil {
		return nil, ErrOpFailed("Query interrupted: %v.", err)
	}
	d, ok := terms[t.Type]
	if !ok { // check() already refused it; this keeps eval total
		return nil, ErrUnsupported(termName(t.Type))
	}
	ec.termLiteralOK = literalOK
	return d.fn(ec, t)
}

// evalLiteralOK evaluates t with the LITERAL_OK flag: r.literal may appear
// in it, directly or in the values of an object literal.
func (ec *evalCtx) evalLiteralOK(t *Term) (any, error) {
	ec.literalOK = true
	return ec.eval(t)
}

// datum evaluates t and requires a datum; streams become arrays (as RethinkDB
// coerces them), selections of one document become the document.
func (ec *evalCtx) datum(t *Term) (any, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, err
	}
	return ec.toDatum(v)
}

// toDatum converts a value to a datum where ReQL would.
func (ec *evalCtx) toDatum(v any) (any, error) {
	switch x := v.(type) {
	case *singleVal:
		if x.doc == nil {
			return nil, nil
		}
		return x.doc, nil
	case *tableVal, *streamVal:
		var out []any
		for row, err := range ec.rows(v) {
			if err != nil {
				return nil, err
			}
			if len(out) >= arrayLimit {
				return nil, errArrayLimit()
			}
			out = append(out, row)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	case *dbVal, *funcVal, Feed:
		return nil, valueTypeError("DATUM", v)
	}
	return v, nil
}

// arrayLimit is RethinkDB's default array_limit.
const arrayLimit = 100000

// rows iterates a sequence value: a table, a stream or an array datum.
func (ec *evalCtx) rows(v any) iter.Seq2[any, error] {
	switch x := v.(type) {
	case *tableVal:
		return func(yield func(any, error) bool) {
			x.t.rows.Ascend(func(e docEntry) bool { return yield(e.doc, nil) })
		}
	case *streamVal:
		return x.seq
	case []any:
		return func(yield func(any, error) bool) {
			for _, e := range x {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
	return func(yield func(any, error) bool) {
		yield(nil, ErrQueryLogic("Cannot convert %s to SEQUENCE", typeName(v)))
	}
}

// isSequence reports whether v can be iterated by rows.
func isSequence(v any) bool {
	switch v.(type) {
	case *tableVal, *streamVal, []any:
		return true
	}
	return false
}

// Typed arguments, converted as val_t's as_num, as_int and as_str do: the
// argument must be a datum (a table is not an array here), then of the type.

func (ec *evalCtx) number(t *Term) (float64, error) {
	d, err := ec.strictDatum(t)
	if err != nil {
		return 0, err
	}
	return datumNumber(d)
}

func (ec *evalCtx) integer(t *Term) (int, error) {
	f, err := ec.number(t)
	if err != nil {
		return 0, err
	}
	i, err := checkedInt(f)
	return int(i), err
}

func (ec *evalCtx) str(t *Term) (string, error) {
	d, err := ec.strictDatum(t)
	if err != nil {
		return "", err
	}
	return datumString(d)
}

// truthy evaluates a boolean argument as val_t::as_bool reads one: anything
// but false and null is true.
func (ec *evalCtx) truthy(t *Term) (bool, error) {
	v, err := ec.eval(t)
	if err != nil {
		return false, err
	}
	return valueTruthy(v)
}

// expected is datum_t::check_type's error about a datum: "Expected type
// NUMBER but found STRING.", NON_EXISTENCE when the datum is null. A value
// that is not a datum (a table where a number was wanted) gets
// valueTypeError's message instead, as val_t::as_datum would give it.
func expected(want string, got any) *Error {
	if !isDatumValue(got) {
		return valueTypeError("DATUM", got)
	}
	if sv, ok := got.(*singleVal); ok {
		got = nullable(sv.doc)
	}
	return typedError(got, "Expected type %s but found %s.", want, TypeName(got))
}

// optString returns a string optarg, or def when absent.
func (ec *evalCtx) optString(t *Term, name, def string) (string, error) {
	o, ok := t.Opts[name]
	if !ok {
		return def, nil
	}
	return ec.str(o)
}

// function evaluates t to a function: a function, or a datum standing for
// the function that returns it (asFunction).
func (ec *evalCtx) function(t *Term) (*funcVal, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, err
	}
	return asFunction(v)
}

// call applies f to args as func.cc's reql_func_t::call does: a function
// declared with no parameters takes any arguments and ignores them. A call
// with one argument also binds r.row.
func (ec *evalCtx) call(f *funcVal, args ...any) (any, error) {
	return ec.callFlags(f, false, args)
}

// callLiteralOK is call with the LITERAL_OK flag for f's body, as merge and
// update call their functions (func_t::call(env, args, LITERAL_OK)).
func (ec *evalCtx) callLiteralOK(f *funcVal, args ...any) (any, error) {
	return ec.callFlags(f, true, args)
}

func (ec *evalCtx) callFlags(f *funcVal, literalOK bool, args []any) (any, error) {
	if f.params != nil && len(f.params) == 0 {
		args = nil
	}
	if f.params != nil && len(f.params) != len(args) {
		return nil, ErrQueryLogic("Expected function with %d argument%s but found function with %d argument%s.",
			len(args), plural(len(args)), len(f.params), plural(len(f.params)))
	}
	saved := ec.vars
	ec.vars = make(map[float64]any, len(f.env)+len(f.params))
	for k, v := range f.env {
		ec.vars[k] = v
	}
	for i, p := range f.params {
		ec.vars[p] = args[i]
	}
	pushed := len(args) == 1
	if pushed {
		ec.implicit = append(ec.implicit, args[0])
	}
	ec.literalOK = literalOK
	v, err := ec.eval(f.body)
	if pushed {
		ec.implicit = ec.implicit[:len(ec.implicit)-1]
	}
	ec.vars = saved
	return v, err
}

// callDatum applies f and requires a datum result.
func (ec *evalCtx) callDatum(f *funcVal, args ...any) (any, error) {
	v, err := ec.call(f, args...)
	if err != nil {
		return nil, err
	}
	return ec.toDatum(v)
}

// table resolves a table value for terms that need one.
func (ec *evalCtx) tableArg(t *Term) (*Table, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, err
	}
	tv, ok := v.(*tableVal)
	if !ok {
		return nil, valueTypeError("TABLE", v)
	}
	return tv.t, nil
}

// lookupTable finds db.table, with RethinkDB's messages when missing.
func (m *Memory) lookupTable(dbName, name string) (*Table, error) {
	if dbName == systemDB {
		return m.systemTable(name)
	}
	d, err := m.adminDatabase(dbName)
	if err != nil {
		return nil, err
	}
	t, ok := d.tables[name]
	if !ok {
		return nil, ErrOpFailed("Table `%s.%s` does not exist.", dbName, name)
	}
	if len(d.dupTables[name]) > 0 {
		return nil, errAmbiguousTable(dbName, name)
	}
	return t, nil
}

// validName: RethinkDB names are [A-Za-z0-9_-]+.
func validName(kind, name string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) >= 0 {
		return ErrQueryLogic("%s name `%s` invalid (Use A-Z, a-z, 0-9, _ and - only).", kind, name)
	}
	return nil
}
