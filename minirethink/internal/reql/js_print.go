package reql

import (
	"math"
	"strconv"
	"strings"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// jsIndexFunction renders an index function as index_status's "query"
// shows it, as RethinkDB 2.4.4 does (reql_func_t::print_js_function in
// rdb_protocol/func.cc): "function(var1) { return <body>; }", the body laid
// out by the pretty printer at 80 columns (pprint.go) from the document
// that RethinkDB's JavaScript printer (pprint/js_pprint.cc) makes of it,
// which this follows term for term:
//   - a field is var1.getField("f") (GET_FIELD, also what index_create(name)
//     makes: _var19.getField("f")) or var1("f") (BRACKET);
//   - terms that chain in JavaScript are chained on their first argument
//     (x.getField(...), x.nth(1), x.do(f) for a one-argument FUNCALL);
//   - the others (arithmetic, comparisons, and/or, branch, ...) are called
//     on r: r.mul(x, -1), r.add(a, b), r.branch(c, a, b);
//   - arrays and objects at the top are r.expr([...]) and r.object("k", v),
//     inside them [...] and {"k": v}; numbers print as C++'s to_string;
//     strings are quoted without escaping, as RethinkDB does;
//   - a nested function is "function (var2) {", a line break, "return
//     ...;", a line break and "}", always (unconditional breaks).
//
// Only the body is laid out, from column 0: what precedes it on the line
// ("indexCreate('name', function(var1) { return ") does not count towards
// the 80 columns, and continuation lines are indented from the body's
// start. A body that fits in 80 columns stays on one line; an array that
// does not breaks after each element's comma, its elements indented under
// the first.
//
// Differences: optional arguments and object keys print in key order
// (RethinkDB: the order they arrived in, which for the Go driver, which
// sends JSON objects with sorted keys, is the same). RethinkDB prints a
// function with captured variables as "non-printable function (captured
// scope not empty)"; index functions have none here.
func jsIndexFunction(f *funcVal) string {
	vars := make([]string, len(f.params))
	for i, p := range f.params {
		vars[i] = jsVarName(p)
	}
	p := &jsPrinter{prependOK: true}
	return "function(" + strings.Join(vars, ", ") + ") { return " + ppPrint(jsWidth, p.visit(f.body)) + "; }"
}

// jsWidth is the width print_js_function lays the body out for.
const jsWidth = 80

// jsPrinter is js_pretty_printer_t: inRExpr is set inside r.expr (where
// datums need no wrapping); prependOK is cleared while rendering the head
// of a chain that gets its "r." once, in front of the whole chain.
type jsPrinter struct {
	depth     int
	prependOK bool
	inRExpr   bool
}

// jsMaxDepth is the printer's crude stack guard: past it every term is
// "...". RethinkDB does not unwind the depth when it hits the guard, so
// neither does this.
const jsMaxDepth = 15

// The printer's fixed pieces.
var (
	jsLParen         = ppText("(")
	jsRParen         = ppText(")")
	jsJustDot        = ppText(".")
	jsCommaLinebreak = ppCat(ppText(","), ppCond{small: " "})
)

func (p *jsPrinter) visit(t *Term) ppDoc {
	old := p.inRExpr
	p.depth++
	if p.depth > jsMaxDepth {
		return ppText("...")
	}
	var doc ppDoc
	switch t.Type {
	case ql2.Term_DATUM:
		doc = p.datum(t.Datum)
		if !p.inRExpr {
			doc = p.rExpr(doc)
		}
	case ql2.Term_FUNCALL:
		// JavaScript users expect .do in suffix position when there is
		// one argument.
		if len(t.Args) == 2 {
			doc = p.chain(t)
		} else {
			doc = p.toplevelFuncall(t)
		}
	case ql2.Term_MAKE_ARRAY:
		p.inRExpr = true
		doc = p.array(t)
		if !old {
			doc = p.rExpr(doc)
		}
	case ql2.Term_MAKE_OBJ:
		p.inRExpr = true
		if old {
			doc = p.naturalObject(t)
		} else {
			doc = p.wrappedObject(t)
		}
	case ql2.Term_FUNC:
		doc = p.function(t)
	case ql2.Term_VAR:
		doc = ppText(jsVarOf(t))
	case ql2.Term_IMPLICIT_VAR:
		doc = p.rDot(ppText("row"))
	default:
		switch {
		case jsChains(t):
			doc = p.chain(t)
		case jsUsesParens(t):
			doc = p.call(t)
		default:
			doc = p.rDot(ppText(jsTermName(t)))
		}
	}
	p.inRExpr = old
	p.depth--
	return doc
}

// rDot is prepend_r_dot: "r" and a nest of "." and doc.
func (p *jsPrinter) rDot(doc ppDoc) ppDoc {
	if !p.prependOK {
		return doc
	}
	return ppCat(ppText("r"), ppNestOf(jsJustDot, doc))
}

func jsWrapParens(doc ppDoc) ppDoc { return ppCat(jsLParen, ppNest{child: doc}, jsRParen) }

func (p *jsPrinter) rExpr(doc ppDoc) ppDoc {
	return p.rDot(ppCat(ppText("expr"), jsWrapParens(doc)))
}

func (p *jsPrinter) array(t *Term) ppDoc {
	old := p.inRExpr
	p.inRExpr = true
	var items ppConcat
	for i, a := range t.Args {
		if i > 0 {
			items = append(items, jsCommaLinebreak)
		}
		items = append(items, p.visit(a))
	}
	p.inRExpr = old
	return ppCat(ppText("["), ppNest{child: items}, ppText("]"))
}

// naturalObject is a MAKE_OBJ as a JavaScript object literal.
func (p *jsPrinter) naturalObject(t *Term) ppDoc {
	var items ppConcat
	for i, k := range sortedKeys(t.Opts) {
		if i > 0 {
			items = append(items, jsCommaLinebreak)
		}
		items = append(items, ppNestOf(ppText(`"`+k+`":`), ppCondLinebreak, p.visit(t.Opts[k])))
	}
	return ppCat(ppText("{"), ppNest{child: items}, ppText("}"))
}

// wrappedObject is a MAKE_OBJ as r.object("key", value, ...).
func (p *jsPrinter) wrappedObject(t *Term) ppDoc {
	var items ppConcat
	for i, k := range sortedKeys(t.Opts) {
		if i > 0 {
			items = append(items, jsCommaLinebreak)
		}
		items = append(items, ppText(`"`+k+`"`), jsCommaLinebreak, p.visit(t.Opts[k]))
	}
	return p.rDot(ppCat(ppText("object"), jsWrapParens(ppNest{child: items})))
}

// optargs are a term's optional arguments, {"name": value, ...}, their
// names as the JavaScript driver spells them (render_optargs).
func (p *jsPrinter) optargs(t *Term) ppDoc {
	var items ppConcat
	for i, k := range sortedKeys(t.Opts) {
		if i > 0 {
			items = append(items, jsCommaLinebreak)
		}
		items = append(items, ppNestOf(ppText(`"`+jsName(k)+`":`), ppCondLinebreak, p.visit(t.Opts[k])))
	}
	return ppCat(ppText("{"), ppNest{child: items}, ppText("}"))
}

// chain renders a term called on its first argument, and that argument's
// own chain: a.b(x).c(y) (string_dots_together). The pieces are collected
// outermost first and reversed.
func (p *jsPrinter) chain(t *Term) ppDoc {
	var stack []ppDoc
	lastIsDot, rWrap := false, false
	v := t
	for v != nil && jsChains(v) {
		v = p.link(v, &stack, &lastIsDot, &rWrap)
	}
	switch {
	case v == nil:
		if rWrap {
			return p.rDot(jsReverse(stack, false))
		}
		return jsReverse(stack, false)
	case jsUsesRDot(v):
		old := p.prependOK
		p.prependOK = false
		head := p.visit(v)
		p.prependOK = old
		return p.rDot(ppCat(head, jsReverse(stack, false)))
	default:
		return ppNestOf(p.visit(v), jsReverse(stack, lastIsDot))
	}
}

// link pushes one term of a chain, reversed, and returns the term it is
// called on, nil when the chain starts here (visit_stringing).
func (p *jsPrinter) link(v *Term, stack *[]ppDoc, lastIsDot, rWrap *bool) *Term {
	push := func(d ...ppDoc) { *stack = append(*stack, d...) }
	old := p.inRExpr
	switch v.Type {
	case ql2.Term_BRACKET:
		push(jsRParen)
		p.inRExpr = true
		if len(v.Opts) > 0 {
			push(p.optargs(v), ppCondLinebreak, ppText(","))
		}
		push(p.visit(v.Args[1]))
		p.inRExpr = old
		push(jsLParen)
		*lastIsDot, *rWrap = false, false
		return v.Args[0]
	case ql2.Term_FUNCALL:
		push(jsRParen)
		p.inRExpr = true
		push(ppNest{child: p.visit(v.Args[0])})
		p.inRExpr = old
		push(jsLParen, ppText("do"), ppDotLinebreak)
		*lastIsDot, *rWrap = true, true
		return v.Args[1]
	case ql2.Term_IMPLICIT_VAR:
		push(ppText("row"))
		*lastIsDot, *rWrap = false, true
		return nil
	}
	push(jsRParen)
	p.inRExpr = true
	trailingComma := false
	if len(v.Opts) > 0 {
		push(p.optargs(v))
		trailingComma = true
	}
	switch len(v.Args) {
	case 0:
		p.inRExpr = old
		push(jsLParen, ppText(jsTermName(v)))
		*lastIsDot, *rWrap = false, jsUsesRDot(v)
		return nil
	case 1:
		p.inRExpr = old
		push(jsLParen, ppText(jsTermName(v)), ppDotLinebreak)
		*lastIsDot, *rWrap = true, jsUsesRDot(v)
		return v.Args[0]
	}
	var args []ppDoc
	for i := len(v.Args) - 1; i > 0; i-- {
		if len(args) > 0 {
			args = append(args, jsCommaLinebreak)
		}
		args = append(args, p.visit(v.Args[i]))
	}
	if trailingComma {
		push(jsCommaLinebreak)
	}
	push(ppNest{child: jsReverse(args, false)})
	p.inRExpr = old
	push(jsLParen, ppText(jsTermName(v)), ppDotLinebreak)
	*lastIsDot, *rWrap = true, jsUsesRDot(v)
	return v.Args[0]
}

// jsReverse is the stack in reading order. With lastIsDot the chain's
// first dot is a plain one, so that the nest starts after it.
func jsReverse(stack []ppDoc, lastIsDot bool) ppDoc {
	out := make(ppConcat, 0, len(stack))
	for i := len(stack) - 1; i >= 0; i-- {
		d := stack[i]
		if lastIsDot && i == len(stack)-1 {
			d = jsJustDot
		}
		out = append(out, d)
	}
	return out
}

// toplevelFuncall is r.do with other than one argument. Its missing comma
// after the function and trailing one after the arguments are RethinkDB's.
func (p *jsPrinter) toplevelFuncall(t *Term) ppDoc {
	old := p.inRExpr
	p.inRExpr = true
	var args ppConcat
	for i, a := range t.Args[1:] {
		if i > 0 {
			args = append(args, jsCommaLinebreak)
		}
		args = append(args, p.visit(a))
	}
	if len(args) > 0 {
		args = append(args, jsCommaLinebreak)
	}
	p.inRExpr = old
	return p.rDot(ppCat(ppText("do"), jsLParen, p.visit(t.Args[0]), ppNest{child: args}, jsRParen))
}

// call is name(args..., {optargs}), on r unless the term is a variable or
// a datum (standard_funcall).
func (p *jsPrinter) call(t *Term) ppDoc {
	old := p.inRExpr
	p.inRExpr = true
	var args ppConcat
	for i, a := range t.Args {
		if i > 0 {
			args = append(args, jsCommaLinebreak)
		}
		args = append(args, p.visit(a))
	}
	if len(t.Opts) > 0 {
		if len(args) > 0 {
			args = append(args, jsCommaLinebreak)
		}
		args = append(args, p.optargs(t))
	}
	doc := ppCat(ppText(jsTermName(t)), jsWrapParens(args))
	p.inRExpr = old
	if jsUsesRDot(t) {
		return p.rDot(doc)
	}
	return ppNest{child: doc}
}

// function is a nested function (to_js_func): "function (var2) {", a line
// break, "return body;", a line break, "}".
func (p *jsPrinter) function(t *Term) ppDoc {
	if len(t.Args) != 2 {
		return ppText("...")
	}
	var arglist ppDoc
	if params := t.Args[0]; params.Type == ql2.Term_MAKE_ARRAY {
		var vars ppConcat
		for i, a := range params.Args {
			if i > 0 {
				vars = append(vars, jsCommaLinebreak)
			}
			vars = append(vars, ppText(jsVarName(a.Datum)))
		}
		arglist = ppCat(jsLParen, ppNest{child: vars}, jsRParen)
	} else if list, ok := params.Datum.([]any); ok && params.Type == ql2.Term_DATUM {
		var vars ppConcat
		for i, a := range list {
			if i > 0 {
				vars = append(vars, jsCommaLinebreak)
			}
			vars = append(vars, ppText(jsVarName(a)))
		}
		arglist = ppCat(jsLParen, ppNest{child: vars}, jsRParen)
	} else {
		arglist = p.visit(params)
	}
	old := p.inRExpr
	p.inRExpr = false
	body := ppCat(ppText("return"), ppText(" "), ppNest{child: p.visit(t.Args[1])}, ppText(";"))
	p.inRExpr = old
	return ppNestOf(ppText("func"),
		ppNestOf(ppText("tion"), ppText(" "), arglist, ppText(" "), ppText("{"), ppBreak{}, body),
		ppBreak{}, ppText("}"))
}

func jsVarOf(t *Term) string {
	if len(t.Args) == 1 {
		return jsVarName(t.Args[0].Datum)
	}
	return "var"
}

// jsVarName is pprint's print_var of lrint(n): variables the server makes
// are negative and print as _varN.
func jsVarName(v any) string {
	n, _ := v.(float64)
	i := jsLrint(n)
	if i < 0 {
		return "_var" + strconv.FormatInt(-i, 10)
	}
	return "var" + strconv.FormatInt(i, 10)
}

// jsLrint is C's lrint: the nearest integer, ties to even; out of range
// it is what x86-64 gives, the smallest int64.
func jsLrint(x float64) int64 {
	r := math.RoundToEven(x)
	if r >= -(1<<63) && r < 1<<63 {
		return int64(r)
	}
	return math.MinInt64
}

// datum is to_js_datum.
func (p *jsPrinter) datum(v any) ppDoc {
	switch x := v.(type) {
	case nil:
		return ppText("null")
	case bool:
		return ppText(strconv.FormatBool(x))
	case float64:
		if x == math.Trunc(x) {
			return ppText(strconv.FormatInt(jsLrint(x), 10))
		}
		return ppText(strconv.FormatFloat(x, 'f', 6, 64)) // std::to_string
	case string:
		// %s of c_str(): the string ends at a NUL.
		if i := strings.IndexByte(x, 0); i >= 0 {
			x = x[:i]
		}
		return ppText(`"` + x + `"`)
	case []any:
		var items ppConcat
		for i, e := range x {
			if i > 0 {
				items = append(items, jsCommaLinebreak)
			}
			items = append(items, p.datum(e))
		}
		return ppCat(ppText("["), ppNest{child: items}, ppText("]"))
	case map[string]any:
		if rank(x) == rankBinary {
			data, _ := x["data"].(string)
			return ppCat(ppText("Buffer"), jsLParen, ppNestOf(ppText(data), jsCommaLinebreak, ppText("'base64'")), jsRParen)
		}
		items := ppConcat{ppText("{")}
		for i, k := range sortedKeys(x) {
			if i > 0 {
				items = append(items, jsCommaLinebreak)
			}
			items = append(items, ppNestOf(ppText(`"`+k+`":`), ppCondLinebreak, p.datum(x[k])))
		}
		items = append(items, ppText("}"))
		return ppNest{child: items}
	case minVal:
		return p.rDot(ppText("minval"))
	case maxVal:
		return p.rDot(ppText("maxval"))
	}
	return ppText("?")
}

// jsName is to_js_name: GET_FIELD is getField.
func jsName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			i++
			if i == len(s) {
				b.WriteByte('_')
				break
			}
			b.WriteString(strings.ToUpper(s[i : i+1]))
			continue
		}
		b.WriteString(strings.ToLower(s[i : i+1]))
	}
	return b.String()
}

func jsTermName(t *Term) string {
	if t.Type == ql2.Term_JAVASCRIPT {
		return "js"
	}
	name, ok := ql2.Term_TermType_name[int32(t.Type)]
	if !ok {
		return "term" + strconv.Itoa(int(t.Type))
	}
	return jsName(name)
}

func jsUsesRDot(t *Term) bool {
	return t.Type != ql2.Term_VAR && t.Type != ql2.Term_DATUM
}

// jsChains is should_continue_string: the terms JavaScript writes as
// methods of their first argument.
func jsChains(t *Term) bool {
	switch t.Type {
	case ql2.Term_TABLE, ql2.Term_FUNCALL:
		return len(t.Args) == 2
	case ql2.Term_ERROR, ql2.Term_UUID, ql2.Term_HTTP, ql2.Term_DB, ql2.Term_EQ, ql2.Term_NE,
		ql2.Term_LT, ql2.Term_LE, ql2.Term_GT, ql2.Term_GE, ql2.Term_NOT, ql2.Term_ADD, ql2.Term_SUB,
		ql2.Term_MUL, ql2.Term_DIV, ql2.Term_MOD, ql2.Term_BIT_AND, ql2.Term_BIT_OR, ql2.Term_BIT_XOR,
		ql2.Term_BIT_NOT, ql2.Term_BIT_SAL, ql2.Term_BIT_SAR, ql2.Term_OBJECT, ql2.Term_RANGE,
		ql2.Term_DB_CREATE, ql2.Term_DB_DROP, ql2.Term_DB_LIST, ql2.Term_BRANCH, ql2.Term_OR,
		ql2.Term_AND, ql2.Term_JSON, ql2.Term_ISO8601, ql2.Term_EPOCH_TIME, ql2.Term_NOW,
		ql2.Term_TIME, ql2.Term_LITERAL, ql2.Term_RANDOM, ql2.Term_GEOJSON, ql2.Term_POINT,
		ql2.Term_LINE, ql2.Term_POLYGON, ql2.Term_CIRCLE, ql2.Term_DATUM, ql2.Term_VAR,
		ql2.Term_MAKE_ARRAY, ql2.Term_MAKE_OBJ, ql2.Term_ARGS, ql2.Term_JAVASCRIPT, ql2.Term_ASC,
		ql2.Term_DESC, ql2.Term_MINVAL, ql2.Term_MAXVAL:
		return false
	}
	return !jsConstant(t)
}

// jsConstant reports the terms printed without parentheses (r.minval,
// r.monday, ...). They are also excluded from chaining.
func jsConstant(t *Term) bool {
	switch t.Type {
	case ql2.Term_MONDAY, ql2.Term_TUESDAY, ql2.Term_WEDNESDAY, ql2.Term_THURSDAY, ql2.Term_FRIDAY,
		ql2.Term_SATURDAY, ql2.Term_SUNDAY, ql2.Term_JANUARY, ql2.Term_FEBRUARY, ql2.Term_MARCH,
		ql2.Term_APRIL, ql2.Term_MAY, ql2.Term_JUNE, ql2.Term_JULY, ql2.Term_AUGUST,
		ql2.Term_SEPTEMBER, ql2.Term_OCTOBER, ql2.Term_NOVEMBER, ql2.Term_DECEMBER:
		return true
	}
	return false
}

// jsUsesParens is should_use_parens.
func jsUsesParens(t *Term) bool {
	if len(t.Args) > 0 {
		return true
	}
	switch t.Type {
	case ql2.Term_MINVAL, ql2.Term_MAXVAL, ql2.Term_IMPLICIT_VAR:
		return false
	}
	return !jsConstant(t)
}
